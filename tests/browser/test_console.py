"""The web console (/console) in headless Chromium: what it shows, and what its buttons and forms do,
checked through the API and SQL. Topics, queues and messages are made through the API (plus
fastqueue.cleanup(), as the worker or pg_cron would run it, to dead-letter some messages)."""

import os
import shutil
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import psycopg
import pytest
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import ADMIN_TOKEN, CONSUMER_TOKEN, output_dir

REPO = Path(__file__).resolve().parents[2]
WAIT_SECONDS = 20  # the page refreshes every 3 s: a few refreshes at most
COUNT_COLUMNS = {
    "available_messages": 2,
    "inflight_messages": 3,
    "delayed_messages": 4,
    "dead_letter_candidates": 5,
    "total_messages": 6,
}
IGNORED = (NoSuchElementException, StaleElementReferenceException)


def wait(driver: WebDriver, condition: Callable[[WebDriver], object], message: str, timeout: float = WAIT_SECONDS):
    return WebDriverWait(driver, timeout, poll_frequency=0.2, ignored_exceptions=IGNORED).until(condition, message)


def uid(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:6]}"


def create_topic(api: httpx.Client, topic_id: str) -> None:
    response = api.post("/topics", json={"id": topic_id})
    assert response.status_code == 201, response.text


def create_queue(api: httpx.Client, queue_id: str, topic_id: str | None, **settings) -> None:
    body = {"id": queue_id, "topic_id": topic_id, "ack_deadline_seconds": 30, "message_retention_seconds": 1209600}
    response = api.post("/queues", json={**body, **settings})
    assert response.status_code == 201, response.text


def publish(api: httpx.Client, topic_id: str, times: int = 1, **message) -> None:
    for number in range(times):
        body = {"data": {"number": number}, **message}
        response = api.post(f"/topics/{topic_id}/messages", json=body)
        assert response.status_code == 201, response.text


def lease(api: httpx.Client, queue_id: str, limit: int) -> list[dict]:
    response = api.get(f"/queues/{queue_id}/messages", params={"limit": limit})
    assert response.status_code == 200, response.text
    assert len(response.json()["data"]) == limit
    return response.json()["data"]


def dead_letter(api: httpx.Client, database_url: str, queue_id: str, count: int) -> None:
    """Lease `count` messages of a queue with max deliveries 1 and an ack deadline of 1 s, let the leases
    end, and run cleanup(): they move to its dead queue."""
    lease(api, queue_id, count)
    time.sleep(1.2)
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("select fastqueue.cleanup()")


def overview(api: httpx.Client) -> dict[str, dict]:
    response = api.get("/overview/queues")
    assert response.status_code == 200, response.text
    return {queue["id"]: queue for queue in response.json()["data"]}


def row_cells(driver: WebDriver, table_id: str, key: str) -> list[str]:
    row = driver.find_element(By.CSS_SELECTOR, f'#{table_id} tbody tr[data-key="{key}"]')
    return [cell.text for cell in row.find_elements(By.TAG_NAME, "td")]


def open_console(driver: WebDriver, base_url: str, fragment: str = "/") -> None:
    driver.get(f"{base_url}/console/#{fragment}")
    wait(driver, lambda d: d.find_element(By.ID, "updated").text.startswith("updated"), "the console never loaded data")


def open_dialog(driver: WebDriver):
    return driver.find_element(By.CSS_SELECTOR, "dialog[open]")


def no_dialog(driver: WebDriver) -> bool:
    return not driver.find_elements(By.CSS_SELECTOR, "dialog[open]")


