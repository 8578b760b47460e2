"""The dashboard in a real browser (headless Chromium via chromium-driver) against a real cluster."""
import requests
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from conftest import screenshot


def sign_in(driver, cluster, key):
    driver.get(f"{cluster.url}/ui/login")
    driver.find_element(By.ID, "api-key").send_keys(key)
    driver.find_element(By.ID, "sign-in").click()
    WebDriverWait(driver, 10).until(EC.presence_of_element_located((By.ID, "sign-out")))


def wait(driver, seconds=30):
    return WebDriverWait(driver, seconds, poll_frequency=0.2, ignored_exceptions=[StaleElementReferenceException, NoSuchElementException])


def after_submit(driver, *ids):
    """The first element with one of these ids on the page a form submission leads to (a click
    does not wait for the next page)."""
    def found(d):
        for element_id in ids:
            elements = d.find_elements(By.ID, element_id)
            if elements:
                return elements[0]
        return False
    return wait(driver, 15).until(found)


def node_state(driver, step):
    # Read in one script: the page swaps the DAG's SVG while it polls, so a found element can go stale.
    return driver.execute_script(
        "var n = document.querySelector('#dag g.node[data-step=\"' + arguments[0] + '\"]'); return n ? n.getAttribute('data-state') : null;", step)


def test_sign_in_is_required_and_a_wrong_key_is_refused(cluster, browser):
    browser.get(f"{cluster.url}/ui/tasks")
    assert browser.current_url.endswith("/ui/login")
    screenshot(browser, "sign-in")
    browser.find_element(By.ID, "api-key").send_keys("not-a-key")
    browser.find_element(By.ID, "sign-in").click()
    assert "not valid" in after_submit(browser, "login-error").text
    # The session cookie: HttpOnly, SameSite=Strict (Secure is off on loopback http; docs/dashboard.md).
    answer = requests.post(f"{cluster.url}/ui/login", data={"api_key": cluster.operator_key}, allow_redirects=False, timeout=10)
    assert answer.status_code == 303
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/ui" in cookie
    # Without a session: the JSON endpoint and the actions answer 401.
    assert requests.get(f"{cluster.url}/ui/tasks/00000000-0000-0000-0000-000000000000/live", timeout=10).status_code == 401


def test_a_workflow_dag_reaches_complete_without_reloading(cluster, browser):
    sign_in(browser, cluster, cluster.operator_key)
    task_id = cluster.submit({"even_number": 2, "sleep_ms": {"start": 2500, "branch_b": 1500}})
    browser.get(f"{cluster.url}/ui/tasks/{task_id}")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("data-js") == "on"
    browser.execute_script("window.__sameDocument = 'yes';")
    assert node_state(browser, "end") in ("pending", "enqueued", "in_progress")
    wait(browser, 60).until(lambda d: node_state(d, "end") == "complete")
    wait(browser, 10).until(lambda d: d.find_element(By.ID, "task-state").get_attribute("data-state") == "complete")
    assert browser.execute_script("return window.__sameDocument;") == "yes", "the page reloaded"
    for step in ("start", "branch_b", "branch_c", "end"):
        assert node_state(browser, step) == "complete"
        label = browser.find_element(By.CSS_SELECTOR, f'#dag g.node[data-step="{step}"] .node-state').text
        assert "complete" in label  # the state is written out, not only coloured
    screenshot(browser, "task-complete")
    # The step panel: results and audit trail.
    browser.find_element(By.CSS_SELECTOR, '#dag a[aria-label="step end"]').click()
    panel = browser.find_element(By.ID, "step-panel")
    assert panel.get_attribute("data-step") == "end"
    assert browser.find_element(By.ID, "step-results").text.strip() != "—"
    assert len(browser.find_elements(By.CSS_SELECTOR, "#audit-trail .audit-entry")) >= 2
    browser.execute_script("document.getElementById('live').scrollIntoView()")
    screenshot(browser, "step-panel")
    # The tasks list shows it and filters by state; the overview counts it.
    browser.get(f"{cluster.url}/ui/tasks?state=complete&namespace=examples&name=diamond")
    assert browser.find_elements(By.CSS_SELECTOR, f'tr[data-task-id="{task_id}"]')
    screenshot(browser, "tasks")
    browser.get(f"{cluster.url}/ui/tasks?state=error")
    assert not browser.find_elements(By.CSS_SELECTOR, f'tr[data-task-id="{task_id}"]')
    browser.find_element(By.ID, "f-task-id").send_keys(task_id)
    browser.find_element(By.ID, "find").click()
    # A click does not wait for the page it leads to.
    assert wait(browser).until(lambda d: d.find_element(By.ID, "task-id").text) == task_id
    browser.get(f"{cluster.url}/ui/overview")
    assert browser.find_element(By.CSS_SELECTOR, '#by-state td.count[data-state="complete"]').text != "0"
    screenshot(browser, "overview")
    browser.get(f"{cluster.url}/ui/templates")
    assert "examples/diamond" in browser.find_element(By.TAG_NAME, "main").text
    screenshot(browser, "templates")
    # One template: its definition as YAML and its latest tasks (this one among them).
    browser.find_element(By.CSS_SELECTOR, 'section[data-template="examples/diamond@1.0.0"] a.template-detail').click()
    source = after_submit(browser, "template-source").text
    assert source.startswith("name: diamond\nnamespace: examples\nversion: 1.0.0")
    assert "depends_on: [branch_b, branch_c]" in source
    assert browser.find_elements(By.CSS_SELECTOR, f'#template-tasks tr[data-task-id="{task_id}"]')
    screenshot(browser, "template")


