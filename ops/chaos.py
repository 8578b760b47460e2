#!/usr/bin/env python3
"""Chaos soak of a real Tasker cluster (run it through ops/chaos, which sets the environment).

Starts coordinator, 2 finalizers, reenqueuer and 3 workers as separate `tasker` processes
under a supervisor, submits diamond tasks at a steady rate, and meanwhile SIGKILLs a random
service every ~2 s (the supervisor relaunches it), restarts RabbitMQ once and PostgreSQL once,
and injects duplicate and reordered messages (task requests, step results, step dispatches).
Then it audits the schema with SQL and the broker with rabbitmqctl, prints a summary table and
exits 1 when anything was lost, stuck, duplicated or wrong (2 on a usage or set-up error).

Isolation: its own database (tasker_chaos, recreated each run), its own topology prefix
(chaos-<run id>) and its own template namespace (chaos). It stops every process it started, by
PID, on any exit, starts RabbitMQ's app again if it stopped it, and deletes its queues.
"""
import argparse
import fcntl
import heapq
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import traceback
import types
import uuid

import pika
import pika.exceptions

P = 1_000_000_007
NAMESPACE = "chaos"
TEMPLATE = "diamond"
ROLES = [
    ("coordinator", ["coordinator"]),
    ("finalizer-1", ["finalizer"]),
    ("finalizer-2", ["finalizer"]),
    ("reenqueuer", ["reenqueuer"]),
    ("worker-1", ["worker"]),
    ("worker-2", ["worker"]),
    ("worker-3", ["worker"]),
]
TEMPLATE_YAML = """\
name: diamond
namespace: chaos
version: 1.0.0
description: ops/chaos soak workflow; the reference diamond (x^16 mod p) in its own namespace.
context_schema:
  type: object
  required: [even_number]
  properties:
    even_number: { type: integer, minimum: 2 }
defaults:
  retry: { max_attempts: 3, base_seconds: 1, max_seconds: 10 }
  timeout_seconds: %(timeout)d
steps:
  - { name: start, handler: square }
  - { name: branch_b, handler: square, depends_on: [start] }
  - { name: branch_c, handler: square, depends_on: [start] }
  - { name: end, handler: square, depends_on: [branch_b, branch_c] }
"""

T0 = time.time()


def now():
    return time.time()


def rel(t):
    return t - T0


EVENTS = None  # the run's events.log: every kill, launch and restart with its time


def say(message):
    print(f"[chaos {rel(now()):7.1f}s] {message}", flush=True)
    record(message)


def record(message):
    if EVENTS is not None:
        EVENTS.write(f"{now():.3f} {rel(now()):8.2f} {message}\n")
        EVENTS.flush()


class Stop(Exception):
    pass


# --------------------------------------------------------------------------------------------
# Configuration


