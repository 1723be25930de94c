"""The console in a real headless Chromium: log in, watch a new incident appear, open it,
acknowledge it, resolve it with a note; the graph marks the root; a screenshot is kept."""

from __future__ import annotations

import shutil
import struct
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT
from tests.console.server import TOKENS, ConsoleServer

CHROMIUM, DRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
ARTIFACTS = ROOT / "test-artifacts"

pytestmark = pytest.mark.skipif(
    not (shutil.which(CHROMIUM) and shutil.which(DRIVER)),
    reason="needs Debian's chromium and chromium-driver (make system-deps)")


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[object]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 f"--user-data-dir={tmp_path / 'chromium-profile'}", "--window-size=1280,1900"):
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
    yield driver
    driver.quit()


def replaced(page: Any) -> Callable[[Any], bool]:
    """A wait condition: ``page`` (an element of the old page) is gone.

    Selenium's ``staleness_of`` only takes a stale reference for gone; while the new page
    is being put in place, chromedriver can also answer that the node "does not belong
    to the document", which is the same news."""
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException

    def gone(_driver: Any) -> bool:
        try:
            page.is_enabled()
        except StaleElementReferenceException:
            return True
        except WebDriverException as e:
            if "does not belong to the document" in str(e):
                return True
            raise
        return False

    return gone


def png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and unfiltered rows of an 8-bit RGB(A) PNG (what Chromium writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    height = channels = 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", chunk[:10])
            assert depth == 8 and colour in (2, 6)
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    rows: list[bytes] = []
    prev = bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b = prev[i]
            c = prev[i - channels] if i >= channels else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, rows


def test_on_call_flow_in_chromium(browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    server = ConsoleServer(tmp_path, poll_seconds=0.5).start()
    d = browser
    # A form post replaces the page: each step waits for the old page to go, and an element
    # found while the new one is still being built is looked up again on the next poll.
    wait = WebDriverWait(d, 20, ignored_exceptions=(StaleElementReferenceException,))
    try:
        # Log in: the console sends a stranger to the login form first.
        d.get(server.url + "/")
        assert "/console/login" in d.current_url
        d.find_element(By.ID, "token").send_keys(TOKENS["writer"][0])
        d.find_element(By.CSS_SELECTOR, "#login-form button").click()
        wait.until(lambda _: d.find_elements(By.ID, "incident-rows"))
        assert "No incidents match." in d.find_element(By.ID, "incident-rows").text
        session = {c["name"]: c for c in d.get_cookies()}["ingestd_session"]
        assert session["httpOnly"] and session["secure"] and session["sameSite"] == "Strict"

        # A new incident appears on the open page, without a reload.
        marker = d.find_element(By.TAG_NAME, "h1")
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        assert server.post_alert({"alertname": "SwitchDown", "instance": "tor-a",
                                  "severity": "critical"}, now).status == 200
        row = wait.until(lambda _: [r for r in d.find_elements(By.CSS_SELECTOR,
                                                                "#incident-rows tr.incident")
                                    if "SwitchDown" in r.text])
        assert "tor-a" in row[0].text and "acknowledge within" in row[0].text
        assert marker.is_displayed()  # the same page: it was not reloaded
        # Times are shown in the viewer's zone by the page's script.
        stamp = d.find_element(By.CSS_SELECTOR, "#incident-rows time")
        wait.until(lambda _: stamp.get_attribute("data-local") == "1")

        # Open it: the graph marks the root.
        href = row[0].find_element(By.TAG_NAME, "a").get_attribute("href")
        d.get(href)
        assert "SwitchDown on tor-a" in d.find_element(By.ID, "incident-title").text
        svg = d.find_element(By.CSS_SELECTOR, "svg.depgraph")
        assert svg.get_attribute("data-root") == "tor-a"
        root = d.find_element(By.CSS_SELECTOR, "svg.depgraph g.node.root")
        assert root.get_attribute("data-ci") == "tor-a"
        assert root.get_attribute("data-state") == "firing"
        assert "ROOT" in root.text
        assert {n.get_attribute("data-ci") for n in
                d.find_elements(By.CSS_SELECTOR, "svg.depgraph g.node")} >= {
            "tor-a", "core-rtr-01", "node-1", "node-2"}  # what it needs and what needs it

        # The screenshot is kept and is not blank.
        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / "console-incident.png"
        assert d.save_screenshot(str(shot))
        width, height, rows = png_pixels(shot.read_bytes())
        assert (width, height) >= (800, 600)
        colours = {row[x:x + 3] for row in rows[::7] for x in range(0, len(row), 21)}
        assert len(colours) > 20  # text, panels, the red root node: far from one flat colour

        # Acknowledge.
        page = d.find_element(By.TAG_NAME, "html")
        d.find_element(By.CSS_SELECTOR, "#form-acknowledge button").click()
        wait.until(replaced(page))  # the post's answer replaced the page
        wait.until(lambda _: d.find_elements(By.ID, "done"))
        assert d.find_element(By.ID, "status").text == "acknowledged"
        assert "acknowledged by writer" in d.find_element(By.ID, "timeline").text

        # Resolve with a note.
        d.find_element(By.ID, "resolve-note").send_keys("Replaced the uplink optic on tor-a.")
        page = d.find_element(By.TAG_NAME, "html")
        d.find_element(By.CSS_SELECTOR, "#form-resolve button").click()
        wait.until(replaced(page))
        wait.until(lambda _: d.find_element(By.ID, "status").text == "resolved")
        timeline = d.find_element(By.ID, "timeline").text
        assert "Replaced the uplink optic on tor-a." in timeline
        assert d.find_elements(By.ID, "form-reopen")  # a resolved incident offers reopen

        # The API agrees.
        incident_id = href.rsplit("/", 1)[1]
        detail = server.request("GET", f"/api/v1/incidents/{incident_id}",
                                bearer=TOKENS["reader"][0])
        assert '"status":"resolved"' in detail.body and '"acknowledged_by":"writer"' in detail.body
    finally:
        server.stop()


def test_reports_page_and_ci_page_in_chromium(browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    server = ConsoleServer(tmp_path).start()
    d = browser
    try:
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        server.post_alert({"alertname": "HostDown", "instance": "node-1:9100",
                           "severity": "critical"}, now)
        d.get(server.url + "/console/login")
        d.find_element(By.ID, "token").send_keys(TOKENS["reader"][0])
        d.find_element(By.CSS_SELECTOR, "#login-form button").click()
        WebDriverWait(d, 15).until(lambda drv: "/login" not in drv.current_url)  # cookie set
        d.get(server.url + "/console/reports")
        assert d.find_element(By.ID, "n-incidents").text == "1"
        assert d.find_element(By.ID, "n-open").text == "1"
        assert len(d.find_elements(By.CSS_SELECTOR, "svg.chart")) == 5
        d.get(server.url + "/console/cis/node-1")
        assert [e.text for e in d.find_elements(By.CSS_SELECTOR, "#depends-on a")] == ["tor-a"]
        needed = [e.text for e in d.find_elements(By.CSS_SELECTOR, "#needed-by a")]
        assert needed == ["cart", "frontend"]
        assert "HostDown on node-1" in d.find_element(By.ID, "recent").text
        # A reader sees no forms on an incident page.
        d.find_element(By.CSS_SELECTOR, "#recent a").click()
        assert not d.find_elements(By.ID, "form-acknowledge")
        # On a phone-sized screen the incident list still fits without sideways scrolling.
        d.set_window_size(390, 844)
        d.get(server.url + "/console/")
        assert d.execute_script("return document.documentElement.scrollWidth") <= 390
    finally:
        server.stop()