def test_reading_works_with_javascript_off(cluster, browser_without_js):
    browser = browser_without_js
    sign_in(browser, cluster, cluster.operator_key)
    task_id = cluster.submit({"even_number": 2, "sleep_ms": {"start": 4000}})
    browser.get(f"{cluster.url}/ui/tasks/{task_id}")
    # The page's own script did not run (app.js marks <html data-js="on">).
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("data-js") is None
    assert node_state(browser, "start") in ("pending", "enqueued", "in_progress")
    # The <noscript> meta refresh reloads the page until the task has finished (a read can hit a
    # page that is being replaced: retried).
    WebDriverWait(browser, 60, poll_frequency=0.2, ignored_exceptions=[WebDriverException]).until(
        lambda d: d.execute_script("var s = document.getElementById('task-state'); return s && s.getAttribute('data-state');") == "complete")
    assert node_state(browser, "end") == "complete"
    browser.get(f"{cluster.url}/ui/tasks?state=complete")
    assert browser.find_elements(By.CSS_SELECTOR, f'tr[data-task-id="{task_id}"]')


def test_cancel_a_running_task_from_the_ui(cluster, browser):
    sign_in(browser, cluster, cluster.operator_key)
    task_id = cluster.submit({"even_number": 2, "sleep_ms": {"start": 60000}})
    cluster.wait_task(task_id, lambda t: t["state"] == "in_progress")
    browser.get(f"{cluster.url}/ui/tasks/{task_id}")
    wait(browser).until(lambda d: node_state(d, "start") == "in_progress")
    screenshot(browser, "task-running")
    browser.find_element(By.ID, "cancel-task").click()
    assert "cancel" in after_submit(browser, "notice", "message").text.lower()
    wait(browser).until(lambda d: d.find_element(By.ID, "task-state").get_attribute("data-state") == "cancelled")
    assert cluster.task(task_id)["state"] == "cancelled"
    assert not browser.find_elements(By.ID, "cancel-task")
    # The task's audit trail names who cancelled it and why.
    entry = browser.find_element(By.CSS_SELECTOR, '#task-audit-trail li[data-to-state="cancelled"]')
    assert "operator" in entry.text and "cancelled from the dashboard" in entry.text


