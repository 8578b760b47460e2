#!/usr/bin/env python3
"""Checks docker/ without a Docker engine; run through ops/check-deploy (docs/operations.md)."""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import uuid

import compose
import yaml

ROOT = os.environ.get("TASKER_ROOT", os.getcwd())
BIN = os.environ["TASKER_BIN"]
COMPOSE_FILE = os.path.join(ROOT, "docker/docker-compose.yml")
ENV_EXAMPLE = os.path.join(ROOT, "docker/.env.example")
PROMETHEUS_FILE = os.path.join(ROOT, "docker/prometheus/prometheus.yml")
DASHBOARD_FILE = os.path.join(ROOT, "docker/grafana/dashboards/tasker.json")
CONFIGURATION_DOC = os.path.join(ROOT, "docs/configuration.md")
TASKER_IMAGE = "tasker:local"
# Services whose process the live check starts, and the scrape job of each.
LIVE_ROLES = ["coordinator", "finalizer", "reenqueuer", "worker", "api"]


def api_key_entry():
    """A fresh API key entry ("NAME sha256:HEX SCOPES") made by the built tasker: docker/.env.example
    holds a placeholder on purpose (the API refuses to start with it), so the checks that run
    `tasker api` use a real one."""
    result = subprocess.run([BIN, "api", "key", "--name", "check-deploy", "--scopes", "*"], capture_output=True, text=True, timeout=60)
    for line in result.stdout.splitlines():
        if line.startswith("entry:"):
            return line.split(":", 1)[1].strip()
    raise RuntimeError(f"tasker api key printed no entry: {result.stdout} {result.stderr}")

failures = []
passed = []


def log(message):
    print(f"[check-deploy] {message}", file=sys.stderr, flush=True)


def check(ok, what):
    log(("ok    " if ok else "FAIL  ") + what)
    (passed if ok else failures).append(what)
    return ok


def run(args, env=None, timeout=120):
    return subprocess.run(args, capture_output=True, text=True, env=env, timeout=timeout)


# ---------------------------------------------------------------- static checks

def compose_binary():
    # The Go binary inside the package: its Python wrapper always exits 0.
    return os.path.join(os.path.dirname(compose.__file__), "docker-compose")


def compose_config():
    base = [compose_binary(), "-f", COMPOSE_FILE, "--env-file", ENV_EXAMPLE]
    result = run(base + ["config", "-q"])
    check(result.returncode == 0, f"docker-compose config -q {result.stderr.strip()}")
    without_env = run([compose_binary(), "-f", COMPOSE_FILE, "--env-file", os.devnull, "config", "-q"])
    check(without_env.returncode != 0 and "docker/.env" in without_env.stderr,
          "docker-compose refuses to start without the credentials of docker/.env (no default passwords)")
    resolved = run(base + ["config", "--format", "json"])
    return json.loads(resolved.stdout) if resolved.returncode == 0 else {"services": {}}


def hadolint():
    binary = shutil.which("hadolint")
    result = run([binary, os.path.join(ROOT, "docker/Dockerfile")]) if binary else None
    check(result is not None and result.returncode == 0, f"hadolint docker/Dockerfile {result.stdout.strip() if result else 'not found'}")


def subcommands():
    """The subcommands the built tasker knows (from its help)."""
    text = run([BIN, "--help"]).stdout
    section = text.split("SUBCOMMANDS:", 1)[-1]
    return {line.split()[0] for line in section.splitlines() if line.startswith("  ") and line.split()}


def commands_accepted(config):
    known = subcommands()
    for name, service in sorted(config["services"].items()):
        if service.get("image") != TASKER_IMAGE:
            continue
        command = service.get("command") or []
        environment = {k: str(v) for k, v in (service.get("environment") or {}).items()}
        env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root"), **environment}
        if command and command[0] == "api":
            env["TASKER_API_KEYS"] = api_key_entry()  # the example's placeholder is refused by design
        what = f"compose service {name}: tasker {' '.join(command)}"
        if not command or command[0] not in known:
            check(False, f"{what}: the built tasker has no '{command[0] if command else ''}' subcommand")
            continue
        if command[0] in ("coordinator", "finalizer", "reenqueuer", "worker", "api"):
            dry = run([BIN, *command, "--check-config"], env=env)
            check(dry.returncode == 0, f"{what} --check-config {(dry.stdout + dry.stderr).strip()[:300]}")
        elif command[:2] == ["templates", "register"]:
            paths = [os.path.join(ROOT, p) for p in command[2:]]
            dry = run([BIN, "templates", "validate", *paths], env=env)
            check(dry.returncode == 0, f"{what}: the templates it registers validate")
        else:
            dry = run([BIN, *command, "--help"], env=env)
            check(dry.returncode == 0, f"{what} --help")


