"""`zhpress serve` in a real browser: Debian's chromium driven by Selenium through chromium-driver, against
a server the test starts on a free loopback port."""

from __future__ import annotations

import http.client
import re
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.conftest import run_zhpress
from tests.test_watch import WAIT, lines_of

CHROMEDRIVER = "/usr/bin/chromedriver"  # Debian's chromium-driver (`nox -s system` installs it)


class Server:
    """A `zhpress serve` process and the address it printed."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.process = subprocess.Popen(
            [sys.executable, "-m", "zhpress", "serve", "-C", str(root), "-j", "1"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        line = lines_of(self.process.stdout).get(timeout=WAIT)  # type: ignore[arg-type]
        match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert match, line
        self.url, self.port = match.group(), int(match.group(1))

    def stop(self) -> None:
        """Stop the server as a terminal's Ctrl+C would; it must end, and stop listening."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=60)
            finally:
                if self.process.poll() is None:
                    self.process.kill()
        assert self.process.returncode == 0, self.process.stderr.read() if self.process.stderr else ""
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", self.port), timeout=5).close()


@pytest.fixture
def book(tmp_path: Path) -> Path:
    root = tmp_path / "book"
    assert run_zhpress("new", str(root), "--template", "essays").returncode == 0
    return root


@pytest.fixture
def server(book: Path) -> Iterator[Server]:
    started = Server(book)
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    chromium = shutil.which("chromium")
    assert chromium and Path(CHROMEDRIVER).exists(), "Debian's chromium and chromium-driver: run `nox -s system`"
    options = Options()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=900,1100"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(WAIT)
    try:
        yield driver
    finally:
        driver.quit()


def body_text(driver: webdriver.Chrome) -> str:
    return driver.execute_script("return document.body ? document.body.textContent : ''")


def test_the_page_follows_the_manuscript_and_shows_a_build_error(server: Server, book: Path, browser: webdriver.Chrome, tmp_path: Path) -> None:
    wait = WebDriverWait(browser, WAIT, poll_frequency=0.2)
    browser.get(server.url + "ebook/a1.xhtml")  # before the first build, a page that reloads itself when it is ready
    wait.until(lambda d: "我的故乡在江南的一个小镇上" in body_text(d))
    assert browser.execute_script("return document.contentType") == "application/xhtml+xml"
    # The EPUB edition's own stylesheet is applied: its headline is centred.
    headline = browser.find_element(By.CSS_SELECTOR, "h1.headline")
    assert headline.value_of_css_property("text-align") == "center"
    browser.save_screenshot(str(tmp_path / "article.png"))

    manuscript = book / "content" / "01-gu-xiang-de-he.md"
    manuscript.write_text(manuscript.read_text("utf-8").replace("我的故乡在江南的一个小镇上", "我的故乡在岭南的一座山城里"), "utf-8")
    wait.until(lambda d: "我的故乡在岭南的一座山城里" in body_text(d))  # the page reloaded itself
    assert "我的故乡在江南的一个小镇上" not in body_text(browser)

    config = book / "content" / "book.toml"
    good = config.read_text("utf-8")
    config.write_text(good + 'title = "unclosed\n', "utf-8")
    broken_line = good.count("\n") + 1
    wait.until(lambda d: d.find_element(By.ID, "zhpress-error").is_displayed())
    message = browser.find_element(By.ID, "zhpress-error").text
    assert f"content/book.toml:{broken_line}" in message and "TOML" in message, message
    assert "我的故乡在岭南的一座山城里" in body_text(browser), "the last good preview stays"
    browser.save_screenshot(str(tmp_path / "error.png"))

    config.write_text(good, "utf-8")
    wait.until(lambda d: not d.find_element(By.ID, "zhpress-error").is_displayed())


def test_the_print_pages_are_shown_as_images(server: Server, browser: webdriver.Chrome) -> None:
    wait = WebDriverWait(browser, WAIT, poll_frequency=0.2)
    browser.get(server.url)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "a[href='/print/']"))
    browser.find_element(By.CSS_SELECTOR, "a[href='/print/']").click()
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".zhpress-pages img"))
    images = browser.find_elements(By.CSS_SELECTOR, ".zhpress-pages img")
    assert len(images) >= 6  # front matter and two essays
    browser.execute_script("arguments[0].scrollIntoView()", images[0])
    wait.until(lambda d: d.execute_script("return arguments[0].complete && arguments[0].naturalWidth", images[0]) > 300)


def get(port: int, path: str, host: str | None = None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.putrequest("GET", path, skip_host=True)
    connection.putheader("Host", host or f"127.0.0.1:{port}")
    connection.endheaders()
    response = connection.getresponse()
    try:
        return response.status, response.read()
    finally:
        connection.close()


def test_only_the_preview_is_served(server: Server, book: Path) -> None:
    secret = (book / "content" / "book.toml").read_bytes()
    for path in ("/ebook/../content/book.toml", "/ebook/%2e%2e/%2e%2e/content/book.toml", "/content/book.toml",
                 "//etc/passwd", "/ebook/..%2f..%2fcontent%2fbook.toml", "/print/page-0.png"):
        status, body = get(server.port, path)
        assert status == 404 and secret not in body, path
    assert get(server.port, "/", host="attacker.example")[0] == 403
    assert get(server.port, "/")[0] == 200


def test_the_server_stops(book: Path) -> None:
    started = Server(book)
    assert get(started.port, "/")[0] == 200
    started.stop()
