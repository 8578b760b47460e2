#!/usr/bin/env python3
"""Tasker on a three-node RabbitMQ cluster (run it through ops/check-cluster, which starts the
nodes and sets AMQP_URL to their three URLs).

Coordinator, finalizer, reenqueuer and a worker run with that list. Diamonds are submitted and
must complete: before anything happens, after the node every service is connected to (the
first of the list) crashes (SIGKILL), and after it is back. Every service must stay up throughout.
"""
import json
import os
import signal
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "ops"))
from e2e_cluster import Cluster, CheckFailed, check, main  # noqa: E402

CLUSTER_DIR = os.environ["TASKER_CLUSTER_DIR"]
BASE_PORT = int(os.environ["TASKER_CLUSTER_PORT"])


def node_env(node):
    """The ops/lib.sh settings of node 0, 1 or 2 of the cluster."""
    env = dict(os.environ, TASKER_STATE_DIR=f"{CLUSTER_DIR}/node{node}", TASKER_STARTED_FILE=f"{CLUSTER_DIR}/node{node}/started",
               TASKER_AMQP_PORT=str(BASE_PORT + node), TASKER_RABBIT_NODE=f"taskercluster{node}@localhost")
    for inherited in ("TASKER_RABBIT_DIR", "TASKER_FRESH"):
        env.pop(inherited, None)
    return env


def rabbitctl(node, *args):
    """rabbitmqctl on node `node` of the cluster (through ops/lib.sh)."""
    done = subprocess.run(["bash", "-c", '. ops/lib.sh; rabbitctl "$@"', "rabbitctl", *args], cwd=ROOT, env=node_env(node),
                          capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise CheckFailed(f"rabbitmqctl {' '.join(args)} on node {node} exited {done.returncode}: {done.stderr.strip()}")
    return done.stdout


def diamonds(cluster, count, label):
    """Submits `count` diamonds without waiting, then waits for each; checks the results."""
    tasks = []
    for n in range(count):
        task, _ = cluster.submit("examples", "diamond", {"even_number": 2 * (n + 1), "wave": label}, wait=False)
        tasks.append((task, 2 * (n + 1)))
    for task, number in tasks:
        report = wait_until_finished(cluster, task, 120)
        end = next(s for s in report["steps"] if s["name"] == "end")
        completions = [sum(t["to_state"] == "complete" for t in step["transitions"]) for step in report["steps"]]
        check(report["state"] == "complete" and isinstance((end["results"] or {}).get("value"), int) and completions == [1] * 4,
              f"{label}: diamond {number} complete, each step's completion recorded once")


def wait_until_finished(cluster, task, timeout):
    give_up = time.time() + timeout
    while time.time() < give_up:
        report = cluster.status(task)
        if report["state"] in ("complete", "error", "cancelled", "resolved_manually"):
            return report
        time.sleep(0.3)
    raise CheckFailed(f"task {task} not finished within {timeout}s: {cluster.status(task)['state']}")


def crash_node(node):
    """SIGKILLs the node's Erlang VM, as a machine or process crash would."""
    with open(f"{CLUSTER_DIR}/node{node}/rabbitmq/rabbit.pid") as f:
        pid = int(f.read().strip())
    os.kill(pid, signal.SIGKILL)
    give_up = time.time() + 30
    while time.time() < give_up:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    raise CheckFailed(f"node {node} (pid {pid}) still alive after SIGKILL")


def restart_node(node):
    """Starts the node again on its data directory: it rejoins the cluster."""
    done = subprocess.run(["ops/start-services", "rabbitmq"], cwd=ROOT, env=node_env(node), capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise CheckFailed(f"node {node} did not start again: {done.stderr.strip()[-500:]}")


def connection_ports(node):
    """The server port of every connection the cluster has (asked of `node`): which node each is on."""
    lines = rabbitctl(node, "-q", "list_connections", "port").split()
    return [int(line) for line in lines if line.isdigit()]


def services_alive(cluster, when):
    for name, (process, _) in cluster.processes.items():
        check(process.poll() is None, f"{name} still running {when}")


def run():
    status = json.load(open(os.path.join(CLUSTER_DIR, "status.json")))
    check(len(status.get("running_nodes", [])) == 3, f"a cluster of three running nodes: {status.get('running_nodes')}")
    cluster = Cluster("cluster", ROOT)
    cluster.namespaces = ["examples"]
    try:
        print("== set-up: migrate, register the example templates, start the services on the three-node list")
        cluster.tasker("migrate")
        cluster.tasker("templates", "register", "templates/examples")
        cluster.start_services()
        cluster.start("worker", [cluster.bin, "worker", "--namespaces", "examples"], ready="worker started")

        queue = f"{cluster.prefix}.steps.examples"
        members = [line for line in rabbitctl(0, "-q", "list_queues", "name", "type", "members").splitlines() if line.startswith(queue + "\t")]
        check(len(members) == 1 and "quorum" in members[0] and members[0].count("taskercluster") == 3,
              f"the steps queue is a quorum queue with a member on each node: {members}")

        print("== all three nodes up")
        diamonds(cluster, 5, "before")

        before = connection_ports(1)
        check(len(before) >= 8 and set(before) == {BASE_PORT},
              f"every service connection ({len(before)}) is on the first node of the list")

        print("== the first node, where every service is connected, crashes (SIGKILL)")
        crash_node(0)
        diamonds(cluster, 5, "node 0 down")
        services_alive(cluster, "with node 0 down")
        after = connection_ports(1)
        check(len(after) >= 8 and BASE_PORT not in after,
              f"the services reconnected to the other nodes ({len(after)} connections on ports {sorted(set(after))})")

        print("== the first node is back")
        restart_node(0)
        status = json.loads(rabbitctl(1, "-q", "cluster_status", "--formatter", "json"))
        check(len(status.get("running_nodes", [])) == 3, "it rejoined the cluster")
        diamonds(cluster, 5, "node 0 back")
        services_alive(cluster, "after node 0 came back")

        print("== graceful stop")
        for name in ("worker", "coordinator", "finalizer", "reenqueuer"):
            check(cluster.stop(name) == 0, f"{name} exits 0 on SIGTERM")
    finally:
        cluster.stop_all()
    print("RabbitMQ cluster check: all checks passed")


if __name__ == "__main__":
    main(run)
