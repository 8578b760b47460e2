#!/usr/bin/env python3
"""A Tasker worker in Python, written from docs/wire-protocol.md alone (pika, no Tasker code).

It serves the namespaces in TASKER_NAMESPACES: consumes step dispatches from
`<prefix>.steps.<namespace>`, runs the Python function registered under the dispatch's
`handler`, publishes `step.started` (for steps that run longer than the report delay) and then
`step.completed` / `step.failed` to `<prefix>.results` with publisher confirms, and only then
acknowledges the dispatch. A dispatch it cannot decode goes to `<prefix>.dead` with the
`x-tasker-error` and `x-tasker-source-queue` headers and is then acknowledged. SIGTERM or SIGINT
stop it cleanly: the running step finishes and is reported, the consumers are cancelled,
prefetched deliveries go back to the queue, and the process exits 0.

Environment (the same names as `tasker worker`): AMQP_URL, TASKER_TOPOLOGY_PREFIX (tasker),
TASKER_NAMESPACES (comma-separated), TASKER_WORKER_ID (python:<host>:<pid>),
TASKER_STARTED_REPORT_DELAY_MS (100), LOG_LEVEL (info).

    from tasker_worker import Worker, Permanent
    def greet(step):
        return {"greeting": "hello " + step.context["name"]}
    Worker(handlers={"greet": greet}).run()
"""
import datetime
import json
import logging
import os
import signal
import socket
import threading
import time
import uuid

import pika

SCHEMA_VERSION = 1
SCHEMA_HEADER = "x-tasker-schema-version"
MAX_DISPATCH_BYTES = 16 * 1024 * 1024  # wire-protocol.md, "Limits"
MAX_MESSAGE_NESTING = 66
MAX_TIMEOUT_SECONDS = 365 * 24 * 3600
DELIVERY_LIMIT = 20

log = logging.getLogger("tasker.python-worker")


class Permanent(Exception):
    """Raise to fail the step permanently (never retried)."""


class RetryAfter(Exception):
    """Raise to fail the step and ask for the next attempt after `seconds`."""

    def __init__(self, seconds, message):
        super().__init__(message)
        self.seconds = seconds


class Step:
    """What a handler receives: the dispatch's fields, by their wire names."""

    def __init__(self, dispatch, logger):
        self.task_id = dispatch["task_id"]
        self.step_id = dispatch["step_id"]
        self.step_name = dispatch["step_name"]
        self.handler = dispatch["handler"]
        self.attempt = dispatch["attempt"]
        self.max_attempts = dispatch["max_attempts"]
        self.context = dispatch["context"]
        self.parent_results = dispatch["parent_results"]
        self.config = dispatch["handler_config"]
        self.timeout_seconds = dispatch["timeout_seconds"]
        self.deadline = dispatch["deadline"]
        self.logger = logger
        self.cancelled = threading.Event()  # set when the step timed out: stop early if you can


class Undecodable(Exception):
    """A dispatch that is not what wire-protocol.md describes."""