def test_resolve_a_failed_step_and_see_the_audit_trail_change(cluster, browser):
    sign_in(browser, cluster, cluster.operator_key)
    task_id = cluster.submit({"even_number": 2, "fail_permanently": ["branch_b"]})
    cluster.wait_task(task_id, lambda t: t["state"] == "error")
    browser.get(f"{cluster.url}/ui/tasks/{task_id}?step=branch_b")
    assert node_state(browser, "branch_b") == "error"
    assert "injected permanent failure" in browser.find_element(By.ID, "step-error").text
    before = len(browser.find_elements(By.CSS_SELECTOR, "#audit-trail .audit-entry"))
    browser.execute_script("document.getElementById('live').scrollIntoView()")
    screenshot(browser, "step-failed")
    results = browser.find_element(By.ID, "resolve-results")
    results.clear()
    results.send_keys('{"value": 16}')
    browser.find_element(By.ID, "resolve-step").click()
    assert after_submit(browser, "notice", "message").get_attribute("id") == "notice"
    entries = browser.find_elements(By.CSS_SELECTOR, "#audit-trail .audit-entry")
    assert len(entries) > before
    assert entries[-1].get_attribute("data-to-state") == "resolved_manually"
    shown = browser.find_element(By.ID, "step-results").text
    assert '"value"' in shown and "16" in shown
    # The task reopens, `end` runs on the given results, and the page follows it live.
    wait(browser, 60).until(lambda d: d.find_element(By.ID, "task-state").get_attribute("data-state") == "complete")
    assert node_state(browser, "branch_b") == "resolved_manually"
    assert node_state(browser, "end") == "complete"
    screenshot(browser, "step-resolved")


def test_a_read_only_key_sees_no_buttons_and_forged_posts_are_refused(cluster, browser):
    task_id = cluster.submit({"even_number": 2, "sleep_ms": {"start": 60000}})
    cluster.wait_task(task_id, lambda t: t["state"] == "in_progress")
    sign_in(browser, cluster, cluster.reader_key)
    browser.get(f"{cluster.url}/ui/tasks/{task_id}?step=start")
    assert browser.find_element(By.ID, "task-state")
    assert not browser.find_elements(By.CSS_SELECTOR, "form.action")
    assert not browser.find_elements(By.ID, "cancel-task")
    screenshot(browser, "read-only")
    # A forged POST from the reader's own session, with its valid CSRF token: refused (scope).
    session = browser.get_cookie("tasker_session")["value"]
    csrf = browser.find_element(By.CSS_SELECTOR, '#sign-out').find_element(By.XPATH, "..").find_element(By.NAME, "csrf_token").get_attribute("value")
    cookies = {"tasker_session": session}
    answer = requests.post(f"{cluster.url}/ui/tasks/{task_id}/cancel", data={"csrf_token": csrf, "reason": "forged"}, cookies=cookies, timeout=10)
    assert answer.status_code == 403 and "tasks:operate" in answer.text
    # An operator's session without the CSRF token (what a cross-site form would send): refused.
    operator = requests.Session()
    assert operator.post(f"{cluster.url}/ui/login", data={"api_key": cluster.operator_key}, timeout=10).status_code == 200
    forged = operator.post(f"{cluster.url}/ui/tasks/{task_id}/cancel", data={"reason": "forged"}, timeout=10)
    assert forged.status_code == 403 and "CSRF" in forged.text
    forged = operator.post(f"{cluster.url}/ui/tasks/{task_id}/cancel", data={"reason": "forged", "csrf_token": csrf}, timeout=10)
    assert forged.status_code == 403, "another session's token must not work"
    assert cluster.task(task_id)["state"] == "in_progress"
    # The operator cancels it for real (cleans up the 60 s sleeper).
    requests.post(f"{cluster.url}/v1/tasks/{task_id}/cancel", json={"reason": "test cleanup"}, headers={"X-API-Key": cluster.operator_key}, timeout=10)


