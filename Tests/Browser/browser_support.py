"""Helpers of the account-page checks (account_page.py): a headless Chromium, waits,
form filling, DevTools' view of cookies and requests, and calls to the server outside
the browser. The addresses come from the environment scripts/browser-check.sh sets."""

import json
import os
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

BASE = os.environ["GATEHOUSE_URL"]
PAGE = BASE + "/account"
ALLOWED_ORIGIN = os.environ["ALLOWED_ORIGIN"]
OTHER_ORIGIN = os.environ["OTHER_ORIGIN"]
SCREENSHOTS = os.environ["SCREENSHOTS"]
PASSWORD = "correct horse battery"
browsers = []


def browser(width=1100, height=1000):
    """A fresh headless Chromium: its own profile, so its own cookie jar."""
    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     f"--window-size={width},{height}", "--lang=en-US"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")), options=options)
    driver.set_script_timeout(15)
    browsers.append(driver)
    return driver


def wait(driver, condition, what, seconds=10):
    try:
        return WebDriverWait(driver, seconds).until(lambda d: condition(d))
    except TimeoutException:
        shot(driver, "failure")
        raise AssertionError(f"timed out waiting for {what}; notice: {text(driver, 'notice')!r}") from None


def visible(driver, element_id):
    return driver.find_element(By.ID, element_id).is_displayed()


def text(driver, element_id):
    try:
        return driver.find_element(By.ID, element_id).text
    except Exception:
        return ""


def shot(driver, name):
    os.makedirs(SCREENSHOTS, exist_ok=True)
    driver.save_screenshot(os.path.join(SCREENSHOTS, f"{name}.png"))


def signed_in(driver, email=None):
    wait(driver, lambda d: visible(d, "signed-in") and (email is None or text(d, "profile-email") == email),
         f"the signed-in view{f' of {email}' if email else ''}")


def signed_out(driver):
    wait(driver, lambda d: visible(d, "signed-out"), "the sign-in form")


def fill(driver, element_id, value):
    field = driver.find_element(By.ID, element_id)
    field.clear()
    field.send_keys(value)


def sign_in(driver, email, password=PASSWORD):
    driver.get(PAGE)
    signed_out(driver)
    fill(driver, "signin-email", email)
    fill(driver, "signin-password", password)
    driver.find_element(By.CSS_SELECTOR, "#signin-form button[type=submit]").click()
    signed_in(driver, email)


def sessions(driver):
    return driver.find_elements(By.CSS_SELECTOR, "#sessions li.session")


def api(method, path, body=None, token=None):
    """A JSON call to the server outside the browser: (status, body)."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(BASE + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def register_by_api(email, password=PASSWORD):
    body = json.dumps({"name": "Grace Hopper", "email": email, "password": password}).encode()
    request = urllib.request.Request(BASE + "/api/v1/auth/register", data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        assert response.status == 201


def refresh_cookies(driver):
    """The browser's refreshToken cookies, HttpOnly ones included (DevTools sees them all)."""
    return [c for c in driver.execute_cdp_cmd("Network.getAllCookies", {})["cookies"] if c["name"] == "refreshToken"]


def refresh_from_page(driver):
    """POST /api/v1/auth/refresh from the page itself: (status, message)."""
    return driver.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        fetch('/api/v1/auth/refresh', {method: 'POST'})
          .then(r => r.json().then(b => done([r.status, b.message || null])))
          .catch(e => done([0, String(e)]));
        """)


def requests_seen(driver):
    """Every request the page made since the last call: (url, request headers as sent)."""
    urls, headers = {}, {}
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        params = message.get("params", {})
        if message["method"] == "Network.requestWillBeSent":
            urls[params["requestId"]] = params["request"]["url"]
        elif message["method"] == "Network.requestWillBeSentExtraInfo":
            headers.setdefault(params["requestId"], {}).update({k.lower(): v for k, v in params["headers"].items()})
    return [(urls.get(request_id, "?"), sent) for request_id, sent in headers.items()]