@pytest.fixture(scope="module")
def busy(console_server, console_database: str) -> dict[str, dict]:
    """A few busy queues, with plain names (the database is the browser tests' own): the scene of the
    README's screenshot. Returns the counts each must show."""
    with httpx.Client(base_url=console_server.url, timeout=15) as api:
        for topic in ("orders", "emails", "payments"):
            create_topic(api, topic)
        create_queue(api, "orders-dead", None)
        create_queue(api, "orders", "orders", dead_queue_id="orders-dead", message_max_deliveries=5)
        create_queue(api, "invoices", "orders", message_filters={"kind": ["invoice"]})
        create_queue(api, "emails", "emails", delivery_delay_seconds=600)
        create_queue(
            api, "payments", "payments", ack_deadline_seconds=1, dead_queue_id="orders-dead", message_max_deliveries=1
        )

        publish(api, "orders", 6, attributes={"kind": "order"})
        publish(api, "orders", 2, attributes={"kind": "invoice"})
        lease(api, "orders", 3)
        publish(api, "emails", 3)
        publish(api, "emails", 1, delay_seconds=0)
        publish(api, "payments", 4)
        dead_letter(api, console_database, "payments", 4)
        publish(api, "payments", 3)
        lease(api, "payments", 2)  # delivered once = max deliveries: dead-letter candidates once the lease ends
    return {
        "orders": {"available_messages": 5, "inflight_messages": 3, "delayed_messages": 0, "total_messages": 8},
        "invoices": {"available_messages": 2, "total_messages": 2},
        "emails": {"available_messages": 1, "delayed_messages": 3, "total_messages": 4},
        "orders-dead": {"available_messages": 4, "total_messages": 4},
        "payments": {"total_messages": 3},
    }


def test_queues_page_shows_the_counts_of_every_queue(browser: WebDriver, console_server, api, busy) -> None:
    truth = overview(api)
    for queue_id, counts in busy.items():
        for key, value in counts.items():
            assert truth[queue_id][key] == value, (queue_id, key, truth[queue_id])

    open_console(browser, console_server.url)

    def table_matches_api(driver: WebDriver) -> bool:
        now = overview(api)  # the payments leases end while we look: compare with the API's own answer
        for queue_id in busy:
            cells = row_cells(driver, "queues-table", queue_id)
            for key, column in COUNT_COLUMNS.items():
                if cells[column] != f"{now[queue_id][key]:,}":
                    return False
        return True

    wait(browser, table_matches_api, "the queues table never showed the API's counts")
    orders = row_cells(browser, "queues-table", "orders")
    assert orders[1] == "orders" and orders[8] == "orders-dead"
    assert "dead queue" in row_cells(browser, "queues-table", "orders-dead")[0]
    assert row_cells(browser, "queues-table", "invoices")[9] == "kind ∈ {invoice}"
    assert row_cells(browser, "queues-table", "emails")[7] != "–"  # the available one's age

    # The candidates show once the payments leases (1 s) are over; then take the README's screenshot.
    wait(browser, lambda d: row_cells(d, "queues-table", "payments")[5] == "2", "no dead-letter candidates shown")
    path = output_dir() / "console-queues.png"
    assert browser.save_screenshot(str(path))
    assert 10_000 < path.stat().st_size < 300_000
    if os.environ.get("FASTQUEUE_UPDATE_SCREENSHOT"):
        # `make test ARGS="tests/browser"` with this set refreshes the README's picture; plain test
        # runs leave the committed file alone.
        shutil.copyfile(path, REPO / "docs" / "console.png")

    # Everything the page loaded came from this server (no CDN, nothing else).
    resources = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert resources and all(url.startswith(console_server.url + "/") for url in resources), resources

    # The filter box narrows the table; clearing it brings every queue back.
    search = browser.find_element(By.ID, "queue-search")
    search.send_keys("pay")
    wait(
        browser,
        lambda d: (
            [r.get_attribute("data-key") for r in d.find_elements(By.CSS_SELECTOR, "#queues-table tbody tr")]
            == ["payments"]
        ),
        "the filter did not narrow the table",
    )
    search.clear()
    search.send_keys(Keys.BACKSPACE)
    wait(
        browser,
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "#queues-table tbody tr")) >= len(busy),
        "the filter did not clear",
    )


def test_topics_are_listed_with_their_queues(browser: WebDriver, console_server, busy) -> None:
    open_console(browser, console_server.url, "/topics")
    wait(
        browser,
        lambda d: row_cells(d, "topics-table", "orders")[1] == "invoices, orders",
        "topic orders without its queues",
    )
    links = browser.find_elements(By.CSS_SELECTOR, '#topics-table tr[data-key="orders"] a')
    assert [link.get_attribute("href").split("#")[1] for link in links] == ["/queues/invoices", "/queues/orders"]
    assert row_cells(browser, "topics-table", "emails")[1] == "emails"