def test_dead_letters_are_listed_with_their_reason_and_can_be_replayed(cluster, browser):
    import os
    import time

    import pika

    connection = pika.BlockingConnection(pika.URLParameters(os.environ["AMQP_URL"]))
    try:
        channel = connection.channel()
        channel.basic_publish(exchange=f"{cluster.prefix}.requests", routing_key="x.y", body=b"this is not json",
                              properties=pika.BasicProperties(message_id="dash-not-json"))
    finally:
        connection.close()
    sign_in(browser, cluster, cluster.operator_key)
    row = None
    give_up = time.time() + 30
    while time.time() < give_up and row is None:
        browser.get(f"{cluster.url}/ui/dlq")
        rows = browser.find_elements(By.CSS_SELECTOR, 'tr.dead-letter[data-message-id="dash-not-json"]')
        row = rows[0] if rows else None
        if row is None:
            time.sleep(0.5)
    assert row is not None, "the dead-lettered request never showed up on /ui/dlq"
    assert f"{cluster.prefix}.requests" in row.text
    assert row.find_element(By.CSS_SELECTOR, ".reason").text.strip() != ""
    screenshot(browser, "dead-letters")
    # Replay it. A browse puts the messages it looked at back on the queue; one that is between
    # being put back and being visible again is not found: try again a few times.
    notice = ""
    for _ in range(5):
        browser.get(f"{cluster.url}/ui/dlq")
        buttons = browser.find_elements(By.CSS_SELECTOR, 'tr.dead-letter[data-message-id="dash-not-json"] button.replay')
        if buttons:
            buttons[0].click()
            shown = after_submit(browser, "notice", "message")
            if shown.get_attribute("id") == "notice":
                notice = shown.text
                break
        time.sleep(1)
    assert "replayed dash-not-json" in notice
    # A read-only key: no link, and the page is refused.
    browser.find_element(By.ID, "sign-out").click()
    after_submit(browser, "api-key")
    sign_in(browser, cluster, cluster.reader_key)
    assert not browser.find_elements(By.LINK_TEXT, "Dead letters")
    browser.get(f"{cluster.url}/ui/dlq")
    assert "dlq:operate" in browser.find_element(By.ID, "message").text


def test_the_tasks_list_filters_and_pages_10000_tasks(cluster, browser):
    import os
    import subprocess
    import time
    import uuid

    # 10,000 finished tasks of one template name, inserted straight into the database (no steps:
    # the list reads only the tasks table); every fourth one failed; 1 ms apart, newest first.
    name = f"paging_{uuid.uuid4().hex[:8]}"
    sql = f"""
        INSERT INTO tasks (id, template_id, namespace, name, version, state, created_at, updated_at)
        SELECT gen_random_uuid(), (SELECT min(id) FROM task_templates), 'paging', '{name}', '1.0.0',
               CASE WHEN i % 4 = 0 THEN 'error' ELSE 'complete' END,
               now() - make_interval(secs => i / 1000.0), now() - make_interval(secs => i / 1000.0)
        FROM generate_series(1, 10000) AS i;
        ANALYZE tasks;
    """
    def psql(statement):
        subprocess.run(["psql", os.environ["DATABASE_URL"], "-v", "ON_ERROR_STOP=1", "-q", "-c", statement], check=True, capture_output=True)

    psql(sql)
    try:
        check_paging(browser, cluster, name)
    finally:  # later phases of ops/test (chaos audit, benchmarks) share this database
        psql(f"DELETE FROM tasks WHERE namespace = 'paging' AND name = '{name}'")


def check_paging(browser, cluster, name):
    import time

    sign_in(browser, cluster, cluster.reader_key)

    def walk(url):
        """Follows 'Next page' to the end; returns the task ids in order and the slowest page load."""
        ids, slowest = [], 0.0
        while url:
            started = time.time()
            browser.get(url)
            slowest = max(slowest, time.time() - started)
            rows = browser.find_elements(By.CSS_SELECTOR, "#tasks tr.task-row")
            ids += [row.get_attribute("data-task-id") for row in rows]
            links = browser.find_elements(By.ID, "next-page")
            url = links[0].get_attribute("href") if links else None
        return ids, slowest

    # The failed ones: 2,500 over 50 pages, each once, every row in state error.
    failed, slowest = walk(f"{cluster.url}/ui/tasks?namespace=paging&name={name}&state=error")
    assert len(failed) == 2500 and len(set(failed)) == 2500
    assert slowest < 2.0, f"a page took {slowest:.2f} s"
    browser.get(f"{cluster.url}/ui/tasks?namespace=paging&name={name}&state=error")
    states = {e.get_attribute("data-state") for e in browser.find_elements(By.CSS_SELECTOR, "#tasks tr.task-row .state")}
    assert states == {"error"}
    # The filter form keeps its values, and the first page is the newest 50.
    assert browser.find_element(By.ID, "f-name").get_attribute("value") == name
    screenshot(browser, "tasks-paging")
    # All 10,000 through the same pages' cursor links (fetched without the browser, for speed):
    # exactly once each.
    import html
    import re

    cookies = {"tasker_session": browser.get_cookie("tasker_session")["value"]}
    everything, url = [], f"{cluster.url}/ui/tasks?namespace=paging&name={name}"
    while url:
        page = requests.get(url, cookies=cookies, timeout=10).text
        everything += re.findall(r'<tr class="task-row" data-task-id="([0-9a-f-]+)"', page)
        link = re.search(r'<a id="next-page" href="([^"]+)"', page)
        url = f"{cluster.url}{html.unescape(link.group(1))}" if link else None
    assert len(everything) == 10000 and len(set(everything)) == 10000
    assert set(failed) <= set(everything)


