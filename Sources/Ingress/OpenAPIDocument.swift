/// The OpenAPI 3.1 description of the whole HTTP surface, served at `/openapi.json`.
///
/// One literal, kept beside the routes. A route registered on the router without its path and
/// method here fails `OpenAPICoverageTests` (which enumerates the router), and the schemathesis
/// run (`OpenAPIFuzzTests`) checks every answer against this document.
enum OpenAPIDocument {
    static let json = #"""
{
  "openapi": "3.1.0",
  "info": {
    "title": "Sluice",
    "version": "1",
    "description": "Self-hosted asynchronous LLM job broker. Authenticate with 'Authorization: Bearer sk-sluice-…' (the Anthropic Message Batches door also takes 'x-api-key: sk-sluice-…')."
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
    },
    "/": {
      "get": {
        "operationId": "statusPage", "security": [],
        "responses": {"200": {"description": "The status page (HTML; when the process serves it).", "content": {"text/html": {"schema": {"type": "string"}}}}}
      }
    },
    "/v1/status": {
      "get": {
        "operationId": "status", "security": [],
        "responses": {"200": {"description": "The status page's figures.", "content": {"application/json": {"schema": {"type": "object"}}}}}
      }
    },
    "/v1/admin/dlq/replay": {
      "post": {
        "operationId": "replayDeadLetters",
        "description": "Admin keys only: puts every unreplayed DLQ record back on its jobs topic.",
        "responses": {
          "200": {"description": "What was replayed.", "content": {"application/json": {"schema": {"type": "object"}}}},
          "401": {"$ref": "#/components/responses/Error"},
          "403": {"$ref": "#/components/responses/Error"},
          "404": {"$ref": "#/components/responses/Error"},
          "503": {"$ref": "#/components/responses/RetryLater"}
        }
      }
    },
    "/v1/chat/completions": {
      "post": {
        "operationId": "createChatCompletion",
        "description": "An OpenAI chat-completions request, queued at p0 (p1 for a tenant without allow_p0) and awaited up to ingress.sync_timeout_ms. No streaming.",
        "requestBody": {"required": true, "content": {"application/json": {
          "schema": {"$ref": "#/components/schemas/JobRequest"},
          "example": {"model": "demo", "messages": [{"role": "user", "content": "Say hello."}]}
        }}},
        "responses": {
          "200": {
            "description": "The completion.",
            "headers": {"x-sluice-job-id": {"schema": {"type": "string"}}},
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ChatCompletion"}}}
          },
          "400": {"$ref": "#/components/responses/Error"},
          "401": {"$ref": "#/components/responses/Error"},
          "403": {"$ref": "#/components/responses/Error"},
          "409": {"$ref": "#/components/responses/Error"},
          "413": {"$ref": "#/components/responses/Error"},
          "429": {"$ref": "#/components/responses/RetryLater"},
          "502": {"$ref": "#/components/responses/Error"},
          "503": {"$ref": "#/components/responses/RetryLater"},
          "504": {"$ref": "#/components/responses/Error"}
        }
      }
    },
    "/v1/files": {
      "post": {
        "operationId": "uploadFile",
        "requestBody": {"required": true, "content": {"multipart/form-data": {
          "schema": {
            "type": "object", "required": ["file", "purpose"],
            "properties": {"file": {"type": "string", "format": "binary", "description": "JSONL, one request per line."}, "purpose": {"const": "batch"}}
          }
        }}},
        "responses": {
          "200": {
            "description": "The stored file.",
            "links": {
              "GetFile": {"operationId": "getFile", "parameters": {"id": "$response.body#/id"}},
              "GetFileContent": {"operationId": "getFileContent", "parameters": {"id": "$response.body#/id"}},
              "CreateBatch": {"operationId": "createBatch", "requestBody": {"input_file_id": "$response.body#/id", "endpoint": "/v1/chat/completions", "completion_window": "24h"}},
              "DeleteFile": {"operationId": "deleteFile", "parameters": {"id": "$response.body#/id"}}
            },
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/File"}}}
          },
          "400": {"$ref": "#/components/responses/Error"},
          "401": {"$ref": "#/components/responses/Error"},
          "403": {"$ref": "#/components/responses/Error"},
          "413": {"$ref": "#/components/responses/Error"},
          "503": {"$ref": "#/components/responses/RetryLater"}
        }
      },
      "get": {
        "operationId": "listFiles",
        "parameters": [
          {"name": "purpose", "in": "query", "schema": {"type": "string"}},
          {"name": "after", "in": "query", "schema": {"type": "string"}},
          {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 10000}},
          {"name": "order", "in": "query", "schema": {"enum": ["asc", "desc"]}}
        ],
        "responses": {
          "200": {"description": "A page of the tenant's files.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ObjectList"}}}},
          "400": {"$ref": "#/components/responses/Error"},
          "401": {"$ref": "#/components/responses/Error"},
          "503": {"$ref": "#/components/responses/RetryLater"}
        }
      }
    },
    "/v1/files/{id}": {
      "get": {
        "operationId": "getFile",
        "parameters": [{"$ref": "#/components/parameters/ObjectID"}],
        "responses": {
          "200": {"description": "The file.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/File"}}}},
          "401": {"$ref": "#/components/responses/Error"},
          "404": {"$ref": "#/components/responses/Error"},
          "503": {"$ref": "#/components/responses/RetryLater"}
        }
      },
      "delete": {
        "operationId": "deleteFile",
        "parameters": [{"$ref": "#/components/parameters/ObjectID"}],
        "responses": {
          "200": {"description": "Deleted.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Deleted"}}}},
          "401": {"$ref": "#/components/responses/Error"},
          "403": {"$ref": "#/components/responses/Error"},
          "404": {"$ref": "#/components/responses/Error"},
          "503": {"$ref": "#/components/responses/RetryLater"}
        }
      }
    },
    "/v1/files/{id}/content": {
      "get": {
        "operationId": "getFileContent",
        "parameters": [{"$ref": "#/components/parameters/ObjectID"}],
        "responses": {
          "200": {"description": "The file's bytes (JSONL).", "content": {"application/jsonl": {"schema": {"type": "string"}}}},
          "401": {"$ref": "#/components/responses/Error"},
          "404": {"$ref": "#/components/responses/Error"},
          "503": {"$ref": "#/components/responses/RetryLater"}
        }
      }
    },
    "/v1/batches": {
      "post": {
        "operationId": "createBatch",
        "requestBody": {"required": true, "content": {"application/json": {
          "schema": {"$ref": "#/components/schemas/BatchRequest"},
          "example": {"input_file_id": "file-0190c0de", "endpoint": "/v1/chat/completions", "completion_window": "24h"}
        }}},
        "responses": {
          "200": {
            "description": "The batch, validating.",
            "links": {
              "GetBatch": {"operationId": "getBatch", "parameters": {"id": "$response.body#/id"}},
              "CancelBatch": {"operationId": "cancelBatch", "parameters": {"id": "$response.body#/id"}}
            },
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Batch"}}}
          },
          "400": {"$ref": "#/components/responses/Error"},
          "401": {"$ref": "#/components/responses/Error"},
          "403": {"$ref": "#/components/responses/Error"},
          "413": {"$ref": "#/components/responses/Error"},
          "503": {"$ref": "#/components/responses/RetryLater"}
        }
      },
      "get": {
        "operationId": "listBatches",
        "parameters": [
          {"name": "after", "in": "query", "schema": {"type": "string"}},
          {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}}
        ],
        "responses": {
          "200": {"description": "A page of the tenant's batches, newest first.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ObjectList"}}}},
          "400": {"$ref": "#/components/responses/Error"},
          "401": {"$ref": "#/components/responses/Error"},
          "503": {"$ref": "#/components/responses/RetryLater"}
        }
      }
    },
    "/v1/batches/{id}": {
      "get": {
        "operationId": "getBatch",
        "parameters": [{"$ref": "#/components/parameters/ObjectID"}],
        "responses": {
          "200": {"description": "The batch.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Batch"}}}},
          "401": {"$ref": "#/components/responses/Error"},
          "404": {"$ref": "#/components/responses/Error"},
          "503": {"$ref": "#/components/responses/RetryLater"}
        }
      }
    },
    "/v1/batches/{id}/cancel": {
      "post": {
        "operationId": "cancelBatch",
        "parameters": [{"$ref": "#/components/parameters/ObjectID"}],
        "responses": {
          "200": {"description": "The batch, cancelling.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Batch"}}}},
          "401": {"$ref": "#/components/responses/Error"},
          "403": {"$ref": "#/components/responses/Error"},
          "404": {"$ref": "#/components/responses/Error"},
          "409": {"$ref": "#/components/responses/Error"},
          "503": {"$ref": "#/components/responses/RetryLater"}
        }
      }
    },
    "/v1/messages/batches": {
      "post": {
        "operationId": "createMessageBatch",
        "security": [{"bearer": []}, {"anthropicKey": []}],
        "requestBody": {"required": true, "content": {"application/json": {
          "schema": {"$ref": "#/components/schemas/MessageBatchRequest"},
          "example": {"requests": [{"custom_id": "r-1", "params": {"model": "demo", "max_tokens": 64, "messages": [{"role": "user", "content": "Say hello."}]}}]}
        }}},
        "responses": {
          "200": {
            "description": "The message batch, in progress.",
            "links": {
              "GetMessageBatch": {"operationId": "getMessageBatch", "parameters": {"id": "$response.body#/id"}},
              "CancelMessageBatch": {"operationId": "cancelMessageBatch", "parameters": {"id": "$response.body#/id"}},
              "GetMessageBatchResults": {"operationId": "getMessageBatchResults", "parameters": {"id": "$response.body#/id"}},
              "DeleteMessageBatch": {"operationId": "deleteMessageBatch", "parameters": {"id": "$response.body#/id"}}
            },
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/MessageBatch"}}}
          },
          "400": {"$ref": "#/components/responses/Error"},
          "401": {"$ref": "#/components/responses/Error"},
          "403": {"$ref": "#/components/responses/Error"},
          "413": {"$ref": "#/components/responses/Error"},
          "503": {"$ref": "#/components/responses/RetryLater"}
        }
      },
      "get": {
        "operationId": "listMessageBatches",
        "security": [{"bearer": []}, {"anthropicKey": []}],
        "parameters": [
          {"name": "after_id", "in": "query", "schema": {"type": "string"}},
          {"name": "before_id", "in": "query", "description": "Not supported: a 400.", "schema": {"type": "string"}},
          {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}}
        ],
        "responses": {
          "200": {"description": "A page of the tenant's message batches, newest first.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/MessageBatchList"}}}},
          "400": {"$ref": "#/components/responses/Error"},
          "401": {"$ref": "#/components/responses/Error"},
          "503": {"$ref": "#/components/responses/RetryLater"}
        }
      }
    },
    "/v1/messages/batches/{id}": {
      "get": {
        "operationId": "getMessageBatch",
        "security": [{"bearer": []}, {"anthropicKey": []}],
        "parameters": [{"$ref": "#/components/parameters/ObjectID"}],
        "responses": {
          "200": {"description": "The message batch.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/MessageBatch"}}}},
          "401": {"$ref": "#/components/responses/Error"},
          "404": {"$ref": "#/components/responses/Error"},
          "503": {"$ref": "#/components/responses/RetryLater"}
        }
      },
      "delete": {
        "operationId": "deleteMessageBatch",
        "security": [{"bearer": []}, {"anthropicKey": []}],
        "parameters": [{"$ref": "#/components/parameters/ObjectID"}],
        "responses": {
          "200": {
            "description": "Deleted (only an ended batch can be).",
            "content": {"application/json": {"schema": {
              "type": "object", "required": ["id", "type"], "properties": {"id": {"type": "string"}, "type": {"const": "message_batch_deleted"}}
            }}}
          },
          "400": {"$ref": "#/components/responses/Error"},
          "401": {"$ref": "#/components/responses/Error"},
          "403": {"$ref": "#/components/responses/Error"},
          "404": {"$ref": "#/components/responses/Error"},
          "503": {"$ref": "#/components/responses/RetryLater"}
        }
      }
    },
    "/v1/messages/batches/{id}/cancel": {
      "post": {
        "operationId": "cancelMessageBatch",
        "security": [{"bearer": []}, {"anthropicKey": []}],
        "parameters": [{"$ref": "#/components/parameters/ObjectID"}],
        "responses": {
          "200": {"description": "The message batch, canceling.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/MessageBatch"}}}},
          "401": {"$ref": "#/components/responses/Error"},
          "403": {"$ref": "#/components/responses/Error"},
          "404": {"$ref": "#/components/responses/Error"},
          "409": {"$ref": "#/components/responses/Error"},
          "503": {"$ref": "#/components/responses/RetryLater"}
        }
      }
    },
    "/v1/messages/batches/{id}/results": {
      "get": {
        "operationId": "getMessageBatchResults",
        "security": [{"bearer": []}, {"anthropicKey": []}],
        "parameters": [{"$ref": "#/components/parameters/ObjectID"}],
        "responses": {
          "200": {
            "description": "One JSON object per line: {custom_id, result: {type: succeeded|errored|canceled|expired, …}}.",
            "content": {"application/binary": {"schema": {"type": "string"}}}
          },
          "400": {"$ref": "#/components/responses/Error"},
          "401": {"$ref": "#/components/responses/Error"},
          "404": {"$ref": "#/components/responses/Error"},
          "503": {"$ref": "#/components/responses/RetryLater"}
        }
      }
    },
    "/v1/webhooks/endpoints": {
      "post": {
        "operationId": "createWebhookEndpoint",
        "requestBody": {"required": true, "content": {"application/json": {
          "schema": {"$ref": "#/components/schemas/WebhookEndpointRequest"},
          "example": {"url": "https://hooks.example.com/sluice", "events": ["job.succeeded", "batch.completed"]}
        }}},
        "responses": {
          "201": {
            "description": "The endpoint with its signing secret, shown this once.",
            "links": {"DeleteWebhookEndpoint": {"operationId": "deleteWebhookEndpoint", "parameters": {"id": "$response.body#/id"}}},
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/WebhookEndpoint"}}}
          },
          "400": {"$ref": "#/components/responses/Error"},
          "401": {"$ref": "#/components/responses/Error"},
          "403": {"$ref": "#/components/responses/Error"},
          "413": {"$ref": "#/components/responses/Error"},
          "501": {"$ref": "#/components/responses/Error"},
          "503": {"$ref": "#/components/responses/RetryLater"}
        }
      },
      "get": {
        "operationId": "listWebhookEndpoints",
        "responses": {
          "200": {
            "description": "The tenant's endpoints (never their secrets).",
            "content": {"application/json": {"schema": {
              "type": "object", "required": ["object", "data"],
              "properties": {"object": {"const": "list"}, "data": {"type": "array", "items": {"$ref": "#/components/schemas/WebhookEndpoint"}}}
            }}}
          },
          "401": {"$ref": "#/components/responses/Error"},
          "501": {"$ref": "#/components/responses/Error"},
          "503": {"$ref": "#/components/responses/RetryLater"}
        }
      }
    },
    "/v1/webhooks/endpoints/{id}": {
      "delete": {
        "operationId": "deleteWebhookEndpoint",
        "parameters": [{"$ref": "#/components/parameters/ObjectID"}],
        "responses": {
          "200": {"description": "Deleted.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Deleted"}}}},
          "401": {"$ref": "#/components/responses/Error"},
          "403": {"$ref": "#/components/responses/Error"},
          "404": {"$ref": "#/components/responses/Error"},
          "501": {"$ref": "#/components/responses/Error"},
          "503": {"$ref": "#/components/responses/RetryLater"}
        }
      }
    },
    "/v1/webhooks/deliveries": {
      "get": {
        "operationId": "listWebhookDeliveries",
        "parameters": [
          {"name": "job_id", "in": "query", "schema": {"type": "string"}},
          {"name": "batch_id", "in": "query", "schema": {"type": "string"}},
          {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}},
          {"name": "before", "in": "query", "description": "Unix milliseconds: deliveries created before it (next_before of the previous page).", "schema": {"type": "integer", "minimum": 0}}
        ],
        "responses": {
          "200": {
            "description": "The tenant's deliveries with their attempts, newest first.",
            "content": {"application/json": {"schema": {
              "type": "object", "required": ["object", "data", "has_more"],
              "properties": {
                "object": {"const": "list"}, "data": {"type": "array", "items": {"$ref": "#/components/schemas/WebhookDelivery"}},
                "has_more": {"type": "boolean"}, "next_before": {"type": "integer"}
              }
            }}}
          },
          "400": {"$ref": "#/components/responses/Error"},
          "401": {"$ref": "#/components/responses/Error"},
          "501": {"$ref": "#/components/responses/Error"},
          "503": {"$ref": "#/components/responses/RetryLater"}
        }
      }
    },
    "/v1/webhooks/deliveries/{id}/retry": {
      "post": {
        "operationId": "retryWebhookDelivery",
        "parameters": [{"$ref": "#/components/parameters/ObjectID"}],
        "responses": {
          "202": {"description": "Sent again under the same webhook-id.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/WebhookDelivery"}}}},
          "401": {"$ref": "#/components/responses/Error"},
          "403": {"$ref": "#/components/responses/Error"},
          "404": {"$ref": "#/components/responses/Error"},
          "501": {"$ref": "#/components/responses/Error"},
          "503": {"$ref": "#/components/responses/RetryLater"}
        }
      }
    }
  },
  "components": {
    "securitySchemes": {
      "bearer": {"type": "http", "scheme": "bearer"},
      "anthropicKey": {"type": "apiKey", "in": "header", "name": "x-api-key", "description": "The same key, as the Anthropic SDKs send it; read on /v1/messages/batches only."}
    },
    "parameters": {
      "JobID": {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}},
      "Tenant": {"name": "tenant", "in": "path", "required": true, "schema": {"type": "string"}},
      "KeyID": {"name": "key_id", "in": "path", "required": true, "schema": {"type": "string"}},
      "ObjectID": {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}
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
      "ChatCompletion": {
        "type": "object", "required": ["id", "object", "created", "model", "choices"],
        "properties": {
          "id": {"type": "string"}, "object": {"const": "chat.completion"}, "created": {"type": "integer"}, "model": {"type": "string"},
          "choices": {"type": "array", "items": {"type": "object"}}, "usage": {"type": "object"}
        }
      },
      "File": {
        "type": "object", "required": ["id", "object", "bytes", "created_at", "filename", "purpose", "status"],
        "properties": {
          "id": {"type": "string"}, "object": {"const": "file"}, "bytes": {"type": "integer", "minimum": 0},
          "created_at": {"type": "integer"}, "expires_at": {"type": ["integer", "null"]}, "filename": {"type": "string"},
          "purpose": {"type": "string"}, "status": {"enum": ["uploaded", "processed", "error"]}, "status_details": {"type": ["string", "null"]}
        }
      },
      "Deleted": {
        "type": "object", "required": ["id", "object", "deleted"],
        "properties": {"id": {"type": "string"}, "object": {"type": "string"}, "deleted": {"const": true}}
      },
      "ObjectList": {
        "type": "object", "required": ["object", "data", "has_more"],
        "properties": {
          "object": {"const": "list"}, "data": {"type": "array"}, "first_id": {"type": ["string", "null"]},
          "last_id": {"type": ["string", "null"]}, "has_more": {"type": "boolean"}
        }
      },
      "BatchRequest": {
        "type": "object", "required": ["input_file_id", "endpoint", "completion_window"],
        "properties": {
          "input_file_id": {"type": "string"}, "endpoint": {"const": "/v1/chat/completions"}, "completion_window": {"const": "24h"},
          "metadata": {
            "type": ["object", "null"], "maxProperties": 16, "propertyNames": {"maxLength": 64},
            "additionalProperties": {"type": "string", "maxLength": 512}
          },
          "webhook": {
            "type": ["object", "null"], "required": ["url"], "description": "Sluice's extension: a URL for the batch's terminal event.",
            "properties": {"url": {"type": "string", "format": "uri", "maxLength": 2048}}
          }
        }
      },
      "Batch": {
        "type": "object", "required": ["id", "object", "endpoint", "input_file_id", "completion_window", "status", "created_at", "request_counts"],
        "properties": {
          "id": {"type": "string"}, "object": {"const": "batch"}, "endpoint": {"type": "string"}, "input_file_id": {"type": "string"},
          "completion_window": {"type": "string"},
          "status": {"enum": ["validating", "failed", "in_progress", "finalizing", "completed", "expired", "cancelling", "cancelled"]},
          "created_at": {"type": "integer"}, "in_progress_at": {"type": ["integer", "null"]}, "expires_at": {"type": ["integer", "null"]},
          "finalizing_at": {"type": ["integer", "null"]}, "completed_at": {"type": ["integer", "null"]}, "failed_at": {"type": ["integer", "null"]},
          "expired_at": {"type": ["integer", "null"]}, "cancelling_at": {"type": ["integer", "null"]}, "cancelled_at": {"type": ["integer", "null"]},
          "output_file_id": {"type": ["string", "null"]}, "error_file_id": {"type": ["string", "null"]}, "errors": {"type": ["object", "null"]},
          "request_counts": {
            "type": "object", "required": ["total", "completed", "failed"],
            "properties": {"total": {"type": "integer", "minimum": 0}, "completed": {"type": "integer", "minimum": 0}, "failed": {"type": "integer", "minimum": 0}}
          },
          "metadata": {"type": ["object", "null"]}, "model": {"type": ["string", "null"]}, "usage": {"type": "object"}
        }
      },
      "MessageBatchRequest": {
        "type": "object", "required": ["requests"],
        "properties": {
          "requests": {
            "type": "array", "minItems": 1,
            "items": {
              "type": "object", "required": ["custom_id", "params"],
              "properties": {
                "custom_id": {"type": "string", "pattern": "^[a-zA-Z0-9_-]{1,64}$"},
                "params": {
                  "type": "object", "required": ["model", "max_tokens", "messages"], "description": "An Anthropic Messages request.",
                  "properties": {
                    "model": {"type": "string", "minLength": 1}, "max_tokens": {"type": "integer", "minimum": 1},
                    "system": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "object"}}]},
                    "messages": {
                      "type": "array", "minItems": 1,
                      "items": {
                        "type": "object", "required": ["role", "content"],
                        "properties": {"role": {"enum": ["user", "assistant"]}, "content": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "object"}}]}}
                      }
                    }
                  }
                }
              }
            }
          }
        }
      },
      "MessageBatch": {
        "type": "object", "required": ["id", "type", "processing_status", "request_counts", "created_at"],
        "properties": {
          "id": {"type": "string"}, "type": {"const": "message_batch"}, "processing_status": {"enum": ["in_progress", "canceling", "ended"]},
          "request_counts": {
            "type": "object", "required": ["processing", "succeeded", "errored", "canceled", "expired"],
            "properties": {
              "processing": {"type": "integer", "minimum": 0}, "succeeded": {"type": "integer", "minimum": 0}, "errored": {"type": "integer", "minimum": 0},
              "canceled": {"type": "integer", "minimum": 0}, "expired": {"type": "integer", "minimum": 0}
            }
          },
          "created_at": {"type": "string"}, "expires_at": {"type": ["string", "null"]}, "ended_at": {"type": ["string", "null"]},
          "cancel_initiated_at": {"type": ["string", "null"]}, "archived_at": {"type": ["string", "null"]}, "results_url": {"type": ["string", "null"]}
        }
      },
      "MessageBatchList": {
        "type": "object", "required": ["data", "has_more"],
        "properties": {
          "data": {"type": "array", "items": {"$ref": "#/components/schemas/MessageBatch"}}, "has_more": {"type": "boolean"},
          "first_id": {"type": ["string", "null"]}, "last_id": {"type": ["string", "null"]}
        }
      },
      "WebhookEndpointRequest": {
        "type": "object", "required": ["url"],
        "properties": {
          "url": {"type": "string", "format": "uri"},
          "events": {
            "type": ["array", "null"], "maxItems": 32,
            "items": {"enum": ["job.succeeded", "job.failed", "batch.completed", "batch.failed", "batch.expired", "batch.cancelled"]}
          },
          "secret": {"type": ["string", "null"], "pattern": "^whsec_", "description": "whsec_ and base64 of 24 to 64 bytes; made for you when absent."}
        }
      },
      "WebhookEndpoint": {
        "type": "object", "required": ["id", "object", "url", "events", "disabled"],
        "properties": {
          "id": {"type": "string"}, "object": {"const": "webhook.endpoint"}, "url": {"type": "string"},
          "events": {"type": "array", "items": {"type": "string"}}, "disabled": {"type": "boolean"}, "created_at_ms": {"type": "integer"},
          "secret": {"type": "string", "description": "Only in the answer that created the endpoint."}
        }
      },
      "WebhookDelivery": {
        "type": "object", "required": ["id", "object", "subject_id", "type", "url", "status", "created_at_ms", "attempts"],
        "properties": {
          "id": {"type": "string"}, "object": {"const": "webhook.delivery"}, "subject_id": {"type": "string"}, "type": {"type": "string"},
          "url": {"type": "string"}, "endpoint_id": {"type": "string"}, "status": {"type": "string"},
          "created_at_ms": {"type": "integer"}, "updated_at_ms": {"type": "integer"},
          "attempts": {
            "type": "array",
            "items": {
              "type": "object", "required": ["attempt", "at_ms", "outcome"],
              "properties": {
                "attempt": {"type": "integer"}, "at_ms": {"type": "integer"}, "outcome": {"type": "string"},
                "status_code": {"type": "integer"}, "error": {"type": "string"}, "duration_ms": {"type": "integer"}
              }
            }
          }
        }
      },
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
          "usage": {"type": "object"}, "cost": {"type": "number"}, "currency": {"type": "string"},
          "injection_flags": {"type": "array", "items": {"type": "object", "properties": {"field": {"type": "string"}, "flag": {"type": "string"}}}}
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