def test_queue_page_shows_settings_a_peek_and_a_chart(
    browser: WebDriver, console_server, console_database, api, busy
) -> None:
    def attempts() -> list[tuple]:
        with psycopg.connect(console_database, autocommit=True) as conn:
            return conn.execute(
                "select id, delivery_attempts, scheduled_at from fastqueue.messages where queue_id = 'orders' order by id"
            ).fetchall()

    before = attempts()
    open_console(browser, console_server.url, "/queues/orders")
    settings = browser.find_element(By.ID, "queue-settings").text
    assert (
        "Dead queue\norders-dead" in settings and "Max deliveries\n5" in settings and "Ack deadline (s)\n30" in settings
    )
    assert browser.find_element(By.CSS_SELECTOR, '[data-count="available_messages"]').text == "5"

    peeked = api.get("/queues/orders/peek", params={"limit": 10})
    assert peeked.status_code == 200, peeked.text
    expected = [message["id"] for message in peeked.json()["data"]]
    assert expected

    def peek_rows(driver: WebDriver) -> list[str]:
        return [row.get_attribute("data-key") for row in driver.find_elements(By.CSS_SELECTOR, "#peek-table tbody tr")]

    wait(browser, lambda d: peek_rows(d) == expected, "the peek table does not list the API's messages")
    samples = int(browser.find_element(By.ID, "depth-chart").get_attribute("data-samples"))
    wait(
        browser,
        lambda d: int(d.find_element(By.ID, "depth-chart").get_attribute("data-samples")) >= samples + 2,
        "the chart did not gain points over two refreshes",
    )
    assert browser.find_elements(By.CSS_SELECTOR, "#depth-chart polyline")
    assert browser.save_screenshot(str(output_dir() / "console-queue.png"))
    assert attempts() == before, "peeking leased or changed messages"


def test_keyboard_reaches_purge_and_escape_cancels(browser: WebDriver, console_server, api) -> None:
    topic, queue = uid("kbd"), uid("kbd")
    create_topic(api, topic)
    create_queue(api, queue, topic)
    publish(api, topic, 2)
    open_console(browser, console_server.url, f"/queues/{queue}")
    browser.execute_script("document.activeElement && document.activeElement.blur()")
    for _ in range(40):
        ActionChains(browser).send_keys(Keys.TAB).perform()
        if browser.switch_to.active_element.get_attribute("id") == "purge":
            break
    else:
        pytest.fail("Tab never reached the purge button")
    browser.switch_to.active_element.send_keys(Keys.ENTER)
    dialog = wait(browser, open_dialog, "Enter did not open the purge confirmation")
    assert "Purge" in dialog.text
    browser.switch_to.active_element.send_keys(Keys.ESCAPE)
    wait(browser, no_dialog, "Escape did not close the dialog")
    assert api.get(f"/queues/{queue}/stats").json()["num_undelivered_messages"] == 2


def test_purge_button_empties_the_queue(browser: WebDriver, console_server, api) -> None:
    topic, queue = uid("purge"), uid("purge")
    create_topic(api, topic)
    create_queue(api, queue, topic)
    publish(api, topic, 5)
    lease(api, queue, 2)
    open_console(browser, console_server.url, f"/queues/{queue}")
    wait(
        browser,
        lambda d: d.find_element(By.CSS_SELECTOR, '[data-count="total_messages"]').text == "5",
        "5 messages not shown",
    )
    browser.find_element(By.ID, "purge").click()
    dialog = wait(browser, open_dialog, "no confirmation")
    dialog.find_element(By.CSS_SELECTOR, "button.danger").click()
    wait(browser, no_dialog, "the confirmation stayed open")
    assert overview(api)[queue]["total_messages"] == 0
    wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, '[data-count="total_messages"]').text == "0", "0 not shown")
    assert "Purged" in browser.find_element(By.ID, "notice").text