def bad_settings_refused():
    """A setting a service cannot use stops `--check-config` with exit status 1 and a message
    naming it (docs/configuration.md), not with the command line's usage text."""
    base = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root")}
    cases = [
        (["finalizer"], {"TASKER_LIFECYCLE_EVENTS": "bogus"}, "TASKER_LIFECYCLE_EVENTS"),
        (["coordinator"], {"TASKER_BATCH_SIZE": "0"}, "TASKER_BATCH_SIZE"),
        (["reenqueuer"], {"TASKER_SWEEPER_GRACE_SECONDS": "soon"}, "TASKER_SWEEPER_GRACE_SECONDS"),
        (["finalizer"], {"TASKER_DATABASE_TIMEOUT_SECONDS": "0"}, "TASKER_DATABASE_TIMEOUT_SECONDS"),
        (["worker"], {"TASKER_RESULT_BATCH_SIZE": "0"}, "TASKER_RESULT_BATCH_SIZE"),
        (["coordinator"], {"TASKER_METRICS_PORT": "99999"}, "metrics port"),
    ]
    for command, settings, named in cases:
        result = run([BIN, *command, "--check-config"], env={**base, **settings})
        output = result.stdout + result.stderr
        setting = " ".join(f"{k}={v}" for k, v in settings.items())
        check(result.returncode == 1 and named in output and "USAGE" not in output.upper(),
              f"{setting} tasker {command[0]} --check-config exits 1 naming it (got {result.returncode}: {output.strip()[:160]})")


def environment_documented(config):
    documented = open(CONFIGURATION_DOC, encoding="utf-8").read()
    names = set()
    for service in config["services"].values():
        names |= set((service.get("environment") or {}).keys())
    undocumented = sorted(n for n in names if not re.search(r"`" + re.escape(n) + r"`", documented))
    check(not undocumented, f"every environment variable compose sets is in docs/configuration.md ({len(names)} names)"
          + (f"; missing: {', '.join(undocumented)}" if undocumented else ""))


def promtool():
    result = run(["promtool", "check", "config", PROMETHEUS_FILE])
    check(result.returncode == 0, f"promtool check config docker/prometheus/prometheus.yml {result.stderr.strip()}")


def dashboard_expressions():
    dashboard = json.load(open(DASHBOARD_FILE, encoding="utf-8"))
    expressions = []
    for panel in dashboard.get("panels", []):
        for target in panel.get("targets", []):
            if target.get("expr"):
                expressions.append((panel["title"], target["expr"]))
    check(len(expressions) > 0, f"the Grafana dashboard parses and queries {len(expressions)} expressions")
    return expressions


# ---------------------------------------------------------------- live check

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.status, response.read().decode()


