"""A real Tasker cluster and a headless Chromium for the dashboard's browser tests.

The cluster: `tasker migrate`, the example templates registered, coordinator, finalizer,
reenqueuer, one worker and `tasker api` (with the dashboard under /ui) as child processes on a
private topology prefix, against the PostgreSQL and RabbitMQ that ops/start-services runs
(DATABASE_URL/AMQP_URL from ops/lib.sh). Every process started here is stopped by its PID.
"""
import os
import re
import signal
import socket
import subprocess
import time
import uuid

import pytest
import requests
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SHOTS = os.path.join(ROOT, "docs", "dashboard")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_key(binary, name, scopes):
    out = subprocess.run([binary, "api", "key", "--name", name, "--scopes", scopes], capture_output=True, text=True, check=True).stdout
    key = re.search(r"^key:\s+(\S+)", out, re.M).group(1)
    entry = re.search(r"^entry:\s+(.+)$", out, re.M).group(1).strip()
    return key, entry


class Cluster:
    def __init__(self):
        self.bin = os.environ.get("TASKER_BIN") or os.path.join(ROOT, ".build/debug/tasker")
        self.prefix = f"dash-{uuid.uuid4().hex[:8]}"
        self.dir = os.path.join(os.environ.get("TASKER_STATE_DIR", "/tmp/tasker-ops"), self.prefix)
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.operator_key, operator_entry = make_key(self.bin, "operator", "*")
        self.reader_key, reader_entry = make_key(self.bin, "reader", "tasks:read,templates:read")
        self.env = dict(os.environ, TASKER_TOPOLOGY_PREFIX=self.prefix, TASKER_STARTUP_TIMEOUT_SECONDS="30",
                        TASKER_SHUTDOWN_DRAIN_SECONDS="5", TASKER_API_KEYS=f"{operator_entry};{reader_entry}")
        self.processes = []

    def run(self, *args):
        subprocess.run([self.bin, *args], env=self.env, cwd=ROOT, check=True, capture_output=True, timeout=120)

    def start(self, name, *args):
        log = open(os.path.join(self.dir, f"{name}.log"), "ab")
        process = subprocess.Popen([self.bin, *args], env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        self.processes.append((name, process))

    def up(self):
        self.run("migrate")
        self.run("templates", "register", "templates/examples")
        for role in ("coordinator", "finalizer", "reenqueuer"):
            self.start(role, role)
        self.start("worker", "worker", "--namespaces", "examples", "--templates", "templates/examples")
        self.start("api", "api", "--port", str(self.port))
        give_up = time.time() + 90
        while time.time() < give_up:
            try:
                if requests.get(f"{self.url}/health/ready", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"tasker api did not become ready; logs in {self.dir}")

    def down(self):
        for _, process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for _, process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def submit(self, context, name="diamond"):
        body = {"namespace": "examples", "name": name, "context": dict(context, run=uuid.uuid4().hex)}
        answer = requests.post(f"{self.url}/v1/tasks", json=body, headers={"X-API-Key": self.operator_key}, timeout=10)
        assert answer.status_code == 201, answer.text
        return answer.json()["task_id"]

    def task(self, task_id):
        return requests.get(f"{self.url}/v1/tasks/{task_id}", headers={"X-API-Key": self.operator_key}, timeout=10).json()

    def wait_task(self, task_id, predicate, timeout=60):
        give_up = time.time() + timeout
        while time.time() < give_up:
            task = self.task(task_id)
            if predicate(task):
                return task
            time.sleep(0.3)
        raise AssertionError(f"task {task_id} never got there: {self.task(task_id)}")


@pytest.fixture(scope="session")
def cluster():
    c = Cluster()
    try:
        c.up()
        yield c
    finally:
        c.down()


@pytest.fixture
def browser():
    yield from make_browser(javascript=True)


@pytest.fixture
def browser_without_js():
    yield from make_browser(javascript=False)


def make_browser(javascript):
    options = Options()
    if not javascript:
        options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000", "--disable-gpu"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")), options=options)
    driver.implicitly_wait(0)
    try:
        yield driver
    finally:
        driver.quit()


def screenshot(driver, name):
    os.makedirs(SHOTS, exist_ok=True)
    driver.save_screenshot(os.path.join(SHOTS, f"{name}.png"))
