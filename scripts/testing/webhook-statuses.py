#!/usr/bin/env python3
"""A webhook receiver that answers by path, for Sluice's end-to-end failure tests.

/gone → 410, /redirect → 302 to /ok on the same server, /ok → 204, /fail → 500. Appends one JSON
line per request to the log file: {"path", "webhook_id"}. It does not verify signatures (the
signing tests use webhook-receiver.py).

Usage: webhook-statuses.py PORT LOGFILE
"""
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port, log_path = int(sys.argv[1]), sys.argv[2]
STATUSES = {"/gone": 410, "/redirect": 302, "/ok": 204, "/fail": 500}


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("content-length") or 0)
        self.rfile.read(length)
        with open(log_path, "a") as log:
            log.write(json.dumps({"path": self.path, "webhook_id": self.headers.get("webhook-id")}) + "\n")
        self.send_response(STATUSES.get(self.path, 404))
        if self.path == "/redirect":
            self.send_header("location", f"http://127.0.0.1:{port}/ok")
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
