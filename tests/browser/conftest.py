"""The web console in a real browser: Debian's headless Chromium (/usr/bin/chromium) driven through
Debian's chromedriver by Selenium, against `fastqueue server` on a freshly migrated database (the
servers of tests/api/conftest.py). Nothing is downloaded: both paths are given explicitly, and Selenium
Manager (which would fetch a browser or a driver) is made to fail loudly if anything calls it.

Screenshots go to $FASTQUEUE_TEST_OUTPUT (the README's test command sets it), else ./test-output.
"""

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import Server, migrated_database, start_server
from tests.conftest import drop_database

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
WINDOW = (1366, 768)
ADMIN_TOKEN = "console-admin-token-0123456789"
CONSUMER_TOKEN = "console-consumer-token-0123456789"

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common import selenium_manager  # noqa: E402


def _no_selenium_manager(*args, **kwargs):
    raise AssertionError("Selenium Manager was called: it would download a browser or a driver")


selenium_manager.SeleniumManager.binary_paths = _no_selenium_manager


def output_dir() -> Path:
    path = Path(os.environ.get("FASTQUEUE_TEST_OUTPUT") or "test-output").resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def chromium(*extra_flags: str) -> Iterator["webdriver.Chrome"]:
    """Debian's headless Chromium through its chromedriver, with a profile of its own."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            pytest.fail(f"{path} is missing: scripts/bootstrap.sh installs Debian's chromium and chromium-driver")
    profile = tempfile.mkdtemp(prefix="fastqueue-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        "--lang=en-US",
        *extra_flags,
    ):
        options.add_argument(flag)
    driver = None
    try:
        driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
        driver.set_page_load_timeout(30)
        driver.set_script_timeout(30)
        driver.set_window_size(*WINDOW)
        yield driver
    finally:
        if driver is not None:
            driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="session")
def browser() -> Iterator["webdriver.Chrome"]:
    yield from chromium()


# No network but this machine's loopback: every other host name fails to resolve, and no proxy is used.
OFFLINE_FLAGS = ("--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1", "--no-proxy-server")


@pytest.fixture(scope="session")
def offline_browser() -> Iterator["webdriver.Chrome"]:
    yield from chromium(*OFFLINE_FLAGS)


@pytest.fixture(scope="session")
def console_database(template_database: str) -> Iterator[str]:
    """A database of the browser tests' own, so the queues page shows only their queues."""
    name, url = migrated_database(template_database, "fq_console")
    try:
        yield url
    finally:
        drop_database(name)


@pytest.fixture(scope="session")
def start_console_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Server]]:
    log_dir = tmp_path_factory.mktemp("console-servers")
    servers: list[Server] = []

    def start(database_url: str, **env: str) -> Server:
        server = start_server(database_url, log_dir, **env)
        servers.append(server)
        server.wait_until_serving()
        return server

    try:
        yield start
    finally:
        for server in servers:
            server.stop()


@pytest.fixture(scope="session")
def console_server(console_database: str, start_console_server: Callable[..., Server]) -> Server:
    return start_console_server(console_database)


@pytest.fixture(scope="session")
def auth_server(template_database: str, start_console_server: Callable[..., Server]) -> Iterator[Server]:
    """A server with FASTQUEUE_AUTH_TOKENS set, on a database of its own."""
    name, url = migrated_database(template_database, "fq_console_auth")
    server = None
    try:
        server = start_console_server(url, FASTQUEUE_AUTH_TOKENS=f"{ADMIN_TOKEN}:admin,{CONSUMER_TOKEN}:consumer")
        yield server
    finally:
        if server is not None:
            server.stop()  # before its database goes
        drop_database(name)


@pytest.fixture
def api(console_server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=console_server.url, timeout=15) as client:
        yield client
