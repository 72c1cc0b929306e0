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


def chromium(profile: str, window: str = "1280,2000") -> webdriver.Chrome:
    """Debian's headless Chromium through chromedriver, with the profile directory `profile`
    (also tests/interop/oidc_clients.py's browser)."""
    # Never let Selenium Manager look for drivers or browsers online.
    os.environ["SE_OFFLINE"] = "true"
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
        f"--window-size={window}",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))


@pytest.fixture
def browser():
    """A fresh headless Chromium (test_browser.py, test_passkey_browser.py)."""
    profile = tempfile.TemporaryDirectory(prefix="ucontact-chromium-")
    driver = chromium(profile.name)
    yield driver
    driver.quit()
    profile.cleanup()
