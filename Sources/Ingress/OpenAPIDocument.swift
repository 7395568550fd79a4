/// The OpenAPI 3.1 description of the whole HTTP surface, served at `/openapi.json`.
///
/// One literal, kept beside the routes: a route added without its entry here fails the
/// schemathesis run (`scripts/fuzz-openapi`), which checks every answer against this document.
/// Features that add routes (batches, files, webhooks) add their paths and schemas here.
enum OpenAPIDocument {
    static let json = #"""
{
  "openapi": "3.1.0",
  "info": {
    "title": "Sluice",
    "version": "1",
    "description": "Self-hosted asynchronous LLM job broker. Authenticate with 'Authorization: Bearer sk-sluice-…'."
  },
  "servers": [{"url": "/"}],
  "security": [{"bearer": []}],
  "paths": {
    "/healthz": {
      "get": {
        "operationId": "healthz", "security": [],
        "responses": {"200": {"description": "Alive.", "content": {"application/json": {"schema": {"type": "object", "required": ["status"], "properties": {"status": {"const": "ok"}}}}}}}
      }
    },
    "/readyz": {
      "get": {
        "operationId": "readyz", "security": [],
        "responses": {
          "200": {"description": "Every check passes.", "content": {"application/json": {"schema": {"type": "object"}}}},
          "503": {"description": "A check fails.", "content": {"application/json": {"schema": {"type": "object"}}}}
        }
      }
    },
    "/metrics": {
      "get": {
        "operationId": "metrics", "security": [],
        "responses": {"200": {"description": "Prometheus text exposition (when metrics are on).", "content": {"text/plain": {"schema": {"type": "string"}}}}}
      }
    },
    "/openapi.json": {
      "get": {
        "operationId": "openapi", "security": [],
        "responses": {"200": {"description": "This document.", "content": {"application/json": {"schema": {"type": "object"}}}}}
      }
    },
    "/v1/jobs": {
      "post": {
        "operationId": "createJob",
        "parameters": [
          {"name": "Idempotency-Key", "in": "header", "required": false, "schema": {"type": "string", "maxLength": 255}}
        ],
        "requestBody": {"required": true, "content": {"application/json": {
          "schema": {"$ref": "#/components/schemas/JobRequest"},
          "example": {"model": "demo", "messages": [{"role": "user", "content": "Say hello."}], "metadata": {"team": "docs"}}
        }}},
        "responses": {
          "202": {
            "description": "Queued (or the job an Idempotency-Key already names).",
            "headers": {"Location": {"schema": {"type": "string"}}},
            "links": {
              "GetJob": {"operationId": "getJob", "parameters": {"id": "$response.body#/id"}},
              "CancelJob": {"operationId": "cancelJob", "parameters": {"id": "$response.body#/id"}}
            },
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Job"}}}
          },
          "400": {"$ref": "#/components/responses/Error"},
          "401": {"$ref": "#/components/responses/Error"},
          "403": {"$ref": "#/components/responses/Error"},
          "409": {"$ref": "#/components/responses/Error"},
          "413": {"$ref": "#/components/responses/Error"},
          "429": {"$ref": "#/components/responses/RetryLater"},
          "503": {"$ref": "#/components/responses/RetryLater"}
        }
      }
    },
    "/v1/jobs/{id}": {
      "get": {
        "operationId": "getJob",
        "parameters": [{"$ref": "#/components/parameters/JobID"}],
        "responses": {
          "200": {"description": "The job.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Job"}}}},
          "401": {"$ref": "#/components/responses/Error"},
          "404": {"$ref": "#/components/responses/Error"},
          "503": {"$ref": "#/components/responses/RetryLater"}
        }
      }
    },
    "/v1/jobs/{id}/cancel": {
      "post": {
        "operationId": "cancelJob",
        "parameters": [{"$ref": "#/components/parameters/JobID"}],
        "responses": {
          "202": {"description": "Cancellation requested.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Job"}}}},
          "401": {"$ref": "#/components/responses/Error"},
          "403": {"$ref": "#/components/responses/Error"},
          "404": {"$ref": "#/components/responses/Error"},
          "409": {"$ref": "#/components/responses/Error"},
          "503": {"$ref": "#/components/responses/RetryLater"}
        }
      }
    },
    "/v1/audit/public-key": {
      "get": {
        "operationId": "auditPublicKey", "security": [],
        "responses": {
          "200": {"description": "The checkpoint signing keys.", "content": {"application/json": {"schema": {"type": "object"}}}},
          "404": {"$ref": "#/components/responses/Error"}
        }
      }
    },
    "/v1/audit/events": {
      "get": {
        "operationId": "auditEvents",
        "parameters": [
          {"name": "tenant", "in": "query", "schema": {"type": "string"}},
          {"name": "type", "in": "query", "schema": {"type": "string"}},
          {"name": "job_id", "in": "query", "schema": {"type": "string"}},
          {"name": "batch_id", "in": "query", "schema": {"type": "string"}},
          {"name": "key_id", "in": "query", "schema": {"type": "string"}},
          {"name": "model", "in": "query", "schema": {"type": "string"}},
          {"name": "provider", "in": "query", "schema": {"type": "string"}},
          {"name": "outcome", "in": "query", "schema": {"type": "string"}},
          {"name": "from", "in": "query", "schema": {"type": "string"}},
          {"name": "to", "in": "query", "schema": {"type": "string"}},
          {"name": "cursor", "in": "query", "schema": {"type": "string"}},
          {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}}
        ],
        "responses": {
          "200": {"description": "A page of events.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/List"}}}},
          "400": {"$ref": "#/components/responses/Error"},
          "401": {"$ref": "#/components/responses/Error"},
          "403": {"$ref": "#/components/responses/Error"}
        }
      }
    },
    "/v1/audit/events/{id}/proof": {
      "get": {
        "operationId": "auditProof",
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
        "responses": {
          "200": {"description": "The inclusion proof.", "content": {"application/json": {"schema": {"type": "object"}}}},
          "401": {"$ref": "#/components/responses/Error"},
          "403": {"$ref": "#/components/responses/Error"},
          "404": {"$ref": "#/components/responses/Error"},
          "409": {"$ref": "#/components/responses/RetryLater"}
        }
      }
    },
    "/v1/audit/verify": {
      "get": {
        "operationId": "auditVerify",
        "parameters": [
          {"name": "tenant", "in": "query", "schema": {"type": "string"}},
          {"name": "from", "in": "query", "schema": {"type": "string"}},
          {"name": "to", "in": "query", "schema": {"type": "string"}}
        ],
        "responses": {
          "200": {"description": "The verification report.", "content": {"application/json": {"schema": {"type": "object"}}}},
          "400": {"$ref": "#/components/responses/Error"},
          "401": {"$ref": "#/components/responses/Error"},
          "403": {"$ref": "#/components/responses/Error"}
        }
      }
    },
    "/v1/admin/tenants": {
      "get": {
        "operationId": "listTenants",
        "responses": {
          "200": {"description": "Every tenant with its policy.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/List"}}}},
          "401": {"$ref": "#/components/responses/Error"},
          "403": {"$ref": "#/components/responses/Error"}
        }
      }
    },
    "/v1/admin/tenants/{tenant}": {
      "get": {
        "operationId": "getTenant",
        "parameters": [{"$ref": "#/components/parameters/Tenant"}],
        "responses": {
          "200": {"description": "The tenant's policy.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Tenant"}}}},
          "401": {"$ref": "#/components/responses/Error"},
          "403": {"$ref": "#/components/responses/Error"},
          "404": {"$ref": "#/components/responses/Error"}
        }
      },
      "patch": {
        "operationId": "updateTenant",
        "parameters": [{"$ref": "#/components/parameters/Tenant"}],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/TenantUpdate"}}}},
        "responses": {
          "200": {"description": "The tenant's policy now.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Tenant"}}}},
          "400": {"$ref": "#/components/responses/Error"},
          "401": {"$ref": "#/components/responses/Error"},
          "403": {"$ref": "#/components/responses/Error"},
          "404": {"$ref": "#/components/responses/Error"},
          "413": {"$ref": "#/components/responses/Error"}
        }
      }
    },
    "/v1/admin/keys": {
      "get": {
        "operationId": "listKeys",
        "parameters": [{"name": "tenant", "in": "query", "schema": {"type": "string"}}],
        "responses": {
          "200": {"description": "Keys (never the secrets).", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/List"}}}},
          "401": {"$ref": "#/components/responses/Error"},
          "403": {"$ref": "#/components/responses/Error"}
        }
      },
      "post": {
        "operationId": "createKey",
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/KeyRequest"}}}},
        "responses": {
          "201": {"description": "The key, shown this once.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/APIKey"}}}},
          "400": {"$ref": "#/components/responses/Error"},
          "401": {"$ref": "#/components/responses/Error"},
          "403": {"$ref": "#/components/responses/Error"},
          "413": {"$ref": "#/components/responses/Error"}
        }
      }
    },
    "/v1/admin/keys/{key_id}/revoke": {
      "post": {
        "operationId": "revokeKey",
        "parameters": [{"$ref": "#/components/parameters/KeyID"}],
        "responses": {
          "200": {"description": "The key, revoked.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/APIKey"}}}},
          "401": {"$ref": "#/components/responses/Error"},
          "403": {"$ref": "#/components/responses/Error"},
          "404": {"$ref": "#/components/responses/Error"}
        }
      }
    },
    "/v1/admin/keys/{key_id}/expire": {
      "post": {
        "operationId": "expireKey",
        "parameters": [{"$ref": "#/components/parameters/KeyID"}],
        "requestBody": {"required": false, "content": {"application/json": {"schema": {"type": "object", "properties": {"at": {"type": ["string", "integer"]}}}}}},
        "responses": {
          "200": {"description": "The key with its new expiry.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/APIKey"}}}},
          "400": {"$ref": "#/components/responses/Error"},
          "401": {"$ref": "#/components/responses/Error"},
          "403": {"$ref": "#/components/responses/Error"},
          "404": {"$ref": "#/components/responses/Error"},
          "413": {"$ref": "#/components/responses/Error"}
        }
      }
    }
  },
  "components": {
    "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
    "parameters": {
      "JobID": {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}},
      "Tenant": {"name": "tenant", "in": "path", "required": true, "schema": {"type": "string"}},
      "KeyID": {"name": "key_id", "in": "path", "required": true, "schema": {"type": "string"}}
    },
    "responses": {
      "Error": {"description": "An error.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "RetryLater": {
        "description": "Try again after Retry-After seconds.",
        "headers": {"Retry-After": {"schema": {"type": "string", "pattern": "^[0-9]+$"}}},
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
      }
    },
    "schemas": {
      "Error": {
        "type": "object", "required": ["error"],
        "properties": {
          "error": {
            "type": "object", "required": ["type", "code", "message"],
            "properties": {"type": {"type": "string"}, "code": {"type": "string"}, "message": {"type": "string"}, "param": {"type": "string"}}
          }
        }
      },
      "Message": {
        "type": "object", "required": ["role", "content"],
        "properties": {
          "role": {"enum": ["system", "developer", "user", "assistant", "tool", "function"]},
          "content": {"oneOf": [{"type": "string"}, {"type": "array", "minItems": 1, "items": {"type": "object", "required": ["type"], "properties": {"type": {"type": "string"}}}}]}
        }
      },
      "JobRequest": {
        "type": "object", "required": ["model"],
        "description": "An OpenAI chat-completions body plus Sluice's own fields; send messages or input.",
        "properties": {
          "model": {"type": "string", "minLength": 1},
          "messages": {"type": "array", "minItems": 1, "maxItems": 2048, "items": {"$ref": "#/components/schemas/Message"}},
          "input": {"oneOf": [{"type": "string", "minLength": 1}, {"type": "array", "minItems": 1, "items": {"$ref": "#/components/schemas/Message"}}]},
          "priority": {"enum": ["p0", "p1", "p2", "interactive", "default", "bulk"]},
          "max_tokens": {"type": "integer", "minimum": 1},
          "metadata": {"type": "object", "maxProperties": 16, "additionalProperties": {"type": "string", "maxLength": 512}},
          "deadline": {"type": ["integer", "string"]},
          "webhook": {"type": "object", "required": ["url"], "properties": {"url": {"type": "string", "format": "uri"}}},
          "stream": {"const": false}
        }
      },
      "Job": {
        "type": "object", "required": ["id", "object", "tenant", "status", "model", "priority", "attempts", "created_at_ms"],
        "properties": {
          "id": {"type": "string"}, "object": {"const": "job"}, "tenant": {"type": "string"},
          "status": {"enum": ["queued", "running", "retrying", "succeeded", "failed", "cancelled"]},
          "model": {"type": "string"}, "priority": {"enum": ["p0", "p1", "p2"]}, "attempts": {"type": "integer", "minimum": 0},
          "created_at_ms": {"type": "integer"}, "started_at_ms": {"type": "integer"}, "completed_at_ms": {"type": "integer"},
          "batch_id": {"type": "string"}, "metadata": {"type": "object"}, "result": {"type": "object"}, "error": {"type": "object"},
          "usage": {"type": "object"}, "cost": {"type": "number"}, "currency": {"type": "string"}
        }
      },
      "List": {
        "type": "object", "required": ["object", "data"],
        "properties": {"object": {"const": "list"}, "data": {"type": "array"}, "has_more": {"type": "boolean"}, "next_cursor": {"type": ["string", "null"]}}
      },
      "Limits": {
        "type": "object", "additionalProperties": false,
        "properties": {
          "requests_per_second": {"type": "number", "minimum": 0.001, "maximum": 1000000},
          "burst": {"type": "integer", "minimum": 1, "maximum": 10000000},
          "max_in_flight": {"type": "integer", "minimum": 0, "maximum": 100000000},
          "tokens_per_day": {"type": "integer", "minimum": 0, "maximum": 1125899906842624},
          "monthly_budget": {"type": "number", "minimum": 0, "maximum": 1000000000000}
        }
      },
      "Tenant": {
        "type": "object", "required": ["object", "id", "allow_p0", "sub_keys", "limits"],
        "properties": {
          "object": {"const": "tenant"}, "id": {"type": "string"}, "allow_p0": {"type": "boolean"},
          "sub_keys": {"type": "integer", "minimum": 1, "maximum": 1024}, "limits": {"$ref": "#/components/schemas/Limits"}
        }
      },
      "TenantUpdate": {
        "type": "object", "additionalProperties": false,
        "properties": {
          "allow_p0": {"type": "boolean"}, "sub_keys": {"type": "integer", "minimum": 1, "maximum": 1024},
          "limits": {"$ref": "#/components/schemas/Limits"}
        }
      },
      "KeyRequest": {
        "type": "object", "required": ["tenant"], "additionalProperties": false,
        "properties": {
          "tenant": {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,64}$"},
          "role": {"enum": ["submitter", "auditor", "admin"]},
          "expires_at": {"type": ["string", "integer"]},
          "grants": {"type": "array", "maxItems": 1000, "items": {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,64}$"}}
        }
      },
      "APIKey": {
        "type": "object", "required": ["object", "key_id", "tenant", "role", "created_at", "grants", "active"],
        "properties": {
          "object": {"const": "api_key"}, "key_id": {"type": "string"}, "tenant": {"type": "string"},
          "role": {"enum": ["submitter", "auditor", "admin"]}, "created_at": {"type": "integer"},
          "expires_at": {"type": ["integer", "null"]}, "revoked_at": {"type": ["integer", "null"]},
          "grants": {"type": "array", "items": {"type": "string"}}, "active": {"type": "boolean"},
          "key": {"type": "string", "description": "The key itself; only in the answer that created it."}
        }
      }
    }
  }
}
"""#
}
