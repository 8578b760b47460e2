"""A small Tasker cluster for the examples' end-to-end checks (examples/*/run-e2e).

Runs `tasker` services and other worker processes as child processes with one topology prefix,
logs each to a file, and stops every one it started, by PID, with SIGTERM (then SIGKILL).
Environment: TASKER_BIN (the `tasker` binary), AMQP_URL, DATABASE_URL (ops/lib.sh sets them).
"""
import json
import os
import signal
import subprocess
import sys
import time
import uuid

import pika


class CheckFailed(Exception):
    pass


def check(condition, message):
    if not condition:
        raise CheckFailed(message)
    print(f"  ok: {message}", flush=True)


class Cluster:
    def __init__(self, name, root):
        self.root = root
        self.bin = os.environ.get("TASKER_BIN") or os.path.join(root, ".build/debug/tasker")
        self.prefix = f"e2e-{name}-{uuid.uuid4().hex[:8]}"
        state = os.environ.get("TASKER_STATE_DIR", "/tmp/tasker-ops")
        self.dir = os.path.join(state, self.prefix)
        os.makedirs(self.dir, exist_ok=True)
        self.env = dict(os.environ, TASKER_TOPOLOGY_PREFIX=self.prefix, TASKER_STARTUP_TIMEOUT_SECONDS="30",
                        TASKER_SHUTDOWN_DRAIN_SECONDS="10", LOG_LEVEL=os.environ.get("E2E_LOG_LEVEL", "info"))
        self.processes = {}
        self.logs = {}

    # -- processes

    def tasker(self, *args, check_rc=True, env=None, timeout=120):
        """Runs `tasker args...` to completion; returns (rc, stdout, stderr)."""
        done = subprocess.run([self.bin, *args], env=dict(self.env, **(env or {})), cwd=self.root,
                              capture_output=True, text=True, timeout=timeout)
        if check_rc and done.returncode != 0:
            raise CheckFailed(f"tasker {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
        return done.returncode, done.stdout, done.stderr

    def start(self, name, argv, env=None, ready=None, timeout=60):
        """Starts a long-running process; with `ready`, waits until its log contains that text."""
        log_path = os.path.join(self.dir, f"{name}.log")
        log = open(log_path, "ab")
        process = subprocess.Popen(argv, env=dict(self.env, **(env or {})), cwd=self.root, stdout=log, stderr=subprocess.STDOUT)
        self.processes[name] = (process, log_path)
        self.logs[name] = log_path
        print(f"  started {name} (pid {process.pid}, log {log_path})", flush=True)
        if ready:
            self.wait_for_log(name, ready, timeout)
        return process

    def start_services(self):
        for role in ("coordinator", "finalizer", "reenqueuer"):
            self.start(role, [self.bin, role], ready=None)
        for role in ("coordinator", "finalizer", "reenqueuer"):
            self.wait_for_log(role, "started", 60)

    def log_text(self, name):
        with open(self.logs[name], errors="replace") as f:
            return f.read()

    def wait_for_log(self, name, text, timeout):
        process, _ = self.processes[name]
        give_up = time.time() + timeout
        while time.time() < give_up:
            if text in self.log_text(name):
                return
            if process.poll() is not None:
                raise CheckFailed(f"{name} exited with {process.returncode} before logging '{text}':\n{self.log_text(name)[-3000:]}")
            time.sleep(0.1)
        raise CheckFailed(f"{name} did not log '{text}' within {timeout}s:\n{self.log_text(name)[-3000:]}")

    def stop(self, name, timeout=30):
        """SIGTERM, then waits; returns the exit code (SIGKILL after `timeout`, reported as None)."""
        process, _ = self.processes.pop(name)
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                return None
        return process.returncode

    def stop_all(self):
        for name in list(self.processes):
            self.stop(name)
        self.delete_queues()

    # -- tasks

    def submit(self, namespace, name, context, wait=True, timeout=120):
        """Submits a task (its context gets `run`: this run's prefix); returns (task id, final
        report as JSON when waiting)."""
        context = dict(context, run=self.prefix)  # a new task each run, whatever the identity strategy
        args = ["submit", namespace, name, "--context", json.dumps(context)]
        if wait:
            args += ["--wait", "--timeout", str(timeout)]
        rc, out, err = self.tasker(*args, check_rc=False, timeout=timeout + 30)
        task_id = None
        for line in out.splitlines():
            if line.startswith("created task "):
                task_id = line.split()[-1]
        if task_id is None:  # a duplicate would check an old task: every context carries the run's id
            raise CheckFailed(f"submit {namespace}/{name} did not create a task ({rc}):\n{out}\n{err}")
        return task_id, (self.status(task_id) if wait else None)

    def status(self, task_id):
        _, out, _ = self.tasker("status", task_id, "--json")
        return json.loads(out)

    def wait_for_step(self, task_id, step, state, timeout=60):
        give_up = time.time() + timeout
        while time.time() < give_up:
            report = self.status(task_id)
            if any(s["name"] == step and s["state"] == state for s in report["steps"]):
                return report
            time.sleep(0.2)
        raise CheckFailed(f"step {step} of {task_id} never reached {state}")

    # -- broker

    def amqp(self):
        # AMQP_URL may list a cluster's nodes, comma-separated: pika tries them in order.
        return pika.BlockingConnection([pika.URLParameters(url.strip()) for url in self.env["AMQP_URL"].split(",")])

    def publish_raw(self, routing_key, body, exchange="steps"):
        connection = self.amqp()
        try:
            channel = connection.channel()
            channel.confirm_delivery()
            channel.basic_publish(f"{self.prefix}.{exchange}", routing_key, body,
                                  pika.BasicProperties(content_type="application/json", delivery_mode=2), mandatory=True)
        finally:
            connection.close()

    def dead_letters(self, count, timeout=30):
        """Takes `count` messages from the dead-letter queue (acknowledging them): [(headers, body)]."""
        connection = self.amqp()
        found = []
        try:
            channel = connection.channel()
            give_up = time.time() + timeout
            while len(found) < count and time.time() < give_up:
                method, properties, body = channel.basic_get(f"{self.prefix}.dead")
                if method is None:
                    time.sleep(0.2)
                    continue
                channel.basic_ack(method.delivery_tag)
                found.append((properties.headers or {}, body))
        finally:
            connection.close()
        return found

    def delete_queues(self):
        """Deletes this run's queues and exchanges (best effort)."""
        try:
            connection = self.amqp()
        except Exception:
            return
        try:
            channel = connection.channel()
            queues = ["dead", "requests.coordinator", "results.finalizer", "reenqueuer"]
            queues += [f"steps.{n}" for n in getattr(self, "namespaces", [])]
            for queue in queues:
                try:
                    channel.queue_delete(f"{self.prefix}.{queue}")
                except Exception:
                    channel = connection.channel()
            for exchange in ("requests", "events", "steps", "results", "dead"):
                try:
                    channel.exchange_delete(f"{self.prefix}.{exchange}")
                except Exception:
                    channel = connection.channel()
        finally:
            try:
                connection.close()
            except Exception:
                pass


def step_of(report, name):
    return next(s for s in report["steps"] if s["name"] == name)


def completed_by(step):
    """The worker_id recorded on the step's transition to `complete`."""
    for transition in step["transitions"]:
        if transition["to_state"] == "complete":
            return (transition.get("metadata") or {}).get("worker_id")
    return None


def main(run):
    """Runs `run()`, prints a closing line, exits 0 or 1."""
    try:
        run()
    except CheckFailed as failure:
        print(f"FAILED: {failure}", flush=True)
        sys.exit(1)