def wait(what, probe, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            value = probe()
            if value:
                return value
        except Exception:
            pass
        time.sleep(0.5)
    check(False, f"timed out after {timeout}s: {what}")
    return None


def rabbit(*args):
    env = dict(os.environ, RABBITMQ_NODENAME=os.environ["TASKER_RABBIT_NODE"],
               RABBITMQ_ENABLED_PLUGINS_FILE=os.path.join(os.environ["TASKER_RABBIT_DIR"], "enabled_plugins"))
    return run([os.path.join(os.environ["RABBIT_BIN"], args[0]), "-n", os.environ["TASKER_RABBIT_NODE"], *args[1:]], env=env)


class LiveCluster:
    """Tasker services as processes with metrics ports, the broker's Prometheus plugin, and a Prometheus."""

    def __init__(self, work):
        self.work = work
        self.prefix = f"deploycheck-{uuid.uuid4().hex[:8]}"
        self.processes = []
        self.ports = {}
        self.rabbit_port = None
        self.prometheus_port = None

    def start_services(self):
        env = dict(os.environ, TASKER_TOPOLOGY_PREFIX=self.prefix, TASKER_METRICS_HOST="127.0.0.1", LOG_LEVEL="warning")
        for command in (["migrate"], ["templates", "register", os.path.join(ROOT, "templates/examples")]):
            result = run([BIN, *command, "--log-level", "warning"], env=env)
            if not check(result.returncode == 0, f"tasker {command[0]}"):
                raise RuntimeError(result.stderr)
        for role in LIVE_ROLES:
            port = free_port()
            self.ports[role] = port
            args = [BIN, role] + (["--namespaces", "examples"] if role == "worker" else [])
            role_env = dict(env, TASKER_METRICS_PORT=str(port))
            if role == "api":
                role_env.update(TASKER_API_PORT=str(free_port()), TASKER_API_HOST="127.0.0.1", TASKER_API_KEYS=api_key_entry())
            log_file = open(os.path.join(self.work, f"{role}.log"), "w")
            self.processes.append(subprocess.Popen(args, env=role_env, stdout=log_file, stderr=log_file))
        for role, port in self.ports.items():
            ready = wait(f"{role} /health/ready", lambda: http_get(f"http://127.0.0.1:{port}/health/ready")[0] == 200, 90)
            check(bool(ready), f"{role} ready on its metrics port")

    def start_broker_metrics(self):
        # The plugin listens on a port of this run's choosing (not 15692: other nodes may use it).
        self.rabbit_port = free_port()
        rabbit("rabbitmqctl", "eval", "application:load(rabbitmq_prometheus), application:set_env(rabbitmq_prometheus, tcp_config, "
               f"[{{port, {self.rabbit_port}}}, {{ip, \"127.0.0.1\"}}]).")
        result = rabbit("rabbitmq-plugins", "enable", "--online", "rabbitmq_prometheus")
        check(result.returncode == 0, f"rabbitmq_prometheus enabled on the test node {result.stderr.strip()[:200]}")

    def stop_broker_metrics(self):
        if self.rabbit_port:
            rabbit("rabbitmq-plugins", "disable", "--online", "rabbitmq_prometheus")

    def run_workflows(self):
        env = dict(os.environ, TASKER_TOPOLOGY_PREFIX=self.prefix)
        contexts = [{"even_number": 2}, {"even_number": 4, "fail_once": ["step_2"]}]
        for context in contexts:
            context["run"] = uuid.uuid4().hex
            result = run([BIN, "submit", "examples", "linear", "--context", json.dumps(context), "--wait", "--timeout", "60",
                          "--log-level", "warning"], env=env, timeout=90)
            check(result.returncode == 0, f"workflow linear {json.dumps(context)} completed")
        # One undecodable result: the finalizer dead-letters it.
        import pika
        parameters = pika.URLParameters(os.environ["AMQP_URL"].replace("%2f", "%2F"))
        with pika.BlockingConnection(parameters) as connection:
            channel = connection.channel()
            channel.basic_publish(exchange="", routing_key=f"{self.prefix}.results.finalizer", body=b"not json")

    def prometheus_config(self):
        """The compose scrape jobs, each pointed at this run's local process instead of a compose service."""
        config = yaml.safe_load(open(PROMETHEUS_FILE, encoding="utf-8"))
        config["global"]["scrape_interval"] = "2s"
        config["global"]["scrape_timeout"] = "2s"
        jobs = []
        for job in config["scrape_configs"]:
            name = job["job_name"]
            if name in self.ports:
                target = f"127.0.0.1:{self.ports[name]}"
            elif name == "rabbitmq":
                target = f"127.0.0.1:{self.rabbit_port}"
            elif name == "prometheus":
                target = f"127.0.0.1:{self.prometheus_port}"
            else:
                check(False, f"scrape job {name} has no local process in this check")
                continue
            job.pop("dns_sd_configs", None)
            job["static_configs"] = [{"targets": [target]}]
            jobs.append(job)
        config["scrape_configs"] = jobs
        path = os.path.join(self.work, "prometheus.yml")
        with open(path, "w") as f:
            yaml.safe_dump(config, f)
        return path, [job["job_name"] for job in jobs]

    def start_prometheus(self):
        self.prometheus_port = free_port()
        path, jobs = self.prometheus_config()
        log_file = open(os.path.join(self.work, "prometheus.log"), "w")
        self.processes.append(subprocess.Popen(
            ["prometheus", f"--config.file={path}", f"--storage.tsdb.path={self.work}/tsdb",
             f"--web.listen-address=127.0.0.1:{self.prometheus_port}"], stdout=log_file, stderr=log_file))
        return jobs

    def api(self, path, **query):
        url = f"http://127.0.0.1:{self.prometheus_port}/api/v1/{path}"
        if query:
            url += "?" + urllib.parse.urlencode(query)
        return json.loads(http_get(url)[1])

    def stop(self):
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        self.stop_broker_metrics()


def live_check(expressions):
    work = tempfile.mkdtemp(prefix="tasker-check-deploy-", dir=os.environ.get("TASKER_STATE_DIR"))
    cluster = LiveCluster(work)
    try:
        cluster.start_broker_metrics()
        cluster.start_services()
        jobs = cluster.start_prometheus()
        cluster.run_workflows()

        down = {}

        def all_up():
            targets = cluster.api("targets")["data"]["activeTargets"]
            up = {t["labels"]["job"] for t in targets if t["health"] == "up"}
            down.clear()
            down.update({t["labels"]["job"]: f"{t['health']} {t.get('lastError', '')}" for t in targets if t["health"] != "up"})
            return up if up >= set(jobs) else None
        up = wait(f"every Prometheus target up ({', '.join(jobs)})", all_up, 60)
        if up:
            check(True, f"Prometheus reports every target up: {', '.join(sorted(up))}")
        else:
            log(f"targets not up: {down}")
        # Enough scrapes for rate() over the dashboard's windows, and a reenqueuer backlog reading.
        time.sleep(12)
        for title, expression in expressions:
            query = expression.replace("$__rate_interval", "1m")
            result = cluster.api("query", query=query)
            series = result.get("data", {}).get("result", []) if result.get("status") == "success" else []
            check(len(series) > 0, f"dashboard '{title}': {expression} returns {len(series)} series")
    finally:
        cluster.stop()
        if not failures:
            shutil.rmtree(work, ignore_errors=True)
        else:
            log(f"logs kept in {work}")


def main():
    config = compose_config()
    hadolint()
    commands_accepted(config)
    bad_settings_refused()
    environment_documented(config)
    promtool()
    expressions = dashboard_expressions()
    if "--static" not in sys.argv:
        live_check(expressions)
    print(f"check-deploy: {len(passed)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