def parse_args():
    p = argparse.ArgumentParser(prog="ops/chaos", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--short", action="store_true", help="CI mode: 400 tasks at 5/s (about 2 minutes)")
    p.add_argument("--tasks", type=int, help="diamond tasks to submit (full: 1000, short: 400)")
    p.add_argument("--rate", type=float, help="tasks per second (full: 20, short: 5)")
    p.add_argument("--seed", type=int, help="random seed (default: random; printed)")
    p.add_argument("--kill-interval", type=float, default=2.0, help="mean seconds between SIGKILLs (0: none)")
    p.add_argument("--pg-mode", choices=["fast", "immediate"], default="immediate", help="PostgreSQL restart mode")
    p.add_argument("--pg-down", type=float, default=2.0, help="seconds PostgreSQL stays down")
    p.add_argument("--rabbit-down", type=float, default=3.0, help="seconds RabbitMQ's app stays stopped")
    p.add_argument("--no-rabbit-restart", action="store_true")
    p.add_argument("--no-pg-restart", action="store_true")
    p.add_argument("--no-inject", action="store_true", help="no duplicate or reordered messages")
    p.add_argument("--drain-timeout", type=float, help="seconds to wait for the tasks after the chaos (full: 300, short: 150)")
    p.add_argument("--step-timeout", type=int, default=10, help="the template's timeout_seconds (sweeper acts after it + grace)")
    p.add_argument("--sweeper-grace", type=int, default=10, help="TASKER_SWEEPER_GRACE_SECONDS of the services")
    p.add_argument("--database", default="tasker_chaos", help="database to use; a name starting with tasker_chaos is recreated")
    p.add_argument("--bin", default=os.environ.get("TASKER_BIN"),
                   help="tasker binary (its checkout's migrations are used, or TASKER_MIGRATIONS_DIR)")
    p.add_argument("--json", help="write the figures to this file")
    p.add_argument("--keep", action="store_true", help="keep the broker queues of the run (for inspection)")
    a = p.parse_args()
    a.tasks = a.tasks or (400 if a.short else 1000)
    a.rate = a.rate or (5.0 if a.short else 20.0)
    a.drain_timeout = a.drain_timeout or (150.0 if a.short else 300.0)
    a.mode = "short" if a.short else "full"
    if a.seed is None:
        a.seed = random.SystemRandom().randrange(1, 1_000_000)
    return a


class Env:
    def __init__(self, args):
        e = os.environ
        self.root = e["TASKER_ROOT"]
        self.state_dir = e.get("TASKER_STATE_DIR", "/tmp/tasker-ops")
        self.pg_bin = e["PG_BIN"]
        self.pg_host = e.get("POSTGRES_HOSTNAME", "127.0.0.1")
        self.pg_port = e.get("POSTGRES_PORT", "55432")
        self.pg_user = e.get("POSTGRES_USER", "tasker")
        self.pg_password = e.get("POSTGRES_PASSWORD", "tasker")
        self.amqp_url = e["AMQP_URL"]
        self.database = args.database
        self.database_url = f"postgres://{self.pg_user}:{self.pg_password}@{self.pg_host}:{self.pg_port}/{self.database}"
        self.bin = args.bin or os.path.join(self.root, ".build/debug/tasker")
        self.migrations = e.get("TASKER_MIGRATIONS_DIR") or migrations_for(self.bin) or os.path.join(self.root, "migrations")


def migrations_for(binary):
    """The migrations of the checkout a binary was built in (<checkout>/.build/.../tasker)."""
    path = os.path.dirname(os.path.realpath(binary))
    while path != "/":
        if os.path.isdir(os.path.join(path, "migrations")) and os.path.exists(os.path.join(path, "Package.swift")):
            return os.path.join(path, "migrations")
        path = os.path.dirname(path)
    return None


# --------------------------------------------------------------------------------------------
# PostgreSQL and RabbitMQ helpers


class SQLError(Exception):
    pass


def psql(env, query, database=None, timeout=60):
    """Runs one query; returns rows as lists of strings (None for NULL)."""
    cmd = [os.path.join(env.pg_bin, "psql"), "-X", "-q", "-At", "-F", "\t", "-P", "null=\\N", "-v", "ON_ERROR_STOP=1",
           "-h", env.pg_host, "-p", str(env.pg_port), "-U", env.pg_user, "-d", database or env.database]
    run = subprocess.run(cmd, input=query, capture_output=True, text=True, timeout=timeout,
                         env=dict(os.environ, PGPASSWORD=env.pg_password, PGCONNECT_TIMEOUT="5"))
    if run.returncode != 0:
        raise SQLError(run.stderr.strip())
    rows = []
    for line in run.stdout.splitlines():
        rows.append([None if v == "\\N" else v for v in line.split("\t")])
    return rows


def rabbitctl(env, *args, timeout=120):
    script = '. "$TASKER_ROOT/ops/lib.sh"; rabbitctl "$@"'
    return subprocess.run(["bash", "-c", script, "rabbitctl", *args], capture_output=True, text=True, timeout=timeout)


def amqp_connect(env, name):
    params = pika.URLParameters(env.amqp_url)
    params.connection_attempts = 1
    params.socket_timeout = 5
    params.blocked_connection_timeout = 30
    params.heartbeat = 20
    params.client_properties = {"connection_name": f"ops-chaos-{name}"}
    return pika.BlockingConnection(params)


AMQP_ERRORS = (pika.exceptions.AMQPError, OSError, AssertionError)


def close_quietly(connection):
    try:
        if connection is not None and connection.is_open:
            connection.close()
    except Exception:
        pass


# --------------------------------------------------------------------------------------------
# Processes


class Proc:
    def __init__(self, role, args):
        self.role = role
        self.args = args
        self.popen = None
        self.launches = 0
        self.kills = 0
        self.killed_pending = False
        self.unexpected = []  # (time, returncode, log tail)
        self.log_path = None


class Cluster:
    def __init__(self, env, prefix, run_dir, args):
        self.env = env
        self.prefix = prefix
        self.run_dir = run_dir
        self.args = args
        self.procs = [Proc(role, cmd) for role, cmd in ROLES]
        self.lock = threading.Lock()
        self.stopping = False
        self.pid_file = os.path.join(env.state_dir, "chaos", "pids")
        self.process_env = dict(
            os.environ,
            DATABASE_URL=env.database_url,
            TASKER_TOPOLOGY_PREFIX=prefix,
            TASKER_NAMESPACES=NAMESPACE,
            TASKER_SWEEPER_GRACE_SECONDS=str(args.sweeper_grace),
            TASKER_STARTUP_TIMEOUT_SECONDS="600",
            TASKER_SHUTDOWN_DRAIN_SECONDS="10",
            TASKER_STARTED_REPORT_DELAY_MS="0",
            TASKER_MIGRATIONS_DIR=env.migrations,
            LOG_LEVEL=os.environ.get("LOG_LEVEL", "info"),
        )

    def launch(self, proc):
        proc.log_path = os.path.join(self.run_dir, f"{proc.role}.log")
        with open(proc.log_path, "a") as log:
            log.write(f"=== ops/chaos: launch {proc.launches + 1} at {now():.3f}\n")
            log.flush()
            proc.popen = subprocess.Popen([self.env.bin, *proc.args], stdout=log, stderr=subprocess.STDOUT,
                                          stdin=subprocess.DEVNULL, env=self.process_env, cwd=self.env.root,
                                          start_new_session=True)
        proc.launches += 1
        proc.killed_pending = False
        record(f"launched {proc.role} (pid {proc.popen.pid}, launch {proc.launches})")
        with open(self.pid_file, "a") as f:
            f.write(f"{proc.popen.pid} {self.prefix}\n")

    def start_all(self):
        for proc in self.procs:
            self.launch(proc)

    def supervise(self, stop_event):
        """Relaunches anything that exited (every 0.1 s) until the cluster is stopped."""
        while not stop_event.is_set():
            with self.lock:
                if self.stopping:
                    return
                for proc in self.procs:
                    rc = proc.popen.poll()
                    if rc is None:
                        continue
                    if not (proc.killed_pending and rc == -signal.SIGKILL):
                        why = crash_reason(proc.log_path)
                        proc.unexpected.append((now(), rc, why))
                        say(f"{proc.role} exited by itself with status {rc}; relaunching")
                    self.launch(proc)
            stop_event.wait(0.1)

    def kill_random(self, rng):
        with self.lock:
            alive = [p for p in self.procs if p.popen.poll() is None and not p.killed_pending]
            if not alive:
                return None
            proc = rng.choice(alive)
            try:
                os.kill(proc.popen.pid, signal.SIGKILL)
            except ProcessLookupError:
                return None
            proc.killed_pending = True
            proc.kills += 1
            record(f"SIGKILL {proc.role} (pid {proc.popen.pid})")
            return proc.role

    def stop_all(self, grace):
        """SIGTERM, then SIGKILL after `grace` seconds; returns the roles that needed SIGKILL."""
        with self.lock:
            self.stopping = True
        for proc in self.procs:
            if proc.popen and proc.popen.poll() is None:
                try:
                    proc.popen.terminate()
                except ProcessLookupError:
                    pass
        deadline = now() + grace
        forced = []
        for proc in self.procs:
            if not proc.popen:
                continue
            try:
                proc.popen.wait(timeout=max(0.1, deadline - now()))
            except subprocess.TimeoutExpired:
                forced.append(proc.role)
                proc.popen.kill()
                proc.popen.wait()
        try:
            os.remove(self.pid_file)
        except OSError:
            pass
        return forced


def kill_leftovers(env):
    """Kills processes a previous ops/chaos run started and could not stop (it was SIGKILLed):
    only PIDs in its pid file whose environment still carries that run's topology prefix."""
    path = os.path.join(env.state_dir, "chaos", "pids")
    if not os.path.exists(path):
        return
    for line in open(path):
        parts = line.split()
        if len(parts) != 2:
            continue
        pid, prefix = int(parts[0]), parts[1]
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                if f"TASKER_TOPOLOGY_PREFIX={prefix}".encode() in f.read().split(b"\0"):
                    os.kill(pid, signal.SIGKILL)
                    say(f"killed pid {pid} left over from an earlier run ({prefix})")
        except (OSError, ProcessLookupError):
            pass
    os.remove(path)


def crash_reason(path):
    """The lines of the last launch's log that say why it ended (a fatal error, the time the
    crash backtrace took), else its last lines."""
    try:
        with open(path, errors="replace") as f:
            text = f.read()
    except OSError:
        return []
    last = text.split("=== ops/chaos: launch")[-1].splitlines()
    why = [l for l in last if "Fatal error" in l or "Program crashed" in l or "Backtrace took" in l]
    return why or last[-6:]


def tail_lines(path, n):
    try:
        with open(path, "rb") as f:
            f.seek(0, 2)
            f.seek(max(0, f.tell() - 4000))
            return [l.decode(errors="replace") for l in f.read().splitlines()[-n:]]
    except OSError:
        return []


# --------------------------------------------------------------------------------------------
# Submission (task requests, with duplicates and reordered duplicates)


class Submitter:
    def __init__(self, env, prefix, run_id, args, rng):
        self.env = env
        self.prefix = prefix
        self.run_id = run_id
        self.args = args
        self.rng = rng
        self.inputs = {}  # n -> even_number
        self.confirmed = {}  # n -> time the broker confirmed the first copy
        self.replies = {}  # correlation id -> (status, task id)
        self.injected = {"request duplicate (at once)": 0, "request duplicate (delayed, reordered)": 0}
        self.publish_failures = 0
        self.done_at = None
        self.inject = not args.no_inject

    def body(self, n):
        return json.dumps({
            "namespace": NAMESPACE, "name": TEMPLATE,
            "context": {"even_number": self.inputs[n], "chaos_run": self.run_id, "n": n},
            "initiator": "ops/chaos", "source_system": "chaos", "reason": "chaos soak",
        }).encode()

    def run(self, start_at, stop_event):
        n_total, rate = self.args.tasks, self.args.rate
        for n in range(n_total):
            self.inputs[n] = self.rng.randrange(2, 1_000_000_000)
        delayed = []  # heap of (due, n, copy)
        copies = {}
        connection = channel = None
        reply_queue = None
        n = 0
        pending = None  # (n, copy, kind) being published
        while not stop_event.is_set():
            t = now()
            if pending is None:
                if delayed and delayed[0][0] <= t:
                    due, dn, _ = heapq.heappop(delayed)
                    pending = (dn, "request duplicate (delayed, reordered)")
                elif n < n_total and t >= start_at + n / rate:
                    pending = (n, None)
                    n += 1
                elif n >= n_total and not delayed:
                    break
                else:
                    nxt = start_at + n / rate if n < n_total else delayed[0][0]
                    if delayed:
                        nxt = min(nxt, delayed[0][0])
                    if connection is not None:
                        try:
                            connection.process_data_events(time_limit=max(0.0, min(0.05, nxt - now())))
                        except AMQP_ERRORS:
                            close_quietly(connection)
                            connection = None
                    else:
                        time.sleep(max(0.0, min(0.05, nxt - now())))
                    continue
            try:
                if connection is None or not connection.is_open:
                    connection = amqp_connect(self.env, "submitter")
                    channel = connection.channel()
                    channel.confirm_delivery()
                    reply_queue = channel.queue_declare("", exclusive=True, auto_delete=True).method.queue
                    channel.basic_consume(reply_queue, self.on_reply, auto_ack=True)
                pn, kind = pending
                copy = copies.get(pn, 0)
                copies[pn] = copy + 1
                props = pika.BasicProperties(
                    content_type="application/json", delivery_mode=2, headers={"x-tasker-schema-version": 1},
                    reply_to=reply_queue, correlation_id=f"{pn}.{copy}", message_id=str(uuid.uuid4()))
                channel.basic_publish(f"{self.prefix}.requests", f"{NAMESPACE}.{TEMPLATE}", self.body(pn), props, mandatory=True)
                if kind is None:
                    self.confirmed.setdefault(pn, now())
                    if self.inject:
                        r = self.rng.random()
                        if r < 0.03:
                            pending = (pn, "request duplicate (at once)")
                            continue
                        if r < 0.06:
                            heapq.heappush(delayed, (now() + self.rng.uniform(0.5, 5.0), pn, 1))
                else:
                    self.injected[kind] += 1
                pending = None
                connection.process_data_events(time_limit=0)
            except AMQP_ERRORS:
                # Broker gone or publish not confirmed: publish it again (at least once; the
                # coordinator deduplicates by the request's identity).
                self.publish_failures += 1
                close_quietly(connection)
                connection = None
                stop_event.wait(0.5)
        self.done_at = now()
        # Collect late replies for a moment, then leave.
        end = now() + 2
        while connection is not None and now() < end and not stop_event.is_set():
            try:
                connection.process_data_events(time_limit=0.2)
            except AMQP_ERRORS:
                break
        close_quietly(connection)

    def on_reply(self, channel, method, properties, body):
        try:
            reply = json.loads(body)
            self.replies[properties.correlation_id] = (reply.get("status"), reply.get("task_id"), reply.get("errors"))
        except ValueError:
            self.replies[properties.correlation_id] = ("undecodable", None, None)


# --------------------------------------------------------------------------------------------
# Injection of duplicate and reordered step results and dispatches


class Injector:
    """Taps the results and steps exchanges with exclusive queues of its own and publishes some
    of what it sees again: results at once (a duplicate) or 0.5-4 s later (reordered: a stale
    `step.started` after its `step.completed`, an old attempt's report after a newer one), and
    dispatches 0-3 s later (a worker runs the step again and reports it again)."""

    def __init__(self, env, prefix, rng):
        self.env = env
        self.prefix = prefix
        self.rng = rng
        self.heap = []
        self.seq = 0
        self.injected = {"result duplicate (at once)": 0, "result duplicate (delayed, reordered)": 0,
                         "dispatch duplicate (delayed)": 0}
        self.seen = {"results": 0, "dispatches": 0}

    def schedule(self, delay, exchange, key, props, body, kind):
        headers = dict(props.headers or {})
        headers["x-chaos-injected"] = kind
        props.headers = headers
        self.seq += 1
        heapq.heappush(self.heap, (now() + delay, self.seq, exchange, key, props, body, kind))

    def on_result(self, channel, method, props, body):
        if props.headers and "x-chaos-injected" in props.headers:
            return
        self.seen["results"] += 1
        r = self.rng.random()
        if r < 0.05:
            self.schedule(0, f"{self.prefix}.results", "step.result", props, body, "result duplicate (at once)")
        elif r < 0.12:
            self.schedule(self.rng.uniform(0.5, 4.0), f"{self.prefix}.results", "step.result", props, body,
                          "result duplicate (delayed, reordered)")

    def on_dispatch(self, channel, method, props, body):
        if props.headers and "x-chaos-injected" in props.headers:
            return
        self.seen["dispatches"] += 1
        if self.rng.random() < 0.03:
            self.schedule(self.rng.uniform(0.0, 3.0), f"{self.prefix}.steps", NAMESPACE, props, body,
                          "dispatch duplicate (delayed)")

    def run(self, stop_event):
        connection = None
        while not stop_event.is_set():
            try:
                if connection is None or not connection.is_open:
                    connection = amqp_connect(self.env, "injector")
                    channel = connection.channel()
                    channel.confirm_delivery()
                    for exchange, key, callback in ((f"{self.prefix}.results", "step.result", self.on_result),
                                                    (f"{self.prefix}.steps", NAMESPACE, self.on_dispatch)):
                        q = channel.queue_declare("", exclusive=True, auto_delete=True,
                                                  arguments={"x-max-length": 20000}).method.queue
                        channel.queue_bind(q, exchange, key)
                        channel.basic_consume(q, callback, auto_ack=True)
                connection.process_data_events(time_limit=0.05)
                while self.heap and self.heap[0][0] <= now() and not stop_event.is_set():
                    _, _, exchange, key, props, body, kind = self.heap[0]
                    channel.basic_publish(exchange, key, body, props, mandatory=True)
                    heapq.heappop(self.heap)
                    self.injected[kind] += 1
            except AMQP_ERRORS:
                close_quietly(connection)
                connection = None
                stop_event.wait(0.5)
        close_quietly(connection)


# --------------------------------------------------------------------------------------------
# Server restarts


class Restarts:
    def __init__(self, env, args, run_dir):
        self.env = env
        self.args = args
        self.run_dir = run_dir
        self.events = []  # dicts: server, mode, down, back, ok
        self.rabbit_stopped = False

    def restart_rabbit(self):
        ev = {"server": "RabbitMQ", "mode": "stop_app/start_app", "down": now()}
        say("RabbitMQ: stop_app")
        self.rabbit_stopped = True
        r = rabbitctl(self.env, "-q", "stop_app")
        ev["stop_ok"] = r.returncode == 0
        ev["issued"] = ev["down"]
        ev["down"] = now()  # the app has stopped: the outage starts here
        time.sleep(self.args.rabbit_down)
        self.ensure_rabbit()
        ev["back"] = now()
        ev["ok"] = ev["stop_ok"] and not self.rabbit_stopped
        say(f"RabbitMQ: back, {ev['back'] - ev['down']:.1f}s after the app stopped ({ev['down'] - ev['issued']:.1f}s to stop it)")
        self.events.append(ev)

    def ensure_rabbit(self):
        if not self.rabbit_stopped:
            return
        for _ in range(5):
            r = rabbitctl(self.env, "-q", "start_app")
            if r.returncode == 0:
                rabbitctl(self.env, "-q", "await_startup")
                self.rabbit_stopped = False
                return
            say(f"RabbitMQ start_app failed: {r.stderr.strip()[:200]}; retrying")
            time.sleep(2)

    def restart_postgres(self):
        mode = self.args.pg_mode
        ev = {"server": "PostgreSQL", "mode": mode, "down": now()}
        say(f"PostgreSQL: restart ({mode}, down {self.args.pg_down:g}s)")
        # Its output goes to a file, not a pipe: a server that inherited a pipe would hold it open.
        log_path = os.path.join(self.run_dir, "restart-postgres.log")
        with open(log_path, "a") as log:
            r = subprocess.run([os.path.join(self.env.root, "ops/restart-postgres"), mode, "--down", str(self.args.pg_down)],
                               stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        ev["back"] = now()
        ev["ok"] = r.returncode == 0
        if not ev["ok"]:
            say(f"ops/restart-postgres failed (status {r.returncode}): {' '.join(tail_lines(log_path, 3))}")
        say(f"PostgreSQL: back after {ev['back'] - ev['down']:.1f}s")
        self.events.append(ev)


# --------------------------------------------------------------------------------------------
# Audit


def run_filter(run_id):
    return f"t.context->>'chaos_run' = '{run_id}'"


DUPLICATE_CHECKS = [
    # (kind, SQL returning one row per offending entity; :run is the run filter)
    ("tasks per request > 1",
     """SELECT t.context->>'n', count(*), string_agg(t.id::text, ',') FROM tasks t WHERE :run
        GROUP BY 1 HAVING count(*) > 1"""),
    ("step transition repeated (same step, from, to, attempt)",
     """WITH tr AS (
          SELECT st.step_id, st.from_state, st.to_state,
                 sum((st.to_state = 'enqueued')::int) OVER (PARTITION BY st.step_id ORDER BY st.sort_key) AS attempt
          FROM step_transitions st JOIN tasks t ON t.id = st.task_id WHERE :run)
        SELECT step_id, coalesce(from_state, 'NULL') || '->' || to_state, attempt, count(*) FROM tr
        GROUP BY step_id, from_state, to_state, attempt HAVING count(*) > 1"""),
    ("step completed more than once",
     """SELECT st.step_id, count(*) FROM step_transitions st JOIN tasks t ON t.id = st.task_id
        WHERE :run AND st.to_state = 'complete' GROUP BY 1 HAVING count(*) > 1"""),
    ("step started more often than its attempts",
     """SELECT s.id, s.attempts, count(st.*) FILTER (WHERE st.to_state = 'in_progress')
        FROM steps s JOIN tasks t ON t.id = s.task_id JOIN step_transitions st ON st.step_id = s.id
        WHERE :run GROUP BY s.id, s.attempts HAVING count(st.*) FILTER (WHERE st.to_state = 'in_progress') <> s.attempts"""),
    ("step transition chain broken (from != previous to)",
     """SELECT step_id, sort_key, coalesce(from_state, 'NULL') || '->' || to_state, prev FROM (
          SELECT st.step_id, st.sort_key, st.from_state, st.to_state,
                 lag(st.to_state) OVER (PARTITION BY st.step_id ORDER BY st.sort_key) AS prev
          FROM step_transitions st JOIN tasks t ON t.id = st.task_id WHERE :run) c
        WHERE (prev IS NULL AND (from_state IS NOT NULL OR to_state <> 'pending'))
           OR (prev IS NOT NULL AND from_state IS DISTINCT FROM prev)"""),
    ("step sort keys not 1..n",
     """SELECT st.step_id, min(st.sort_key), max(st.sort_key), count(*) FROM step_transitions st
        JOIN tasks t ON t.id = st.task_id WHERE :run GROUP BY 1 HAVING min(st.sort_key) <> 1 OR max(st.sort_key) <> count(*)"""),
    ("step most_recent not exactly the last row / state",
     """SELECT s.id, s.state, count(*) FILTER (WHERE st.most_recent),
               max(st.sort_key) FILTER (WHERE st.most_recent), max(st.sort_key),
               (array_agg(st.to_state ORDER BY st.sort_key DESC))[1]
        FROM steps s JOIN tasks t ON t.id = s.task_id JOIN step_transitions st ON st.step_id = s.id WHERE :run
        GROUP BY s.id, s.state
        HAVING count(*) FILTER (WHERE st.most_recent) <> 1
            OR max(st.sort_key) FILTER (WHERE st.most_recent) <> max(st.sort_key)
            OR (array_agg(st.to_state ORDER BY st.sort_key DESC))[1] <> s.state"""),
    ("task transition repeated (same task, from, to)",
     """SELECT tt.task_id, coalesce(tt.from_state, 'NULL') || '->' || tt.to_state, count(*)
        FROM task_transitions tt JOIN tasks t ON t.id = tt.task_id WHERE :run
        GROUP BY tt.task_id, tt.from_state, tt.to_state HAVING count(*) > 1"""),
    ("task transition chain broken (from != previous to)",
     """SELECT task_id, sort_key, coalesce(from_state, 'NULL') || '->' || to_state, prev FROM (
          SELECT tt.task_id, tt.sort_key, tt.from_state, tt.to_state,
                 lag(tt.to_state) OVER (PARTITION BY tt.task_id ORDER BY tt.sort_key) AS prev
          FROM task_transitions tt JOIN tasks t ON t.id = tt.task_id WHERE :run) c
        WHERE (prev IS NULL AND (from_state IS NOT NULL OR to_state <> 'pending'))
           OR (prev IS NOT NULL AND from_state IS DISTINCT FROM prev)"""),
    ("task sort keys not 1..n / most_recent wrong",
     """SELECT t.id, t.state, min(tt.sort_key), max(tt.sort_key), count(*), count(*) FILTER (WHERE tt.most_recent)
        FROM tasks t JOIN task_transitions tt ON tt.task_id = t.id WHERE :run GROUP BY t.id, t.state
        HAVING min(tt.sort_key) <> 1 OR max(tt.sort_key) <> count(*) OR count(*) FILTER (WHERE tt.most_recent) <> 1
            OR max(tt.sort_key) FILTER (WHERE tt.most_recent) <> max(tt.sort_key)
            OR (array_agg(tt.to_state ORDER BY tt.sort_key DESC))[1] <> t.state"""),
    ("steps per task != 4 or step names repeated",
     """SELECT t.id, count(s.*), count(DISTINCT s.name) FROM tasks t LEFT JOIN steps s ON s.task_id = t.id WHERE :run
        GROUP BY t.id HAVING count(s.*) <> 4 OR count(DISTINCT s.name) <> 4"""),
]

WRONG_RESULTS_SQL = """
WITH x AS (SELECT t.id, (t.context->>'even_number')::numeric AS x FROM tasks t WHERE :run),
     p AS (SELECT id, mod(x * x, 1000000007) AS v2 FROM x),
     q AS (SELECT id, v2, mod(v2 * v2, 1000000007) AS v4 FROM p),
     r AS (SELECT id, v2, v4, mod(mod(v4 * v4, 1000000007) * mod(v4 * v4, 1000000007), 1000000007) AS v16 FROM q)
SELECT s.task_id, s.name, s.results->>'value',
       CASE s.name WHEN 'start' THEN r.v2 WHEN 'end' THEN r.v16 ELSE r.v4 END AS expected
FROM steps s JOIN r ON r.id = s.task_id
WHERE s.state = 'complete'
  AND (s.results->>'value') IS DISTINCT FROM (CASE s.name WHEN 'start' THEN r.v2 WHEN 'end' THEN r.v16 ELSE r.v4 END)::text
"""


def audit_database(env, run_id, submitter):
    f = run_filter(run_id)
    out = {}
    tasks = psql(env, f"""
        SELECT t.id, (t.context->>'n')::int, (t.context->>'even_number')::bigint, t.state,
               extract(epoch FROM t.created_at), extract(epoch FROM t.completed_at),
               (SELECT s.results->>'value' FROM steps s WHERE s.task_id = t.id AND s.name = 'end')
        FROM tasks t WHERE {f}""")
    by_n = {}
    for row in tasks:
        by_n.setdefault(int(row[1]), []).append(row)
    confirmed = set(submitter.confirmed)
    out["requests"] = len(confirmed)
    out["tasks"] = len(tasks)
    lost = sorted(n for n in confirmed if n not in by_n)
    out["lost"] = len(lost)
    out["lost_sample"] = lost[:5]
    unfinished = [r for r in tasks if r[3] not in ("complete", "error")]
    out["stuck"] = len(unfinished)
    out["stuck_sample"] = [(r[0], r[3]) for r in unfinished[:5]]
    failed = [r for r in tasks if r[3] == "error"]
    out["failed"] = len(failed)
    out["failed_sample"] = [r[0] for r in failed[:5]]
    # The checkable result: `end` = x^16 mod p for the x this run sent (and the x it stored).
    wrong_end = []
    for row in tasks:
        n, x = int(row[1]), int(row[2])
        if x != submitter.inputs.get(n):
            wrong_end.append((row[0], "context even_number differs from the request"))
        elif row[3] == "complete" and (row[6] is None or int(row[6]) != pow(x, 16, P)):
            wrong_end.append((row[0], f"end = {row[6]}, expected {pow(x, 16, P)}"))
    wrong_steps = psql(env, WRONG_RESULTS_SQL.replace(":run", f))
    out["wrong"] = len(wrong_end) + len(wrong_steps)
    out["wrong_sample"] = wrong_end[:3] + [tuple(r) for r in wrong_steps[:3]]
    dups = {}
    for kind, sql in DUPLICATE_CHECKS:
        rows = psql(env, sql.replace(":run", f))
        dups[kind] = {"count": len(rows), "sample": [tuple(r) for r in rows[:3]]}
    out["duplicates"] = dups
    # Replies: every reply for a request names that request's task ("duplicate" for copies).
    task_of = {n: rows[0][0].lower() for n, rows in by_n.items() if len(rows) == 1}
    reply_mismatch = []
    statuses = {}
    for corr, (status, task_id, errors) in submitter.replies.items():
        n = int(corr.split(".")[0])
        statuses[status] = statuses.get(status, 0) + 1
        if status not in ("created", "duplicate") or (n in task_of and (task_id or "").lower() != task_of[n]):
            reply_mismatch.append((corr, status, task_id, errors))
    out["replies"] = statuses
    out["reply_mismatch"] = len(reply_mismatch)
    out["reply_mismatch_sample"] = reply_mismatch[:3]
    out["outbox_left"] = int(psql(env, f"SELECT coalesce(sum(cardinality(message_ids)), 0) FROM outbox_batches WHERE starts_with(exchanges[1], '{submitter.prefix}.')")[0][0])
    # Timing material.
    st = psql(env, f"""
        SELECT extract(epoch FROM st.created_at), st.to_state, st.metadata->>'worker_id', s.attempts,
               st.metadata->>'reported_at'
        FROM step_transitions st JOIN steps s ON s.id = st.step_id JOIN tasks t ON t.id = st.task_id WHERE {f}""")
    out["completions"] = sorted(float(r[0]) for r in st if r[1] == "complete")
    out["recording_lag"] = sorted(float(r[0]) - float(r[4]) for r in st if r[1] == "complete" and r[4] is not None)
    out["sweeper_actions"] = sum(1 for r in st if r[2] == "sweeper")
    out["retried_steps"] = int(psql(env, f"SELECT count(*) FROM steps s JOIN tasks t ON t.id = s.task_id WHERE {f} AND s.attempts > 1")[0][0])
    out["task_done"] = {int(r[1]): float(r[5]) for r in tasks if r[5] is not None}
    out["task_created"] = {int(r[1]): float(r[4]) for r in tasks}
    return out


def queue_report(env, prefix):
    r = rabbitctl(env, "-q", "list_queues", "--no-table-headers", "name", "messages_ready", "messages_unacknowledged", "consumers")
    if r.returncode != 0:
        return None
    queues = {}
    for line in r.stdout.splitlines():
        parts = line.split("\t")
        if len(parts) == 4 and parts[0].startswith(prefix + "."):
            queues[parts[0]] = (int(parts[1]), int(parts[2]), int(parts[3]))
    return queues


def dead_letter_sample(env, prefix, limit=5):
    """Reads (and requeues) a few dead-lettered messages to show why they were dead-lettered."""
    samples = []
    connection = None
    try:
        connection = amqp_connect(env, "audit")
        channel = connection.channel()
        tags = []
        for _ in range(limit):
            method, props, body = channel.basic_get(f"{prefix}.dead", auto_ack=False)
            if method is None:
                break
            tags.append(method.delivery_tag)
            headers = props.headers or {}
            samples.append({"type": props.type, "error": headers.get("x-tasker-error"),
                            "source": headers.get("x-tasker-source-queue"),
                            "death": str(headers.get("x-death", ""))[:200], "body": body[:200].decode(errors="replace")})
        for tag in tags:
            channel.basic_nack(tag, requeue=True)
    except AMQP_ERRORS as error:
        samples.append({"error": f"could not read the dead-letter queue: {error}"})
    finally:
        close_quietly(connection)
    return samples


def delete_topology(env, prefix):
    connection = None
    try:
        connection = amqp_connect(env, "cleanup")
        channel = connection.channel()
        for q in ("requests.coordinator", "results.finalizer", f"steps.{NAMESPACE}", "reenqueuer", "dead"):
            channel.queue_delete(f"{prefix}.{q}")
        for x in ("requests", "events", "steps", "results", "dead"):
            channel.exchange_delete(f"{prefix}.{x}")
    except AMQP_ERRORS as error:
        say(f"could not delete the run's queues: {error}")
    finally:
        close_quietly(connection)


# --------------------------------------------------------------------------------------------
# Figures


def percentile(values, q):
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def stall_figures(audit, sub_start, restarts, submitter):
    comps = audit["completions"]
    out = {"longest_stall": None, "longest_stall_at": None, "restarts": []}
    if not comps:
        return out
    points = [sub_start] + comps
    gaps = [(points[i + 1] - points[i], points[i]) for i in range(len(points) - 1)]
    longest = max(gaps)
    out["longest_stall"] = longest[0]
    out["longest_stall_at"] = rel(longest[1])
    for ev in restarts:
        if "back" not in ev:
            continue
        down, back = ev["down"], ev["back"]
        after = [c for c in comps if c >= back]
        first = (after[0] - back) if after else None
        # The stall around the outage: the longest gap between completions overlapping it.
        around = max((g for g, start in gaps if start <= back and start + g >= down), default=None)
        backlog = [submitter.confirmed[n] for n in submitter.confirmed if submitter.confirmed[n] <= down]
        pending_ns = [n for n in submitter.confirmed if submitter.confirmed[n] <= down]
        done = [audit["task_done"].get(n) for n in pending_ns]
        cleared = (max(done) - back) if done and all(d is not None for d in done) else None
        out["restarts"].append({
            "server": ev["server"], "mode": ev["mode"], "at": rel(down), "outage": back - down,
            "first_progress_after_back": first, "stall_around": around, "backlog_cleared_after_back": cleared,
            "requests_before": len(backlog), "ok": ev.get("ok", False),
        })
    return out


def timeline(completions, start, restarts, kills, bucket=2.0):
    """Step completions per bucket from the first request on, with the restarts marked."""
    if not completions:
        return "step completions: none"
    n = int((completions[-1] - start) // bucket) + 1
    counts = [0] * n
    for c in completions:
        if c >= start:
            counts[int((c - start) // bucket)] += 1
    marks = {}
    for ev in restarts:
        for key, label in (("down", "down"), ("back", "back")):
            if key in ev:
                i = int((ev[key] - start) // bucket)
                marks.setdefault(i, []).append(f"{ev['server'][:2]} {label}")
    cells = []
    for i, c in enumerate(counts):
        cells.append(f"{c}" + (f" [{', '.join(marks[i])}]" if i in marks else ""))
    return f"step completions per {bucket:g} s from the first request (Ra = RabbitMQ, Po = PostgreSQL): " + " ".join(cells)


def backlog_text(v):
    if v is None:
        return "earlier requests not all done"
    if v <= 0:
        return f"earlier requests all done {fmt(-v)} before it was back"
    return f"earlier requests all done {fmt(v)} after"


def fmt(v, unit="s", digits=1):
    if v is None:
        return "-"
    return f"{v:.{digits}f} {unit}".strip()


def print_table(rows):
    width = max(len(r[0]) for r in rows)
    vwidth = max(len(str(r[1])) for r in rows)
    line = f"+-{'-' * width}-+-{'-' * vwidth}-+"
    print(line)
    for name, value in rows:
        if name == "--":
            print(line)
            continue
        print(f"| {name.ljust(width)} | {str(value).ljust(vwidth)} |")
    print(line)


# --------------------------------------------------------------------------------------------
# Main


def main():
    args = parse_args()
    env = Env(args)
    rng = random.Random(args.seed)
    run_id = time.strftime("%Y%m%d-%H%M%S") + f"-{os.getpid()}"
    prefix = f"chaos-{run_id}"
    base_dir = os.path.join(env.state_dir, "chaos")
    run_dir = os.path.join(base_dir, run_id)
    os.makedirs(run_dir, exist_ok=True)
    global EVENTS
    EVENTS = open(os.path.join(run_dir, "events.log"), "a")
    if not os.path.exists(env.bin):
        say(f"no tasker binary at {env.bin} (build it: swift build --product tasker)")
        return 2

    lock_file = open(os.path.join(base_dir, "lock"), "w")
    try:
        fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        say("another ops/chaos run is in progress on these servers (lock held); not starting")
        return 2

    # SIGTERM and SIGINT end the run through the same clean-up as a normal end.
    def interrupt(signum, frame):
        raise Stop(f"signal {signum}")
    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, interrupt)

    stop_event = threading.Event()  # ends every thread
    inject_stop = threading.Event()
    cluster = None
    restarts = Restarts(env, args, run_dir)
    threads = []
    restart_threads = []
    status = 1
    summary = {}
    try:
        say(f"mode {args.mode}: {args.tasks} diamond tasks at {args.rate:g}/s, seed {args.seed}, prefix {prefix}, "
            f"database {env.database}, logs {run_dir}")
        kill_leftovers(env)
        # Its own database, fresh each run (the servers' other users keep theirs).
        if env.database.startswith("tasker_chaos"):
            psql(env, f'DROP DATABASE IF EXISTS "{env.database}" WITH (FORCE)', database="postgres")
            psql(env, f'CREATE DATABASE "{env.database}"', database="postgres")
        template_dir = os.path.join(run_dir, "templates")
        os.makedirs(template_dir, exist_ok=True)
        with open(os.path.join(template_dir, "diamond.yaml"), "w") as f:
            f.write(TEMPLATE_YAML % {"timeout": args.step_timeout})
        cluster = Cluster(env, prefix, run_dir, args)
        for cmd in (["migrate"], ["templates", "register", template_dir]):
            r = subprocess.run([env.bin, *cmd, "--log-level", "warning"], env=cluster.process_env, cwd=env.root,
                               capture_output=True, text=True)
            if r.returncode != 0:
                say(f"tasker {' '.join(cmd)} failed: {r.stdout}{r.stderr}")
                return 2
        cluster.start_all()
        threads.append(threading.Thread(target=cluster.supervise, args=(stop_event,), daemon=True, name="supervisor"))
        threads[-1].start()
        wait_ready(env, prefix, timeout=120)
        say("cluster ready: coordinator, 2 finalizers, reenqueuer, 3 workers")

        submitter = Submitter(env, prefix, run_id, args, random.Random(args.seed + 2))
        injector = Injector(env, prefix, random.Random(args.seed + 1))
        if not args.no_inject:
            t = threading.Thread(target=injector.run, args=(inject_stop,), daemon=True, name="injector")
            t.start()
            threads.append(t)
            time.sleep(0.5)  # let its tap queues bind before the first request
        sub_start = now() + 0.2
        duration = args.tasks / args.rate
        t = threading.Thread(target=submitter.run, args=(sub_start, stop_event), daemon=True, name="submitter")
        t.start()
        threads.append(t)
        monitor = Monitor(env, run_id, submitter, cluster)
        t = threading.Thread(target=monitor.run, args=(stop_event,), daemon=True, name="monitor")
        t.start()
        threads.append(t)

        # The chaos: SIGKILLs all along, RabbitMQ at 30% of the submission, PostgreSQL at 65%.
        schedule = []
        if not args.no_rabbit_restart:
            schedule.append((sub_start + 0.30 * duration, restarts.restart_rabbit))
        if not args.no_pg_restart:
            schedule.append((sub_start + 0.65 * duration, restarts.restart_postgres))
        chaos_end = sub_start + duration + 5
        next_kill = now() + (rng.uniform(0.5, 1.5) * args.kill_interval if args.kill_interval > 0 else float("inf"))
        kills = []
        while True:
            t = now()
            if t >= chaos_end and not schedule and all(not th.is_alive() for th in restart_threads) \
                    and submitter.done_at is not None:
                break
            if t >= chaos_end + 180:
                say("submission did not finish within 180 s of the planned end; going on to the audit")
                break
            while schedule and schedule[0][0] <= t:
                _, fn = schedule.pop(0)
                th = threading.Thread(target=fn, daemon=True)
                th.start()
                restart_threads.append(th)
            if t >= next_kill and t < chaos_end:
                role = cluster.kill_random(rng)
                if role:
                    kills.append((t, role))
                next_kill = t + rng.uniform(0.5, 1.5) * args.kill_interval
            time.sleep(0.05)
        inject_stop.set()
        say(f"chaos over: {len(kills)} SIGKILLs; waiting for the tasks to finish")

        # Drain: every confirmed request's task finished, then the queues empty.
        deadline = now() + args.drain_timeout
        while now() < deadline:
            counts = monitor.counts
            if counts and counts.get("finished", 0) >= len(submitter.confirmed) and counts.get("tasks", 0) >= len(submitter.confirmed):
                break
            time.sleep(1)
        drained_at = now()
        queues = settle_queues(env, prefix, timeout=60)
        say("auditing")
        audit = audit_database(env, run_id, submitter)
        dead = queues.get(f"{prefix}.dead", (0, 0, 0)) if queues else (0, 0, 0)
        dead_count = dead[0] + dead[1]
        dead_samples = dead_letter_sample(env, prefix) if dead_count else []
        left = {q: v for q, v in (queues or {}).items() if q != f"{prefix}.dead" and (v[0] or v[1])}
        stalls = stall_figures(audit, sub_start, restarts.events, submitter)
        latencies = [audit["task_done"][n] - submitter.confirmed[n] for n in submitter.confirmed if n in audit["task_done"]]
        confirms = sorted(submitter.confirmed.values())
        submit_stall = max((b - a for a, b in zip(confirms, confirms[1:])), default=0)
        forced = cluster.stop_all(grace=20)
        unexpected = [(p.role, rel(t), rc, tail) for p in cluster.procs for (t, rc, tail) in p.unexpected]

        run = types.SimpleNamespace(
            args=args, run_id=run_id, run_dir=run_dir, submitter=submitter, injector=injector, cluster=cluster,
            audit=audit, queues=queues, left=left, dead_count=dead_count, dead_samples=dead_samples, stalls=stalls,
            latencies=latencies, submit_stall=submit_stall, forced=forced, unexpected=unexpected, kills=kills,
            drain=drained_at - chaos_end, restarts=restarts.events, sub_start=sub_start)
        failures = verdict(run)
        print_report(run, failures)
        summary = summary_json(run, failures)
        status = 0 if not failures else 1
    except Stop as reason:
        say(f"interrupted ({reason}); cleaning up")
        status = 130
    except Exception:
        traceback.print_exc()
        say("ops/chaos failed; cleaning up")
        status = 2
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop_event.set()
        inject_stop.set()
        if cluster is not None and not cluster.stopping:
            forced = cluster.stop_all(grace=20)
            if forced:
                say(f"needed SIGKILL at the end: {', '.join(forced)}")
        for th in restart_threads:
            th.join(timeout=120)  # a server restart in progress finishes (never leave a server down)
        restarts.ensure_rabbit()
        if not args.keep:
            delete_topology(env, prefix)
        if args.json and summary:
            with open(args.json, "w") as f:
                json.dump(summary, f, indent=2, default=str)
        prune_runs(base_dir, keep=5)
        say(f"exit {status}")
    return status


# --------------------------------------------------------------------------------------------
# Verdict and report


def verdict(run):
    """What failed: anything lost, stuck, failed, wrong, duplicated or left behind."""
    args, audit, submitter = run.args, run.audit, run.submitter
    queues, left, dead_count = run.queues, run.left, run.dead_count
    dup_total = sum(d["count"] for d in audit["duplicates"].values())
    failures = []
    if audit["lost"]:
        failures.append(f"{audit['lost']} lost")
    if audit["stuck"]:
        failures.append(f"{audit['stuck']} stuck")
    if audit["failed"]:
        failures.append(f"{audit['failed']} failed tasks")
    if audit["wrong"]:
        failures.append(f"{audit['wrong']} wrong results")
    if dup_total:
        failures.append(f"{dup_total} duplicates")
    if audit["reply_mismatch"]:
        failures.append(f"{audit['reply_mismatch']} replies naming the wrong task")
    if queues is None:
        failures.append("could not list the queues")
    if left:
        failures.append(f"messages left in {', '.join(left)}")
    if dead_count:
        failures.append(f"{dead_count} dead-lettered")
    if audit["outbox_left"]:
        failures.append(f"{audit['outbox_left']} outbox messages left")
    if len(submitter.confirmed) < args.tasks:
        failures.append(f"only {len(submitter.confirmed)} of {args.tasks} requests confirmed by the broker")
    if any(not ev.get("ok") for ev in run.restarts):
        failures.append("a server restart failed")

    return failures


def print_report(run, failures):
    """The summary table, the completions timeline, and samples of whatever failed."""
    args, audit, submitter, cluster = run.args, run.audit, run.submitter, run.cluster
    left, dead_count, stalls, latencies = run.left, run.dead_count, run.stalls, run.latencies
    injector, kills, forced, unexpected = run.injector, run.kills, run.forced, run.unexpected
    injected = dict(submitter.injected)
    injected.update(injector.injected)
    rows = [
        ("mode", f"{args.mode}: {args.tasks} tasks at {args.rate:g}/s, seed {args.seed}"),
        ("--", ""),
        ("requests confirmed by the broker", len(submitter.confirmed)),
        ("tasks created", audit["tasks"]),
        ("lost (request without a task)", audit["lost"]),
        ("stuck (not finished after the drain)", audit["stuck"]),
        ("failed tasks (error)", audit["failed"]),
        ("wrong results (any step; end = x^16 mod p)", audit["wrong"]),
    ]
    for kind, d in audit["duplicates"].items():
        rows.append((f"duplicates: {kind}", d["count"]))
    rows += [
        ("replies naming the wrong task / bad status", audit["reply_mismatch"]),
        ("replies received (by status)", ", ".join(f"{k} {v}" for k, v in sorted(audit["replies"].items(), key=str)) or "-"),
        ("messages left in work queues (ready/unacked)", "0" if not left else "; ".join(f"{q} {v[0]}/{v[1]}" for q, v in left.items())),
        ("dead-lettered", dead_count),
        ("outbox messages left", audit["outbox_left"]),
        ("--", ""),
        ("SIGKILLs", f"{len(kills)} (" + ", ".join(f"{p.role} {p.kills}" for p in cluster.procs) + ")"),
        ("unexpected exits (relaunched)", len(unexpected)),
        ("processes needing SIGKILL at the end (SIGTERM ignored 20 s)", ", ".join(forced) or "0"),
    ]
    for kind in sorted(injected):
        rows.append((f"injected: {kind}", injected[kind]))
    rows += [
        ("steps run more than once (attempts > 1)", audit["retried_steps"]),
        ("sweeper timeouts (attempts failed by the sweeper)", audit["sweeper_actions"]),
        ("--", ""),
        ("longest stall (no step completed)", f"{fmt(stalls['longest_stall'])} (at t={fmt(stalls['longest_stall_at'])})"),
        ("longest submission stall (client, broker confirms)", fmt(run.submit_stall)),
        ("task latency p50 / p95 / max (request confirmed -> task complete)",
         " / ".join(fmt(percentile(latencies, q)) for q in (0.5, 0.95, 1.0))),
        ("result recording lag p50 / p95 / max (worker report -> finalizer transaction)",
         " / ".join(fmt(percentile(audit["recording_lag"], q)) for q in (0.5, 0.95, 1.0))),
    ]
    for r in stalls["restarts"]:
        rows.append((f"{r['server']} restart ({r['mode']}) at t={r['at']:.1f}s",
                     f"outage {fmt(r['outage'])}; first step done {fmt(r['first_progress_after_back'])} after it was back; "
                     f"stall {fmt(r['stall_around'])}; " + backlog_text(r['backlog_cleared_after_back'])))
    rows += [
        ("drain (chaos over -> all tasks finished)", fmt(run.drain)),
        ("runtime", fmt(now() - T0)),
        ("--", ""),
        ("RESULT", "PASS" if not failures else "FAIL: " + "; ".join(failures)),
    ]
    print()
    print(f"ops/chaos summary (run {run.run_id}, logs {run.run_dir})")
    print_table(rows)
    print(timeline(audit["completions"], run.sub_start, run.restarts, kills))
    for kind, d in audit["duplicates"].items():
        if d["count"]:
            print(f"  {kind}: e.g. {d['sample']}")
    for key in ("lost_sample", "stuck_sample", "failed_sample", "wrong_sample", "reply_mismatch_sample"):
        if audit.get(key):
            print(f"  {key.replace('_sample', '')}: e.g. {audit[key]}")
    for role, t, rc, tail in unexpected:
        print(f"  {role} exited by itself at t={t:.1f}s with status {rc}:")
        for line in tail:
            print(f"    {line}")
    for s in run.dead_samples:
        print(f"  dead letter: {s}")


def summary_json(run, failures):
    args, audit, submitter, cluster = run.args, run.audit, run.submitter, run.cluster
    left, dead_count, stalls, latencies = run.left, run.dead_count, run.stalls, run.latencies
    kills, forced, unexpected = run.kills, run.forced, run.unexpected
    injected = dict(submitter.injected)
    injected.update(run.injector.injected)
    return {
        "run": run.run_id, "mode": args.mode, "tasks": args.tasks, "rate": args.rate, "seed": args.seed,
        "confirmed": len(submitter.confirmed), "created": audit["tasks"], "lost": audit["lost"],
        "stuck": audit["stuck"], "failed": audit["failed"], "wrong": audit["wrong"],
        "duplicates": {k: d["count"] for k, d in audit["duplicates"].items()},
        "reply_mismatch": audit["reply_mismatch"], "replies": audit["replies"], "queues_left": left,
        "dead_lettered": dead_count, "outbox_left": audit["outbox_left"], "kills": len(kills),
        "kills_by_role": {p.role: p.kills for p in cluster.procs}, "unexpected_exits": [{"role": r, "at": t, "status": rc, "why": why} for r, t, rc, why in unexpected],
        "sigterm_ignored": forced, "injected": injected, "retried_steps": audit["retried_steps"],
        "sweeper_actions": audit["sweeper_actions"], "longest_stall": stalls["longest_stall"],
        "recording_lag_p50": percentile(audit["recording_lag"], 0.5), "recording_lag_p95": percentile(audit["recording_lag"], 0.95),
        "recording_lag_max": percentile(audit["recording_lag"], 1.0),
        "submission_stall": run.submit_stall, "latency_p50": percentile(latencies, 0.5),
        "latency_p95": percentile(latencies, 0.95), "latency_max": percentile(latencies, 1.0),
        "restarts": stalls["restarts"], "drain": run.drain, "runtime": now() - T0,
        "result": "PASS" if not failures else "FAIL", "failures": failures,
    }


class Monitor:
    """Polls the run's task counts every second; prints progress every 5 s."""

    def __init__(self, env, run_id, submitter, cluster):
        self.env = env
        self.run_id = run_id
        self.submitter = submitter
        self.cluster = cluster
        self.counts = {}

    def run(self, stop_event):
        last_print = 0
        f = run_filter(self.run_id)
        while not stop_event.is_set():
            try:
                row = psql(self.env, f"""SELECT count(*), count(*) FILTER (WHERE state IN ('complete', 'error')),
                                                count(*) FILTER (WHERE state = 'complete') FROM tasks t WHERE {f}""", timeout=10)[0]
                self.counts = {"tasks": int(row[0]), "finished": int(row[1]), "complete": int(row[2])}
                db = "up"
            except (SQLError, subprocess.TimeoutExpired, IndexError):
                db = "unreachable"
            if now() - last_print >= 5:
                last_print = now()
                kills = sum(p.kills for p in self.cluster.procs)
                say(f"submitted {len(self.submitter.confirmed)}, tasks {self.counts.get('tasks', '?')}, "
                    f"complete {self.counts.get('complete', '?')}, kills {kills}, database {db}")
            stop_event.wait(1)


def wait_ready(env, prefix, timeout):
    """Waits until every service consumes its queue (consumer counts seen through the broker)."""
    want = {f"{prefix}.requests.coordinator": 1, f"{prefix}.results.finalizer": 2,
            f"{prefix}.steps.{NAMESPACE}": 3, f"{prefix}.reenqueuer": 1}
    deadline = now() + timeout
    while now() < deadline:
        connection = None
        try:
            connection = amqp_connect(env, "ready")
            channel = connection.channel()
            if all(channel.queue_declare(q, passive=True).method.consumer_count >= n for q, n in want.items()):
                return
        except AMQP_ERRORS:
            pass
        finally:
            close_quietly(connection)
        time.sleep(0.5)
    raise RuntimeError(f"the services did not start consuming within {timeout}s")


def settle_queues(env, prefix, timeout):
    """Waits until no work queue holds a message, ready (polled through the broker) or
    unacknowledged (rabbitmqctl, slow, so only once the ready counts are 0); returns the last
    rabbitmqctl listing."""
    names = [f"{prefix}.{q}" for q in ("requests.coordinator", "results.finalizer", f"steps.{NAMESPACE}", "reenqueuer")]
    deadline = now() + timeout
    queues = None
    while True:
        ready = None
        connection = None
        try:
            connection = amqp_connect(env, "settle")
            channel = connection.channel()
            ready = sum(channel.queue_declare(q, passive=True).method.message_count for q in names)
        except AMQP_ERRORS:
            pass
        finally:
            close_quietly(connection)
        if ready == 0 or now() >= deadline:
            queues = queue_report(env, prefix)
            if queues is not None and all(v[0] == 0 and v[1] == 0 for q, v in queues.items() if q != f"{prefix}.dead"):
                return queues
        if now() >= deadline:
            return queues
        time.sleep(1)


def prune_runs(base_dir, keep):
    try:
        runs = sorted(d for d in os.listdir(base_dir) if os.path.isdir(os.path.join(base_dir, d)))
        for d in runs[:-keep]:
            subprocess.run(["rm", "-rf", os.path.join(base_dir, d)])
    except OSError:
        pass


if __name__ == "__main__":
    sys.exit(main())
