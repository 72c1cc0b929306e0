import os
import tempfile

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from localserver import LocalServer

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")


@pytest.fixture
def server():
    running = LocalServer()
    yield running
    running.stop()


@pytest.fixture
def browser():
    """Debian's headless Chromium through chromedriver, with a fresh profile (test_browser.py,
    test_passkey_browser.py)."""
    # Never let Selenium Manager look for drivers or browsers online.
    os.environ["SE_OFFLINE"] = "true"
    profile = tempfile.TemporaryDirectory(prefix="ucontact-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,2000",
        f"--user-data-dir={profile.name}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    yield driver
    driver.quit()
    profile.cleanup()
