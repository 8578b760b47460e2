#!/usr/bin/env python3
"""The Python worker's end-to-end check (run it through run-e2e, which sets the environment)."""
import os
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "ops"))
from e2e_cluster import Cluster, CheckFailed, check, completed_by, main, step_of  # noqa: E402

P = 1_000_000_007
HERE = "examples/python-worker"


def power(x, exponent):
    return pow(x, exponent, P)


def run():
    cluster = Cluster("python", ROOT)
    cluster.namespaces = ["polyglot", "pywords"]
    try:
        print("== set-up: migrate, register the templates, start coordinator, finalizer, reenqueuer")
        cluster.tasker("migrate")
        cluster.tasker("templates", "register", f"{HERE}/templates")
        cluster.start_services()
        python = [sys.executable, f"{HERE}/worker.py"]
        python_env = {"TASKER_NAMESPACES": "polyglot,pywords", "TASKER_WORKER_ID": "python-1", "TASKER_STARTED_REPORT_DELAY_MS": "50"}
        cluster.start("python-worker", python, env=python_env, ready="worker started")

        print("== the Python worker dead-letters what it cannot decode, with the reason")
        cluster.publish_raw("pywords", b'{"schema_version": 1, "task_id": ')
        cluster.publish_raw("pywords", b'{"schema_version": 99}')
        letters = cluster.dead_letters(2)
        check(len(letters) == 2, "both bad dispatches reached the dead-letter queue")
        reasons = sorted(str(headers.get("x-tasker-error")) for headers, _ in letters)
        check(reasons[0].startswith("malformed JSON"), f"reason of the first: {reasons[0]}")
        check(reasons[1].startswith("unsupported schema_version 99"), f"reason of the second: {reasons[1]}")
        check(all(headers.get("x-tasker-source-queue") == f"{cluster.prefix}.steps.pywords" for headers, _ in letters),
              "x-tasker-source-queue names the steps queue")

        print("== a Python-only step in the Python worker's own namespace")
        task, report = cluster.submit("pywords", "word_count", {"text": "the quick brown fox"})
        check(report["state"] == "complete", f"pywords/word_count {task} complete")
        check(step_of(report, "count")["results"] == {"words": 4, "worker": "python"}, "its results come from Python")

        print("== a whole chain on the Python worker alone, with a retried step")
        task, report = cluster.submit("polyglot", "alternating", {"even_number": 3, "fail_once": ["s3"]})
        check(report["state"] == "complete", f"polyglot/alternating {task} complete")
        check(step_of(report, "s6")["results"] == {"value": power(3, 64)}, "s6 = 3^64 mod p, computed in Python")
        check(step_of(report, "s3")["attempts"] == 2, "s3 failed once (fail_once) and was retried")
        check({completed_by(s) for s in report["steps"]} == {"python-1"}, "every step completed by python-1")
        started = [t for t in step_of(report, "s1")["transitions"] if t["to_state"] == "in_progress"]
        check(started and started[0]["metadata"].get("worker_id") == "python-1", "the audit trail records python-1 starting s1")

        print("== a Swift worker refuses a namespace whose handlers it lacks")
        rc, out, err = cluster.tasker("worker", "--namespaces", "pywords", "--templates", f"{HERE}/templates", check_rc=False, timeout=60)
        check(rc != 0 and "needs handler 'word_count'" in err, "tasker worker --namespaces pywords refuses to start, naming word_count")

        print("== Swift and Python workers share the polyglot queue; the steps alternate between them")
        cluster.start("swift-worker", [cluster.bin, "worker", "--namespaces", "polyglot", "--templates", f"{HERE}/templates",
                                       "--worker-id", "swift-1", "--concurrency", "1"], ready="worker started")
        runners = []
        for x in (2, 5, 7):
            task, report = cluster.submit("polyglot", "alternating", {"even_number": x})
            check(report["state"] == "complete", f"polyglot/alternating {task} complete")
            check(step_of(report, "s6")["results"] == {"value": power(x, 64)}, f"s6 = {x}^64 mod p")
            sequence = [completed_by(step_of(report, f"s{i}")) for i in range(1, 7)]
            print(f"     s1..s6 completed by: {' '.join(sequence)}")
            runners += sequence
        check({"python-1", "swift-1"} <= set(runners), "both python-1 and swift-1 ran steps")
        check(set(runners) <= {"python-1", "swift-1"}, "every completion is attributed to one of them")
        check(cluster.stop("swift-worker") == 0, "the Swift worker exits 0 on SIGTERM")

        print("== SIGTERM during a step: the Python worker finishes it, reports it, and exits 0")
        task, _ = cluster.submit("polyglot", "alternating", {"even_number": 2, "sleep_ms": {"s1": 1500}}, wait=False)
        cluster.wait_for_step(task, "s1", "in_progress")
        check(cluster.stop("python-worker") == 0, "the Python worker exits 0 on SIGTERM")
        check("worker stopped" in cluster.log_text("python-worker"), "it logged 'worker stopped'")
        cluster.start("python-worker-2", python, env=dict(python_env, TASKER_WORKER_ID="python-2"), ready="worker started")
        report = None
        give_up = time.time() + 60
        while time.time() < give_up:
            report = cluster.status(task)
            if report["state"] in ("complete", "error"):
                break
            time.sleep(0.3)
        check(report["state"] == "complete", f"the task {task} completed")
        s1 = step_of(report, "s1")
        check(s1["attempts"] == 1 and completed_by(s1) == "python-1", "s1 ran once, finished by the stopping python-1 (not redelivered)")
        check(completed_by(step_of(report, "s6")) == "python-2", "the rest ran on the new worker")
    finally:
        cluster.stop_all()
    print("python worker end-to-end: all checks passed")


if __name__ == "__main__":
    main(run)
