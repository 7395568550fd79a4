#!/usr/bin/env python3
"""A webhook receiver for Sluice's end-to-end tests.

Verifies every request with the Standard Webhooks library (the reference implementation, not
Sluice's code) and appends one JSON line per request to the log file:
{"webhook_id", "type", "subject", "verified", "traceparent", "error"?}. Answers 204 when verified, 400 when not.

Usage: webhook-receiver.py PORT SECRET LOGFILE
"""
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook

port, secret, log_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
verifier = Webhook(secret)


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length)
        headers = {k.lower(): v for k, v in self.headers.items()}
        entry = {"webhook_id": headers.get("webhook-id"), "traceparent": headers.get("traceparent")}
        try:
            payload = verifier.verify(body, headers)
            entry.update(verified=True, type=payload.get("type"), subject=(payload.get("data") or {}).get("id"))
            status = 204
        except Exception as error:  # any verification failure is recorded and refused
            entry.update(verified=False, error=str(error))
            status = 400
        with open(log_path, "a") as log:
            log.write(json.dumps(entry) + "\n")
        self.send_response(status)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
