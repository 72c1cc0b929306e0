"""`/docs` in a real browser (Debian's headless Chromium through chromedriver): the page renders
every operation of the document, Authorize logs in through the OAuth2 password flow, and "Try it
out" on `GET /api/users/me` shows 200 with that user. The machine has no route to the internet,
and the page's CSP allows this service only, so a page that needed a CDN would fail here."""

import json

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from localserver import PASSWORD


def wait(driver, seconds=20):
    return WebDriverWait(driver, seconds)


def test_docs_render_authorize_and_try_it_out(server, browser):
    server.verified_user("swaggeruser", "swagger@example.com")
    status, text = server.request("GET", "/openapi.json")
    assert status == 200
    document = json.loads(text)
    operations = sum(len(item) for item in document["paths"].values())

    browser.get(server.base + "/docs")
    wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, ".opblock")))
    rendered = browser.find_elements(By.CSS_SELECTOR, ".opblock")
    assert len(rendered) == operations, f"{len(rendered)} operations rendered, {operations} documented"
    paths = {e.text for e in browser.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")}
    assert {p.replace("\u200b", "") for p in paths} == set(document["paths"]), paths

    # Authorize through the OAuth2 password flow (the form Swagger UI posts to tokenUrl).
    browser.find_element(By.CSS_SELECTOR, "button.authorize").click()
    wait(browser).until(ec.visibility_of_element_located((By.ID, "oauth_username")))
    browser.find_element(By.ID, "oauth_username").send_keys("swaggeruser")
    browser.find_element(By.ID, "oauth_password").send_keys(PASSWORD)
    # The modal lists both schemes (HTTPBearer, then OAuth2PasswordBearer): use the OAuth2 one's.
    oauth2 = "//div[contains(@class,'auth-container')][.//h4[contains(., 'OAuth2PasswordBearer')]]"
    browser.find_element(By.XPATH, oauth2 + "//button[contains(@class,'authorize')]").click()
    wait(browser).until(ec.presence_of_element_located((By.XPATH, oauth2 + "//button[normalize-space()='Logout']")))
    errors = browser.find_elements(By.XPATH, oauth2 + "//div[contains(@class,'errors')]")
    assert not [e.text for e in errors if e.text.strip()], [e.text for e in errors]
    browser.find_element(By.CSS_SELECTOR, "button.btn-done").click()

    # Try it out: GET /api/users/me with the token Swagger UI got.
    block = browser.find_element(By.ID, "operations-users-me")
    block.find_element(By.CSS_SELECTOR, ".opblock-summary-control").click()
    wait(browser).until(ec.element_to_be_clickable((By.CSS_SELECTOR, "#operations-users-me .try-out__btn"))).click()
    wait(browser).until(ec.element_to_be_clickable((By.CSS_SELECTOR, "#operations-users-me button.execute"))).click()
    status_cell = (By.CSS_SELECTOR, "#operations-users-me .live-responses-table tbody .response-col_status")
    wait(browser).until(ec.presence_of_element_located(status_cell))
    assert browser.find_element(*status_cell).text.strip() == "200"
    body = browser.find_element(
        By.CSS_SELECTOR, "#operations-users-me .live-responses-table tbody .response-col_description pre.microlight"
    ).text
    user = json.loads(body)
    assert (user["username"], user["email"], user["is_verified"]) == ("swaggeruser", "swagger@example.com", True)

    # Nothing was refused by the page's policy or failed to load.
    problems = [entry["message"] for entry in browser.get_log("browser") if entry["level"] in ("SEVERE", "WARNING")]
    assert problems == [], problems