def now_iso():
    """ISO 8601 in UTC with microseconds, as the protocol's dates: 2026-11-27T14:03:12.345678Z."""
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def nesting_depth(value):
    """`{}` is 1, `{"a": []}` is 2 (without recursion)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in item)
    return deepest


def decode_dispatch(body):
    """The dispatch as a dict, or Undecodable with the reason."""
    if len(body) > MAX_DISPATCH_BYTES:
        raise Undecodable(f"step dispatch body is {len(body)} bytes; the limit is {MAX_DISPATCH_BYTES} bytes")
    try:
        dispatch = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise Undecodable(f"malformed JSON: {error}")
    if not isinstance(dispatch, dict):
        raise Undecodable(f"a step dispatch must be a JSON object, got {type(dispatch).__name__}")
    if nesting_depth(dispatch) > MAX_MESSAGE_NESTING:
        raise Undecodable(f"message nests more than {MAX_MESSAGE_NESTING} levels")
    if dispatch.get("schema_version") != SCHEMA_VERSION:
        raise Undecodable(f"unsupported schema_version {dispatch.get('schema_version')!r} (this worker understands {SCHEMA_VERSION})")
    fields = {
        "task_id": str, "step_id": str, "step_name": str, "handler": str, "namespace": str,
        "template_name": str, "template_version": str, "attempt": int, "max_attempts": int,
        "parent_results": dict, "timeout_seconds": (int, float), "deadline": (str, int, float),
        "dispatched_at": (str, int, float),
    }
    for name, kind in fields.items():
        if name not in dispatch:
            raise Undecodable(f"missing field '{name}'")
        if not isinstance(dispatch[name], kind) or isinstance(dispatch[name], bool):
            raise Undecodable(f"field '{name}' has the wrong type ({type(dispatch[name]).__name__})")
    for name in ("context", "handler_config"):
        if name not in dispatch:
            raise Undecodable(f"missing field '{name}'")
    for name in ("task_id", "step_id"):
        try:
            uuid.UUID(dispatch[name])
        except ValueError:
            raise Undecodable(f"field '{name}' is not a UUID")
    if not 0 <= dispatch["timeout_seconds"] <= MAX_TIMEOUT_SECONDS:
        raise Undecodable(f"timeout_seconds {dispatch['timeout_seconds']} is out of range")
    return dispatch


class Worker:
    """Consumes the namespaces' step queues and runs `handlers` (handler name -> function)."""

    def __init__(self, handlers, amqp_url=None, prefix=None, namespaces=None, worker_id=None, started_report_delay_ms=None):
        env = os.environ
        self.handlers = handlers
        self.amqp_url = amqp_url or env.get("AMQP_URL", "amqp://tasker:tasker@127.0.0.1:5673/%2f")
        self.prefix = prefix or env.get("TASKER_TOPOLOGY_PREFIX", "tasker")
        names = namespaces or [n.strip() for n in env.get("TASKER_NAMESPACES", "default").split(",")]
        self.namespaces = [n for n in dict.fromkeys(names) if n]
        self.worker_id = worker_id or env.get("TASKER_WORKER_ID") or f"python:{socket.gethostname()}:{os.getpid()}"
        delay = started_report_delay_ms if started_report_delay_ms is not None else int(env.get("TASKER_STARTED_REPORT_DELAY_MS", "100"))
        self.started_report_delay = max(delay, 0) / 1000.0
        self.stopping = False
        self.pending = []  # deliveries received and not started yet

    # -- topology (wire-protocol.md, "Topology"): identical to what every Tasker service declares

    def name(self, suffix):
        return f"{self.prefix}.{suffix}"

    def declare_topology(self, channel):
        for exchange, kind in (("requests", "topic"), ("events", "topic"), ("steps", "direct"), ("results", "direct"), ("dead", "fanout")):
            channel.exchange_declare(self.name(exchange), exchange_type=kind, durable=True)
        channel.queue_declare(self.name("dead"), durable=True, arguments={"x-queue-type": "quorum"})
        channel.queue_bind(self.name("dead"), self.name("dead"))
        work = {
            "x-queue-type": "quorum", "x-dead-letter-exchange": self.name("dead"), "x-delivery-limit": DELIVERY_LIMIT,
            "x-dead-letter-strategy": "at-least-once", "x-overflow": "reject-publish",
        }
        bindings = [("requests.coordinator", "requests", "#"), ("results.finalizer", "results", "step.result"),
                    ("reenqueuer", "events", "step.retry_scheduled")]
        bindings += [(f"steps.{namespace}", "steps", namespace) for namespace in self.namespaces]
        for queue, exchange, key in bindings:
            channel.queue_declare(self.name(queue), durable=True, arguments=work)
            channel.queue_bind(self.name(queue), self.name(exchange), routing_key=key)

    # -- running

    def run(self):
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        # AMQP_URL may list a cluster's nodes, comma-separated: pika tries them in order.
        self.connection = pika.BlockingConnection([pika.URLParameters(url.strip()) for url in self.amqp_url.split(",")])
        self.consuming = self.connection.channel()
        self.publishing = self.connection.channel()
        self.publishing.confirm_delivery()  # basic_publish now waits for the broker's ack
        self.declare_topology(self.consuming)
        self.consuming.basic_qos(prefetch_count=1)
        tags = []
        for namespace in self.namespaces:
            queue = self.name(f"steps.{namespace}")
            callback = (lambda q: lambda ch, method, properties, body: self.pending.append((q, method, properties, body)))(queue)
            tags.append(self.consuming.basic_consume(queue, callback))
        log.info("worker started: namespaces %s, handlers %s, id %s", ",".join(self.namespaces), ",".join(sorted(self.handlers)), self.worker_id)
        while not self.stopping:
            self.connection.process_data_events(time_limit=0.2)
            while self.pending and not self.stopping:
                self.process(*self.pending.pop(0))
        # Every started step was reported and acknowledged: now stop consuming. Deliveries that
        # arrived but were not started go back to the queue.
        for tag in tags:
            self.consuming.basic_cancel(tag)
        for _, method, _, _ in self.pending:
            self.consuming.basic_nack(method.delivery_tag, requeue=True)
        self.pending = []
        self.connection.close()
        log.info("worker stopped")

    def stop(self, signum, frame):
        log.info("signal %s: stopping after the running step", signum)
        self.stopping = True

    def process(self, queue, method, properties, body):
        try:
            dispatch = decode_dispatch(body)
        except Undecodable as error:
            self.dead_letter(queue, method, properties, body, str(error))
            return
        logger = logging.LoggerAdapter(log, {})
        logger.process = lambda msg, kwargs: (f"[task {dispatch['task_id']} step {dispatch['step_name']} attempt {dispatch['attempt']}] {msg}", kwargs)
        started_at = now_iso()
        start = time.monotonic()
        outcome = self.execute(dispatch, Step(dispatch, logger), started_at)
        if outcome is None:
            self.return_for_redelivery(method)  # publishing step.started failed
            return
        result = {
            "schema_version": SCHEMA_VERSION, "task_id": dispatch["task_id"], "step_id": dispatch["step_id"],
            "step_name": dispatch["step_name"], "attempt": dispatch["attempt"], "worker_id": self.worker_id,
            "occurred_at": now_iso(), "started_at": started_at, "duration_ms": (time.monotonic() - start) * 1000,
        }
        result.update(outcome)
        try:
            self.publish_result(result)
        except Exception as error:  # unconfirmed: not acknowledged, so the broker delivers the step again
            logger.warning("result not published (%s); step returned for redelivery", error)
            self.return_for_redelivery(method)
            return
        logger.info("%s%s", result["event"], "" if result["event"] == "step.completed" else f" ({result['error_kind']}: {result['error_message']})")
        self.consuming.basic_ack(method.delivery_tag)

    def execute(self, dispatch, step, started_at):
        """Runs the handler in a thread, racing the timeout; returns the result fields."""
        function = self.handlers.get(dispatch["handler"])
        if function is None:
            return failed(f"no handler registered for '{dispatch['handler']}'", "permanent", "HandlerNotFound")
        box = {}

        def target():
            try:
                box["results"] = function(step)
            except BaseException as error:  # reported, never raised in the worker
                box["error"] = error

        thread = threading.Thread(target=target, daemon=True)
        thread.start()
        timeout = dispatch["timeout_seconds"]
        report_at = time.monotonic() + self.started_report_delay
        give_up = time.monotonic() + timeout if timeout > 0 else None
        reported = False
        while thread.is_alive():
            thread.join(0.05)
            self.connection.process_data_events(time_limit=0)  # heartbeats; new deliveries queue up
            if not reported and thread.is_alive() and time.monotonic() >= report_at:
                reported = True
                try:
                    self.publish_result({
                        "schema_version": SCHEMA_VERSION, "event": "step.started", "task_id": dispatch["task_id"],
                        "step_id": dispatch["step_id"], "step_name": dispatch["step_name"], "attempt": dispatch["attempt"],
                        "worker_id": self.worker_id, "occurred_at": now_iso(),
                    })
                except Exception as error:
                    step.logger.warning("step.started not published (%s)", error)
                    step.cancelled.set()
                    return None
            if give_up is not None and time.monotonic() >= give_up and thread.is_alive():
                step.cancelled.set()  # Python threads cannot be killed: the handler is told and its output discarded
                seconds = int(timeout) if float(timeout).is_integer() else timeout
                return failed(f"timed out after {seconds}s", "timeout", "StepTimeout")
        if "error" in box:
            error = box["error"]
            if isinstance(error, Permanent):
                return failed(str(error), "permanent", "Permanent")
            if isinstance(error, RetryAfter):
                outcome = failed(str(error), "retryable", "RetryAfter")
                outcome["retry_after_seconds"] = error.seconds
                return outcome
            return failed(str(error) or type(error).__name__, "retryable", type(error).__name__)
        results = box.get("results")
        return {"event": "step.completed", "results": {} if results is None else results}

    # -- publishing (wire-protocol.md, "Step results")

    def publish_result(self, message):
        properties = pika.BasicProperties(
            content_type="application/json", delivery_mode=2, message_id=str(uuid.uuid4()).upper(),
            type=message["event"], timestamp=int(time.time()), headers={SCHEMA_HEADER: SCHEMA_VERSION})
        # mandatory: an unroutable result raises UnroutableError; a nack raises NackError.
        self.publishing.basic_publish(self.name("results"), "step.result", json.dumps(message).encode(), properties, mandatory=True)

    def dead_letter(self, queue, method, properties, body, reason):
        """The original message to the dead-letter exchange with the reason, then the ack."""
        headers = dict(properties.headers or {})
        headers["x-tasker-error"] = reason[:1000]
        headers["x-tasker-source-queue"] = queue
        properties.headers = headers
        properties.delivery_mode = 2
        try:
            self.publishing.basic_publish(self.name("dead"), queue, body, properties, mandatory=True)
        except Exception as error:
            log.warning("dead-lettering failed (%s); message returned for redelivery", error)
            self.return_for_redelivery(method)
            return
        log.info("undecodable step dispatch dead-lettered: %s", reason)
        self.consuming.basic_ack(method.delivery_tag)

    def return_for_redelivery(self, method):
        self.consuming.basic_nack(method.delivery_tag, requeue=True)


def failed(message, kind, error_class):
    return {"event": "step.failed", "error_message": message, "error_kind": kind, "error_class": error_class,
            "retry_after_seconds": None}


def configure_logging():
    level = os.environ.get("LOG_LEVEL", "info").upper()
    logging.basicConfig(level=getattr(logging, level, logging.INFO), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("pika").setLevel(logging.WARNING)