def publish_bad_request(cluster, message_id):
    """A request that is not JSON: the coordinator dead-letters it."""
    import os

    import pika

    connection = pika.BlockingConnection(pika.URLParameters(os.environ["AMQP_URL"]))
    try:
        connection.channel().basic_publish(exchange=f"{cluster.prefix}.requests", routing_key="x.y", body=b"not json either",
                                           properties=pika.BasicProperties(message_id=message_id))
    finally:
        connection.close()


def test_the_overview_shows_real_numbers_live_and_a_dead_letter_is_discarded(cluster, browser):
    import time
    import uuid

    done = cluster.submit({"even_number": 2})
    cluster.wait_task(done, lambda t: t["state"] == "complete")
    sign_in(browser, cluster, cluster.operator_key)
    browser.get(f"{cluster.url}/ui/overview")
    # The worker consumes the examples step queue: one worker connected; every queue has numbers.
    workers = browser.find_element(By.CSS_SELECTOR, '#workers tr[data-namespace="examples"] td.workers').text
    assert int(workers) >= 1
    steps_queue = browser.find_element(By.CSS_SELECTOR, f'#queues tr.queue[data-queue="{cluster.prefix}.steps.examples"]')
    assert int(steps_queue.find_element(By.CSS_SELECTOR, "td.consumers").text) >= 1
    assert steps_queue.find_element(By.CSS_SELECTOR, "td.messages").text.isdigit()
    # The last hour's completions include this task's four steps.
    assert int(browser.find_element(By.ID, "steps-completed").get_attribute("data-count")) >= 4
    assert browser.find_elements(By.CSS_SELECTOR, "#throughput svg.throughput g.minute")
    # A new dead letter shows up in the open page without a reload (it refreshes itself).
    before = int(browser.find_element(By.ID, "dead-letter-count").text)
    browser.execute_script("window.__sameDocument = 'yes';")
    message_id = f"dash-discard-{uuid.uuid4().hex[:8]}"
    publish_bad_request(cluster, message_id)
    wait(browser, 30).until(lambda d: int(d.find_element(By.ID, "dead-letter-count").text) > before)
    assert browser.execute_script("return window.__sameDocument;") == "yes", "the page reloaded"
    screenshot(browser, "overview")
    # Discard it from the dead-letters page: gone for good.
    notice = ""
    for _ in range(5):
        browser.get(f"{cluster.url}/ui/dlq")
        buttons = browser.find_elements(By.CSS_SELECTOR, f'tr.dead-letter[data-message-id="{message_id}"] button.discard')
        if buttons:
            buttons[0].click()
            shown = after_submit(browser, "notice", "message")
            if shown.get_attribute("id") == "notice":
                notice = shown.text
                break
        time.sleep(1)
    assert f"discarded {message_id}" in notice
    assert not browser.find_elements(By.CSS_SELECTOR, f'tr.dead-letter[data-message-id="{message_id}"]')
    answer = requests.get(f"{cluster.url}/v1/dlq/{message_id}", headers={"X-API-Key": cluster.operator_key}, timeout=60)
    assert answer.status_code == 404