def test_redrive_button_moves_dead_messages_back(browser: WebDriver, console_server, console_database, api) -> None:
    topic, source, dead = uid("redrive"), uid("work"), uid("dead")
    create_topic(api, topic)
    create_queue(api, dead, None)
    create_queue(api, source, topic, ack_deadline_seconds=1, dead_queue_id=dead, message_max_deliveries=1)
    publish(api, topic, 3)
    dead_letter(api, console_database, source, 3)
    assert overview(api)[dead]["available_messages"] == 3

    open_console(browser, console_server.url, f"/queues/{dead}")
    wait(
        browser,
        lambda d: d.find_element(By.CSS_SELECTOR, '[data-count="available_messages"]').text == "3",
        "3 not shown",
    )
    browser.find_element(By.ID, "redrive").click()
    dialog = wait(browser, open_dialog, "no redrive dialog")
    destination = dialog.find_element(By.ID, "redrive-destination")
    assert destination.get_attribute("value") == source  # the queue that dead-letters here comes first
    dialog.find_element(By.CSS_SELECTOR, "button.primary").click()
    wait(browser, no_dialog, "the redrive dialog stayed open")
    after = overview(api)
    assert after[dead]["total_messages"] == 0
    assert after[source]["available_messages"] == 3


def test_publish_form_publishes_and_values_are_shown_as_text(browser: WebDriver, console_server, api) -> None:
    topic, queue = uid("form"), uid("form")
    create_topic(api, topic)
    create_queue(api, queue, topic)
    open_console(browser, console_server.url, f"/queues/{queue}")
    wait(
        browser, lambda d: d.find_element(By.ID, "publish-topic").get_attribute("value") == topic, "topic not prefilled"
    )
    data = browser.find_element(By.ID, "publish-data")
    data.clear()
    data.send_keys('{"html": "<img src=x id=injected>"}')
    browser.find_element(By.ID, "publish-attributes").send_keys('{"source": "console"}')
    browser.find_element(By.CSS_SELECTOR, "#publish-form button[type=submit]").click()
    wait(
        browser, lambda d: queue in d.find_element(By.CSS_SELECTOR, "#publish-form .result").text, "no success message"
    )

    messages = api.get(f"/queues/{queue}/peek").json()["data"]
    assert [(m["data"], m["attributes"]) for m in messages] == [
        ({"html": "<img src=x id=injected>"}, {"source": "console"})
    ]
    wait(
        browser,
        lambda d: "<img src=x id=injected>" in d.find_element(By.ID, "peek-table").text,
        "message not in the peek",
    )
    assert not browser.find_elements(By.ID, "injected")

    # A bad request shows the API's detail.
    data.clear()
    data.send_keys("[1]")
    browser.find_element(By.CSS_SELECTOR, "#publish-form button[type=submit]").click()
    wait(
        browser,
        lambda d: "data" in d.find_element(By.CSS_SELECTOR, "#publish-form .result.error").text,
        "no error shown",
    )


def test_auth_needs_an_admin_token(browser: WebDriver, auth_server) -> None:
    assert httpx.get(auth_server.url + "/console/", timeout=10).status_code == 200
    assert httpx.get(auth_server.url + "/overview/queues", timeout=10).status_code == 401
    with httpx.Client(base_url=auth_server.url, timeout=10, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as api:
        create_topic(api, "secured")
        create_queue(api, "secured", "secured")
        publish(api, "secured", 2)

    browser.get(auth_server.url + "/console/")
    login = browser.find_element(By.ID, "login")
    wait(
        browser,
        lambda d: login.is_displayed() and "needs an admin token" in d.find_element(By.ID, "login-message").text,
        "no token form",
    )
    assert not browser.find_element(By.ID, "view").is_displayed()

    token = browser.find_element(By.ID, "token")
    token.send_keys(CONSUMER_TOKEN, Keys.ENTER)
    wait(
        browser,
        lambda d: "not an admin token" in d.find_element(By.ID, "login-message").text,
        "a consumer token was not refused",
    )
    assert login.is_displayed()

    token.send_keys("wrong-token", Keys.ENTER)
    wait(
        browser,
        lambda d: "does not know that token" in d.find_element(By.ID, "login-message").text,
        "an unknown token was not refused",
    )

    token.send_keys(ADMIN_TOKEN, Keys.ENTER)
    wait(
        browser, lambda d: row_cells(d, "queues-table", "secured")[2] == "2", "the admin token did not open the console"
    )
    assert not login.is_displayed()
    browser.execute_script("sessionStorage.clear()")
