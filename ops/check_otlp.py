#!/usr/bin/env python3
"""Traces exported over OTLP/HTTP arrive; run through ops/check-otlp (docs/operations.md, "Traces").

A small OTLP/HTTP receiver (JSON encoding) collects what the coordinator, finalizer and worker
(a tasker built with the OTLPExporter trait) export while a diamond runs, and checks the spans:
one trace from the request through every step attempt, the finalizer's batches linking them.
"""
import base64
import binascii
import http.server
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid

BIN = os.environ["TASKER_BIN"]
ROOT = os.environ.get("TASKER_ROOT", os.getcwd())
spans = []
lock = threading.Lock()
passed, failed = [], []


def log(message):
    print(f"[check-otlp] {message}", file=sys.stderr, flush=True)


def check(ok, what):
    log(("ok    " if ok else "FAIL  ") + what)
    (passed if ok else failed).append(what)
    return ok


def hex_id(value):
    """OTLP/JSON ids are hex; accept base64 (protobuf's JSON mapping of bytes) too."""
    if not value:
        return ""
    try:
        int(value, 16)
        if len(value) in (16, 32):
            return value.lower()
    except ValueError:
        pass
    return binascii.hexlify(base64.b64decode(value)).decode()


def attributes(items):
    return {item["key"]: next(iter(item.get("value", {}).values()), None) for item in items or []}


class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path == "/v1/traces":
            document = json.loads(body or b"{}")
            with lock:
                for resource in document.get("resourceSpans", []):
                    service = attributes(resource.get("resource", {}).get("attributes")).get("service.name")
                    for scope in resource.get("scopeSpans", []):
                        for span in scope.get("spans", []):
                            spans.append({
                                "service": service, "name": span.get("name"),
                                "trace": hex_id(span.get("traceId")), "id": hex_id(span.get("spanId")),
                                "parent": hex_id(span.get("parentSpanId")),
                                "attributes": attributes(span.get("attributes")),
                                "links": [hex_id(link.get("spanId")) for link in span.get("links", [])],
                            })
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    prefix = f"otlpcheck-{uuid.uuid4().hex[:8]}"
    env = dict(os.environ, TASKER_TOPOLOGY_PREFIX=prefix, LOG_LEVEL="warning",
               OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{receiver.server_port}",
               OTEL_EXPORTER_OTLP_PROTOCOL="http/json", OTEL_BSP_SCHEDULE_DELAY="200")
    for command in (["migrate"], ["templates", "register", os.path.join(ROOT, "templates/examples")]):
        subprocess.run([BIN, *command, "--log-level", "warning"], env=dict(env, OTEL_EXPORTER_OTLP_ENDPOINT=""), check=True)
    work = tempfile.mkdtemp(prefix="tasker-check-otlp-", dir=os.environ.get("TASKER_STATE_DIR"))
    processes = []
    for role in ["coordinator", "finalizer", "worker"]:
        out = open(os.path.join(work, f"{role}.log"), "w")
        args = [BIN, role] + (["--namespaces", "examples"] if role == "worker" else [])
        processes.append(subprocess.Popen(args, env=env, stdout=out, stderr=out))
    try:
        time.sleep(2)
        context = json.dumps({"even_number": 2, "run": uuid.uuid4().hex})
        submitted = subprocess.run([BIN, "submit", "examples", "diamond", "--context", context, "--wait", "--timeout", "60",
                                    "--log-level", "warning"], env=dict(env, OTEL_EXPORTER_OTLP_ENDPOINT=""),
                                   capture_output=True, text=True, timeout=90)
        check(submitted.returncode == 0, "a diamond ran on services exporting traces")
        task = next((word.strip('",') for word in submitted.stdout.split() if len(word.strip('",')) == 36), None)
    finally:
        for process in processes:
            process.terminate()  # SIGTERM: the exporter flushes on shutdown
        for process in processes:
            process.wait(timeout=60)
    time.sleep(0.5)
    receiver.shutdown()

    with lock:
        received = list(spans)
    log(f"received {len(received)} spans: {sorted({(s['service'], s['name']) for s in received})}")
    requests = [s for s in received if s["name"] == "tasker.task.request" and (task is None or s["attributes"].get("tasker.task.id") == task)]
    if not check(len(requests) == 1, "the coordinator exported the task's request span"):
        return 1
    request = requests[0]
    check(request["service"] == "tasker.coordinator", f"service.name of the coordinator: {request['service']}")
    attempts = {s["attributes"].get("tasker.step.name"): s for s in received
                if s["name"] == "tasker.step.attempt" and s["attributes"].get("tasker.task.id") == request["attributes"].get("tasker.task.id")}
    check(sorted(attempts) == ["branch_b", "branch_c", "end", "start"], f"the worker exported the four step attempts: {sorted(attempts)}")
    check(all(s["trace"] == request["trace"] for s in attempts.values()), "one trace id from the request through every step")
    if len(attempts) == 4:
        check(attempts["start"]["parent"] == request["id"], "the root step's parent is the request span")
        check(attempts["branch_b"]["parent"] == attempts["start"]["id"] == attempts["branch_c"]["parent"], "the branches' parent is the root step")
        check(attempts["end"]["parent"] in (attempts["branch_b"]["id"], attempts["branch_c"]["id"]), "the fan-in step's parent is a branch")
    linked = {link for s in received if s["name"] == "tasker.results.batch" for link in s["links"]}
    check({s["id"] for s in attempts.values()} <= linked, "the finalizer's batch spans link every attempt")
    print(f"check-otlp: {len(passed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