def test_bulk_cancel_of_two_running_tasks(cluster, browser):
    tasks = [cluster.submit({"even_number": 2, "sleep_ms": {"start": 60000}}) for _ in range(2)]
    for task_id in tasks:
        cluster.wait_task(task_id, lambda t: t["state"] == "in_progress")
    sign_in(browser, cluster, cluster.operator_key)
    browser.get(f"{cluster.url}/ui/tasks?namespace=examples&state=in_progress")
    for task_id in tasks:
        browser.find_element(By.CSS_SELECTOR, f'input.select-task[value="{task_id}"]').click()
    screenshot(browser, "tasks-bulk-selection")
    browser.find_element(By.ID, "bulk-cancel").click()
    after_submit(browser, "bulk-results")
    for task_id in tasks:
        outcome = browser.find_element(By.CSS_SELECTOR, f'tr.bulk-result[data-task-id="{task_id}"] td.outcome')
        assert outcome.get_attribute("data-status") == "applied" and "applied" in outcome.text
        assert browser.find_element(By.CSS_SELECTOR, f'tr.bulk-result[data-task-id="{task_id}"] .state').get_attribute("data-state") == "cancelled"
    screenshot(browser, "bulk-cancel")
    for task_id in tasks:
        assert cluster.task(task_id)["state"] == "cancelled"
        browser.get(f"{cluster.url}/ui/tasks/{task_id}")
        assert browser.find_element(By.ID, "task-state").get_attribute("data-state") == "cancelled"
        entry = browser.find_element(By.CSS_SELECTOR, '#task-audit-trail li[data-to-state="cancelled"]')
        assert "bulk action from the dashboard" in entry.text


KEYED_TEMPLATE = """name: keyed
namespace: examples
version: 1.0.0
description: one step; the caller's idempotency key is the task's identity.
identity_strategy: caller_provided
steps:
  - { name: only, handler: square }
"""


def test_search_by_idempotency_key_and_time_range(cluster, browser):
    import datetime
    import os
    import uuid

    path = os.path.join(cluster.dir, "keyed.yaml")
    with open(path, "w") as handle:
        handle.write(KEYED_TEMPLATE)
    cluster.run("templates", "register", path)
    key = f"order-{uuid.uuid4().hex[:8]}"
    body = {"namespace": "examples", "name": "keyed", "context": {"even_number": 2}, "idempotency_key": key}
    answer = requests.post(f"{cluster.url}/v1/tasks", json=body, headers={"X-API-Key": cluster.operator_key}, timeout=10)
    assert answer.status_code == 201, answer.text
    keyed = answer.json()["task_id"]
    other = cluster.submit({"even_number": 4})
    sign_in(browser, cluster, cluster.reader_key)

    def listed():
        return [row.get_attribute("data-task-id") for row in browser.find_elements(By.CSS_SELECTOR, "#tasks tr.task-row")]

    # By idempotency key alone (no template named): exactly that task.
    browser.get(f"{cluster.url}/ui/tasks")
    browser.find_element(By.ID, "f-idempotency-key").send_keys(key)
    browser.find_element(By.ID, "apply-filters").click()
    wait(browser).until(lambda d: "idempotency_key=" in d.current_url)
    assert listed() == [keyed]
    assert browser.find_element(By.ID, "f-idempotency-key").get_attribute("value") == key
    # By creation time: a millisecond-wide window around it.
    created = datetime.datetime.fromisoformat(cluster.task(keyed)["created_at"].replace("Z", "+00:00"))
    after = created.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    before = (created + datetime.timedelta(milliseconds=1)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    browser.get(f"{cluster.url}/ui/tasks")
    browser.find_element(By.ID, "f-namespace").send_keys("examples")
    browser.find_element(By.ID, "f-created-after").send_keys(after)
    browser.find_element(By.ID, "f-created-before").send_keys(before)
    browser.find_element(By.ID, "apply-filters").click()
    wait(browser).until(lambda d: "created_after=" in d.current_url)
    assert listed() == [keyed]
    screenshot(browser, "tasks-search")
    # Widened to the minute after it: the later task too, newest first.
    later = (created + datetime.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M")
    browser.get(f"{cluster.url}/ui/tasks?namespace=examples&created_after={after}&created_before={later}")
    assert listed()[-1] == keyed and other in listed()
    # A time that is not one: said so.
    browser.get(f"{cluster.url}/ui/tasks?created_after=yesterday")
    assert "not a time" in browser.find_element(By.ID, "message").text
