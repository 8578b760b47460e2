#!/usr/bin/env python3
"""The order-fulfillment end-to-end check (run it through run-e2e, which builds and sets the environment)."""
import json
import os
import subprocess
import sys
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "ops"))
from e2e_cluster import Cluster, check, completed_by, main, step_of  # noqa: E402

HERE = "examples/order-fulfillment"
TEMPLATES = f"{HERE}/Sources/OrderFulfillment/templates"


def run():
    cluster = Cluster("orders", ROOT)
    cluster.namespaces = ["orders"]
    worker = os.environ.get("ORDER_WORKER_BIN") or os.path.join(ROOT, HERE, ".build/debug/order-worker")
    run_id = cluster.prefix.split("-")[-1]
    try:
        print("== set-up: migrate, register the application's templates, start the cluster")
        cluster.env["TASKER_ENV"] = "test"  # the templates' quick-retry overrides
        cluster.tasker("migrate")
        cluster.tasker("templates", "register", TEMPLATES)
        port_file = os.path.join(cluster.dir, "payments.port")
        cluster.start("payments", [sys.executable, f"{HERE}/payments/payments_service.py", "--port", "0",
                                   "--port-file", port_file, "--fail-first", "2"], ready="listening")
        with open(port_file) as f:
            payments = f"http://127.0.0.1:{f.read().strip()}"
        cluster.start_services()

        print("== the application's worker refuses templates it has no handlers for")
        rc, out, err = cluster.tasker("worker", "--namespaces", "orders", "--templates", TEMPLATES, check_rc=False, timeout=60)
        check(rc != 0 and "needs handler 'validate_order'" in err, "tasker worker (example handlers only) refuses the orders namespace")
        refused = subprocess.run([worker, "--namespaces", "examples", "--templates", "templates/examples"], cwd=ROOT,
                                 env=cluster.env, capture_output=True, text=True, timeout=60)
        check(refused.returncode != 0 and "needs handler 'square'" in refused.stderr, "order-worker refuses the examples namespace")

        cluster.start("order-worker", [worker], env={"PAYMENTS_URL": payments}, ready="worker started")
        check("orders/order_fulfillment@1.0.0" in cluster.log_text("order-worker"), "the worker checked its bundled template at start")

        items = [{"sku": "tea", "quantity": 2}, {"sku": "kettle", "quantity": 1}]

        def order(suffix, token="tok_visa", items=items):
            return {"order_id": f"{suffix}-{run_id}", "customer_email": "ada@example.com", "payment_token": token, "items": items}

        print("== a good order: payments fails twice (503), the third attempt succeeds")
        good = order("A")
        task, report = cluster.submit("orders", "order_fulfillment", good)
        check(report["state"] == "complete", f"order {good['order_id']} (task {task}) complete")
        check(step_of(report, "validate_order")["results"] == {"order_id": good["order_id"], "total_cents": 4800, "item_count": 3},
              "validate_order priced it from handler_config (2 x 450 + 3900)")
        check(step_of(report, "reserve_inventory")["results"]["warehouse"] == "ams-1", "reserve_inventory used its handler_config")
        authorize = step_of(report, "authorize_payment")
        check(authorize["attempts"] == 3, "authorize_payment took 3 attempts (two 503s, retried with backoff)")
        check(authorize["results"] == {"authorization_id": f"auth-{good['order_id']}", "amount_cents": 4800, "currency": "EUR"},
              "authorize_payment read validate_order's total")
        ship = step_of(report, "ship_order")["results"]
        check(ship == {"tracking_number": f"DHL-{good['order_id']}-ams-1", "carrier": "DHL", "estimated_days": 1},
              "ship_order read both parents' results")
        notify = step_of(report, "notify_customer")["results"]
        check(notify["recipient"] == "ada@example.com" and ship["tracking_number"] in notify["message"], "notify_customer told the customer")
        states = [t["to_state"] for t in authorize["transitions"]]
        check(states.count("in_progress") == 3 and "waiting_for_retry" in states, f"audit trail of authorize_payment: {' -> '.join(states)}")
        check(all(completed_by(s) for s in report["steps"]), "every step's completion names the worker that ran it")

        print("== a declined card: retried while unavailable, then a permanent failure ends the task in error")
        declined = order("B", token="tok_declined")
        task, report = cluster.submit("orders", "order_fulfillment", declined)
        check(report["state"] == "error", f"order {declined['order_id']} (task {task}) ended in error")
        declined_task = task
        authorize = step_of(report, "authorize_payment")
        check(authorize["state"] == "error" and authorize["attempts"] == 3, "authorize_payment: 2 retryable failures, then the permanent one")
        check("payment declined: card declined" in json.dumps(authorize["last_error"]), "its last error says why")
        check(step_of(report, "ship_order")["attempts"] == 0 and step_of(report, "notify_customer")["attempts"] == 0,
              "nothing was shipped or notified")

        print("== an order that does not validate fails at once")
        bad = order("C", items=[{"sku": "spoon", "quantity": 1}])
        task, report = cluster.submit("orders", "order_fulfillment", bad)
        validate = step_of(report, "validate_order")
        check(report["state"] == "error" and validate["attempts"] == 1, f"order {bad['order_id']} ended in error after one attempt")
        check("unknown sku 'spoon'" in json.dumps(validate["last_error"]), "validate_order named the unknown sku")
        bad_task = task

        print("== an operator lists the failed orders and resolves one by hand")
        _, out, _ = cluster.tasker("tasks", "--state", "error", "--namespace", "orders", "--limit", "50", "--json")
        listed = {t["task_id"]: t for t in json.loads(out)["tasks"]}
        check(declined_task in listed and bad_task in listed, "tasker tasks --state error lists both failed orders")
        check(listed[declined_task]["step_counts"]["error"] == 1 and listed[declined_task]["state"] == "error",
              f"with their step counts: {listed[declined_task]['step_counts']}")
        _, out, _ = cluster.tasker("tasks", "--state", "error", "--namespace", "orders", "--limit", "50")
        check(any(line.startswith(bad_task) and " error " in line for line in out.splitlines()), "and as text, one line per task")
        rc, _, err = cluster.tasker("tasks", "--state", "broken", check_rc=False)
        check(rc == 64 and "'broken' is not one of" in err, "an unknown --state is refused, naming it")
        rc, out, _ = cluster.tasker("task", "resolve", bad_task, "--reason", "the customer ordered by phone", "--json", check_rc=False)
        outcome = json.loads(out)
        check(rc == 0 and outcome["status"] == "applied" and outcome["task_state"] == "resolved_manually",
              f"tasker task resolve --json: {outcome['status']}, task {outcome['task_state']}")
        _, out, _ = cluster.tasker("tasks", "--state", "error", "--namespace", "orders", "--limit", "50", "--json")
        check(bad_task not in {t["task_id"] for t in json.loads(out)["tasks"]}, "the resolved order is no longer listed as failed")

        print("== the context schema rejects a malformed order before anything runs")
        rc, out, _ = cluster.tasker("submit", "orders", "order_fulfillment", "--context", json.dumps({"order_id": "D"}), check_rc=False)
        check(rc == 2 and "rejected" in out, "submit without items, email and token is rejected")

        with urllib.request.urlopen(f"{payments}/calls", timeout=5) as answer:
            calls = json.load(answer)
        check(calls.get(good["order_id"]) == 3 and calls.get(declined["order_id"]) == 3, f"the payments service saw 3 calls per paid order: {calls}")

        print("== graceful stop")
        check(cluster.stop("order-worker") == 0, "order-worker exits 0 on SIGTERM")
        check("worker stopped" in cluster.log_text("order-worker"), "it logged 'worker stopped'")
    finally:
        cluster.stop_all()
    print("order-fulfillment end-to-end: all checks passed")


if __name__ == "__main__":
    main(run)
