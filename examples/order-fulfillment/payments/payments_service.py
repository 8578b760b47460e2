#!/usr/bin/env python3
"""A tiny payments service for the order-fulfillment example, flaky by configuration.

POST /authorizations  {"order_id", "amount_cents", "currency", "token"}
  - the first --fail-first calls for each order answer 503 (a retryable failure),
  - token --decline-token answers 402 {"error": "card declined"} (a permanent failure),
  - otherwise 200 {"authorization_id": "auth-<order_id>", ...}, the same for a repeat.
GET /calls            how many calls each order made, as JSON (for the end-to-end check).
GET /health           200.

  payments_service.py --port 8089 --fail-first 2
"""
import argparse
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

calls = {}
lock = threading.Lock()


def make_handler(fail_first, decline_token):
    class Handler(BaseHTTPRequestHandler):
        def answer(self, status, body, headers=None):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            if self.path == "/health":
                self.answer(200, {"ok": True})
            elif self.path == "/calls":
                with lock:
                    self.answer(200, dict(calls))
            else:
                self.answer(404, {"error": "not found"})

        def do_POST(self):
            if self.path != "/authorizations":
                self.answer(404, {"error": "not found"})
                return
            try:
                length = int(self.headers.get("Content-Length", "0"))
                request = json.loads(self.rfile.read(length))
                order_id = str(request["order_id"])
            except (ValueError, KeyError, TypeError):
                self.answer(400, {"error": "expected JSON with order_id, amount_cents, currency, token"})
                return
            with lock:
                calls[order_id] = calls.get(order_id, 0) + 1
                count = calls[order_id]
            if count <= fail_first:
                self.answer(503, {"error": "temporarily unavailable"})
            elif request.get("token") == decline_token:
                self.answer(402, {"error": "card declined"})
            else:
                self.answer(200, {"authorization_id": f"auth-{order_id}", "amount_cents": request.get("amount_cents"),
                                  "currency": request.get("currency")})

        def log_message(self, format, *args):
            sys.stderr.write("payments: " + (format % args) + "\n")

    return Handler


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=8089, help="0 picks a free port")
    parser.add_argument("--port-file", help="write the port here once listening")
    parser.add_argument("--fail-first", type=int, default=0, help="answer 503 to the first N calls of each order")
    parser.add_argument("--decline-token", default="tok_declined", help="payment token that is always declined")
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(args.fail_first, args.decline_token))
    port = server.server_address[1]
    if args.port_file:
        with open(args.port_file, "w") as f:
            f.write(str(port))
    sys.stderr.write(f"payments: listening on 127.0.0.1:{port} (fail first {args.fail_first}, declines {args.decline_token})\n")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
