"""What a newcomer sees first, in headless Chromium: /docs and /redoc render with no network but this
machine's loopback (their assets come from the gateway itself); the console shows a loading state until
its first answer lands and counts in the singular for one; and its calls never go elsewhere than the id
they name (every path segment encoded, dot-only ids refused before any request)."""

from collections.abc import Iterator

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from tests.api.conftest import Server, migrated_database
from tests.browser.test_console import create_queue, create_topic, open_console, publish, wait
from tests.conftest import drop_database


def resources_outside(driver: WebDriver, base_url: str) -> list[str]:
    """Scripts, styles and fetches the page asked for elsewhere than this server. (ReDoc's sidebar links its
    own logo on a CDN: an image, which the page's Content-Security-Policy keeps from being requested.)"""
    entries = driver.execute_script(
        "return performance.getEntriesByType('resource').map((entry) => [entry.name, entry.initiatorType])"
    )
    return [name for name, initiator in entries if not name.startswith(base_url) and initiator != "img"]


def test_swagger_ui_renders_without_network(offline_browser: WebDriver, console_server: Server) -> None:
    offline_browser.get(console_server.url + "/docs")
    title = wait(
        offline_browser,
        lambda d: d.find_element(By.CSS_SELECTOR, ".swagger-ui .info .title"),
        "Swagger UI did not render /docs offline",
    )
    assert "fastqueue" in title.text
    wait(offline_browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".opblock"), "no operation listed on /docs")
    assert resources_outside(offline_browser, console_server.url) == []


def test_redoc_renders_without_network(offline_browser: WebDriver, console_server: Server) -> None:
    offline_browser.get(console_server.url + "/redoc")
    heading = wait(
        offline_browser,
        lambda d: d.find_element(By.XPATH, "//h1[contains(., 'fastqueue')]"),
        "ReDoc did not render /redoc offline",
    )
    assert heading.is_displayed()
    assert resources_outside(offline_browser, console_server.url) == []


@pytest.fixture
def slow_api(offline_browser: WebDriver) -> Iterator[None]:
    """Every fetch of the next pages answers 3 s late, so their loading state can be seen."""
    script = offline_browser.execute_cdp_cmd(
        "Page.addScriptToEvaluateOnNewDocument",
        {
            "source": "const realFetch = window.fetch; window.fetch = (...args) => new Promise((ok) => setTimeout(ok, 3000)).then(() => realFetch(...args));"
        },
    )
    try:
        yield
    finally:
        offline_browser.execute_cdp_cmd(
            "Page.removeScriptToEvaluateOnNewDocument", {"identifier": script["identifier"]}
        )


def test_console_shows_loading_until_its_first_answer(
    offline_browser: WebDriver, console_server: Server, slow_api: None
) -> None:
    offline_browser.get(f"{console_server.url}/console/#/")
    summary = offline_browser.find_element(By.ID, "summary").text
    page = offline_browser.find_element(By.ID, "view").text
    assert "Loading" in summary, summary
    assert "No queues yet" not in page and "0 queues" not in page, page
    wait(
        offline_browser,
        lambda d: (
            "queue" in d.find_element(By.ID, "summary").text and "Loading" not in d.find_element(By.ID, "summary").text
        ),
        "the summary never replaced its loading state",
    )


@pytest.fixture
def one_queue_server(template_database: str, start_console_server) -> Iterator[Server]:
    name, url = migrated_database(template_database, "fq_console_one")
    server = start_console_server(url)
    try:
        yield server
    finally:
        server.stop()
        drop_database(name)


def test_console_counts_one_in_the_singular(offline_browser: WebDriver, one_queue_server: Server) -> None:
    with httpx.Client(base_url=one_queue_server.url, timeout=15) as api:
        create_topic(api, "only-topic")
        create_queue(api, "only-queue", "only-topic")
        publish(api, "only-topic")
    open_console(offline_browser, one_queue_server.url)
    wait(
        offline_browser,
        lambda d: d.find_element(By.ID, "summary").text == "1 queue, 1 topic, 1 message",
        f"summary is not in the singular: {offline_browser.find_element(By.ID, 'summary').text!r}",
    )


# Ids a client might turn into another path: `..` and `.` are normalised out of URLs (%2E%2E as well, by
# the URL standard), `/`, `?`, `#` and `%` would end or split the segment if sent as they are.
ENCODED_IDS = ["a/b", "q?limit=1000", "x#y", "%2e%2e", "...", "100%"]


def test_console_calls_name_the_queue_they_act_on(offline_browser: WebDriver, console_server: Server) -> None:
    open_console(offline_browser, console_server.url)
    wait(offline_browser, lambda d: "Loading" not in d.find_element(By.ID, "summary").text, "the console did not load")
    calls = offline_browser.execute_async_script(
        """
        const [ids, refused, done] = arguments;
        const seen = [];
        const realFetch = window.fetch;
        window.fetch = (url, init) => { seen.push(String(url)); return realFetch(url, init); };
        const results = {encoded: {}, refused: {}};
        (async () => {
          for (const id of ids) {
            try { await api("GET", `${q(id)}/peek`); } catch (error) { /* 404: no such queue */ }
            results.encoded[id] = seen.pop();
          }
          for (const id of refused) {
            const before = seen.length;
            try { await api("PUT", `${q(id)}/purge`); results.refused[id] = "sent"; }
            catch (error) { results.refused[id] = seen.length === before ? error.message : "sent"; }
          }
          window.fetch = realFetch;
          done(results);
        })();
        """,
        ENCODED_IDS,
        ["..", "."],
    )
    for queue_id, url in calls["encoded"].items():
        path = httpx.URL(url).raw_path.decode()
        segments = path.split("/")
        assert segments[-3:-2] == ["queues"] and segments[-1] == "peek", f"{queue_id!r} steered the call to {url}"
        assert httpx.URL("http://x/" + segments[-2]).path == "/" + queue_id, f"{queue_id!r} sent as {segments[-2]!r}"
    for queue_id, outcome in calls["refused"].items():
        assert outcome != "sent", f"a request was sent for the id {queue_id!r}"
        assert queue_id in outcome, outcome
