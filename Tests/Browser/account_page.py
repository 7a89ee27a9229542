"""The account page (SPEC.md §3.9) in real headless Chromium, against a live `gatehouse serve`.

Run by scripts/browser-check.sh, which installs Chromium, chromedriver and Selenium, starts
the server and two static origins for the CORS checks, and passes their addresses:

    GATEHOUSE_URL        the server (http://127.0.0.1:PORT), with JWT_ACCESS_TTL=20s
    ALLOWED_ORIGIN       an origin listed in the server's CORS_ORIGINS, serving cors.html
    OTHER_ORIGIN         an origin not listed, serving cors.html
    SCREENSHOTS          the folder screenshots of the main states are saved in
    ADMIN_EMAIL, ADMIN_PASSWORD  an admin made with `gatehouse create-admin`

Each check prints its name and passes or stops the run with the reason.
"""

import json
import os
import sys
import time
import uuid

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from browser_support import (
    ALLOWED_ORIGIN, BASE, OTHER_ORIGIN, PAGE, PASSWORD, SCREENSHOTS, api, browser, browsers, fill, refresh_cookies,
    refresh_from_page, register_by_api, requests_seen, sessions, shot, sign_in, signed_in, signed_out, text, visible, wait,
)

CHECKS = []


def check(function):
    CHECKS.append(function)
    return function


state = {}


@check
def register_through_the_form():
    driver = state["a"] = browser()
    driver.get(PAGE)
    signed_out(driver)
    shot(driver, "01-sign-in")
    driver.find_element(By.ID, "tab-register").click()
    email = state["email"] = f"ada-{uuid.uuid4().hex[:8]}@example.com"
    fill(driver, "register-name", "Ada Lovelace")
    fill(driver, "register-email", email)
    fill(driver, "register-password", "short")
    driver.find_element(By.CSS_SELECTOR, "#register-form button[type=submit]").click()
    wait(driver, lambda d: "Password" in text(d, "register-password-error"), "the password error next to its field")
    assert driver.find_element(By.ID, "register-password").get_attribute("aria-invalid") == "true"
    shot(driver, "02-register-errors")
    fill(driver, "register-password", PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "#register-form button[type=submit]").click()
    signed_in(driver, email)
    assert text(driver, "profile-name") == "Ada Lovelace"
    assert text(driver, "profile-role") == "user"
    wait(driver, lambda d: len(sessions(d)) == 1 and "This device" in sessions(d)[0].text, "one session, this device")


@check
def the_refresh_token_is_never_readable_by_script():
    driver = state["a"]
    # The cookie is there, as the contract says...
    cookies = refresh_cookies(driver)
    assert len(cookies) == 1, cookies
    cookie = cookies[0]
    assert cookie["httpOnly"] and cookie["path"] == "/api/v1/auth/refresh" and cookie["sameSite"] == "Strict", cookie
    # ...and the page's script cannot see it.
    assert "refreshToken" not in driver.execute_script("return document.cookie"), "document.cookie shows the refresh token"
    storage = driver.execute_script("return [localStorage.length, sessionStorage.length]")
    assert storage == [0, 0], f"web storage holds {storage}"


@check
def a_reload_keeps_the_person_signed_in():
    driver = state["a"]
    driver.refresh()
    signed_in(driver, state["email"])
    wait(driver, lambda d: len(sessions(d)) == 1, "the session list after the reload")
    # Tall enough for the whole page (the README shows this one).
    driver.set_window_size(1000, 1500)
    shot(driver, "03-signed-in")
    driver.set_window_size(1100, 1000)


@check
def the_refresh_cookie_goes_only_to_the_refresh_route():
    driver = state["a"]
    seen = requests_seen(driver)
    api = [(url, sent) for url, sent in seen if url.startswith(BASE)]
    with_cookie = [url for url, sent in api if "refreshtoken=" in sent.get("cookie", "").lower()]
    assert with_cookie, f"no request carried the refresh cookie: {[url for url, _ in api]}"
    wrong = [url for url in with_cookie if not url.split("?")[0].endswith("/api/v1/auth/refresh")]
    assert not wrong, f"the refresh cookie went to {wrong}"
    others = [url for url, sent in api if not url.split("?")[0].endswith("/api/v1/auth/refresh")]
    assert any("/api/v1/auth/sessions" in url for url in others), f"the page's other calls were not seen: {others}"


@check
def ending_another_session_signs_that_tab_out_at_its_next_call():
    a = state["a"]
    b = state["b"] = browser()
    sign_in(b, state["email"])
    a.find_element(By.ID, "sessions-reload").click()
    wait(a, lambda d: len(sessions(d)) == 2, "two sessions")
    other = [item for item in sessions(a) if "This device" not in item.text]
    assert len(other) == 1
    other[0].find_element(By.CSS_SELECTOR, "button.end-session").click()
    wait(a, lambda d: len(sessions(d)) == 1, "the ended session gone from the list")
    b.find_element(By.ID, "sessions-reload").click()
    signed_out(b)
    assert "session has ended" in text(b, "notice")
    shot(b, "04-signed-out-elsewhere")


@check
def a_password_change_signs_the_other_tab_out():
    a, b = state["a"], state["b"]
    sign_in(b, state["email"])
    new_password = "an even better passphrase"
    fill(a, "current-password", "not the password")
    fill(a, "new-password", new_password)
    a.find_element(By.CSS_SELECTOR, "#password-form button[type=submit]").click()
    wait(a, lambda d: "Current password is incorrect" in text(d, "current-password-error"), "the wrong current password, by its field")
    fill(a, "current-password", PASSWORD)
    fill(a, "new-password", new_password)
    a.find_element(By.CSS_SELECTOR, "#password-form button[type=submit]").click()
    wait(a, lambda d: "Password changed" in text(d, "notice"), "the password-changed notice")
    shot(a, "05-password-changed")
    b.find_element(By.ID, "sessions-reload").click()
    signed_out(b)
    a.find_element(By.ID, "sessions-reload").click()
    wait(a, lambda d: len(sessions(d)) == 1 and visible(d, "signed-in"), "this device still signed in, alone")
    state["password"] = new_password
    sign_in(b, state["email"], new_password)


@check
def two_tabs_refreshing_at_once_stay_signed_in():
    a = state["a"]
    first = a.current_window_handle
    a.switch_to.new_window("tab")
    second = a.current_window_handle
    a.get(PAGE)
    signed_in(a, state["email"])
    # Both tabs reload (each presenting the same refresh cookie) at the same moment.
    for handle in (first, second):
        a.switch_to.window(handle)
        a.execute_script("setTimeout(() => location.reload(), 300)")
    time.sleep(1)
    for handle in (first, second):
        a.switch_to.window(handle)
        signed_in(a, state["email"])
    # And the session was not taken for stolen: the next reload still signs in.
    time.sleep(1)
    a.refresh()
    signed_in(a, state["email"])
    a.close()
    a.switch_to.window(first)
    a.refresh()
    signed_in(a, state["email"])


@check
def a_revoked_token_is_renewed_once_and_the_call_retried():
    # An admin changes the person's role: their access token is refused at once
    # ("Access token revoked"), the refresh cookie still works, and the page goes on.
    a = state["a"]
    status, login = api("POST", "/api/v1/auth/login", {"email": os.environ["ADMIN_EMAIL"], "password": os.environ["ADMIN_PASSWORD"]})
    assert status == 200, login
    admin = login["accessToken"]
    status, page = api("GET", f"/api/v1/admin/users?email={state['email']}", token=admin)
    assert status == 200 and len(page["users"]) == 1, page
    status, changed = api("PATCH", f"/api/v1/admin/users/{page['users'][0]['id']}", {"role": "admin"}, token=admin)
    assert status == 200 and changed["role"] == "admin", changed
    a.get_log("performance")  # forget what came before
    a.find_element(By.ID, "sessions-reload").click()
    time.sleep(1.5)
    urls = [json.loads(e["message"])["message"].get("params", {}).get("request", {}).get("url", "") for e in a.get_log("performance")]
    calls = [url.removeprefix(BASE) for url in urls if url.startswith(BASE + "/api/")]
    # The call, refused; one refresh; the call again, answered.
    assert calls == ["/api/v1/auth/sessions", "/api/v1/auth/refresh", "/api/v1/auth/sessions"], calls
    assert visible(a, "signed-in") and len(sessions(a)) >= 1, "the call was not retried after the refresh"
    a.refresh()
    signed_in(a, state["email"])
    assert text(a, "profile-role") == "admin"


@check
def the_page_refreshes_shortly_before_the_access_token_expires():
    # The server's access tokens live 20 s: the page renews them at 16 s, unprompted.
    a = state["a"]
    a.refresh()
    signed_in(a, state["email"])
    requests_seen(a)  # forget what came before
    time.sleep(18)
    refreshes = [url for url, _ in requests_seen(a) if url.endswith("/api/v1/auth/refresh")]
    assert refreshes, "no refresh before expiry"
    time.sleep(4)  # past the first token's expiry
    a.find_element(By.ID, "sessions-reload").click()
    time.sleep(0.5)
    wait(a, lambda d: visible(d, "signed-in") and len(sessions(d)) >= 1, "the session list with a renewed token")


@check
def too_many_attempts_say_when_to_retry():
    email = f"locked-{uuid.uuid4().hex[:8]}@example.com"
    register_by_api(email)
    driver = state["c"] = browser()
    driver.get(PAGE)
    signed_out(driver)
    for _ in range(6):
        fill(driver, "signin-email", email)
        fill(driver, "signin-password", "wrong password!")
        driver.find_element(By.CSS_SELECTOR, "#signin-form button[type=submit]").click()
        wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, "#signin-form .form-error").text, "the form's error")
        if "Too many attempts" in driver.find_element(By.CSS_SELECTOR, "#signin-form .form-error").text:
            break
    message = driver.find_element(By.CSS_SELECTOR, "#signin-form .form-error").text
    assert "Too many attempts. Try again in" in message, message
    shot(driver, "06-too-many-attempts")


@check
def keyboard_only_and_labels():
    driver = state["c"]
    register_by_api(email := f"keys-{uuid.uuid4().hex[:8]}@example.com")
    driver.get(PAGE)
    signed_out(driver)
    unlabelled = driver.execute_script(
        "return [...document.querySelectorAll('input')].filter(i => !document.querySelector(`label[for='${i.id}']`)).map(i => i.id)")
    assert unlabelled == [], f"inputs without labels: {unlabelled}"
    driver.execute_script("document.activeElement.blur()")
    order = []
    for _ in range(4):
        webdriver.ActionChains(driver).send_keys(Keys.TAB).perform()
        order.append(driver.execute_script("return document.activeElement.id || document.activeElement.textContent.trim()"))
    assert order == ["tab-signin", "signin-email", "signin-password", "Sign in"], order
    # Back to the email field with Shift+Tab, then type, Tab, type, Enter.
    webdriver.ActionChains(driver).key_down(Keys.SHIFT).send_keys(Keys.TAB).send_keys(Keys.TAB).key_up(Keys.SHIFT).perform()
    assert driver.execute_script("return document.activeElement.id") == "signin-email"
    webdriver.ActionChains(driver).send_keys(email).send_keys(Keys.TAB).send_keys(PASSWORD).send_keys(Keys.ENTER).perform()
    signed_in(driver, email)
    # The form is gone; focus went to the new view's heading, not to nowhere.
    assert driver.execute_script("return document.activeElement.id") == "profile-title"


@check
def usable_at_375_pixels():
    driver = state["c"]
    driver.set_window_size(375, 812)
    driver.refresh()
    signed_in(driver)
    overflow = driver.execute_script("return document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{overflow} px of horizontal scrolling at 375 px"
    shot(driver, "07-phone")


@check
def logout_clears_everything():
    a = state["a"]
    a.refresh()
    signed_in(a, state["email"])
    a.find_element(By.ID, "logout-all").click()
    signed_out(a)
    assert "signed out everywhere" in text(a, "notice")
    assert refresh_cookies(a) == [], "the refresh cookie is still in the browser"
    assert refresh_from_page(a) == [401, "Refresh token missing"]
    a.refresh()
    signed_out(a)
    shot(a, "08-signed-out")
    # Everywhere means the other browser too.
    b = state["b"]
    b.find_element(By.ID, "sessions-reload").click()
    signed_out(b)


def cross_origin_sign_in(driver, origin):
    driver.get(origin + "/cors.html")
    return driver.execute_async_script(
        """
        const [base, email, password, done] = arguments;
        (async () => {
          try {
            const login = await fetch(base + '/api/v1/auth/login', {
              method: 'POST', credentials: 'include', headers: {'Content-Type': 'application/json'},
              body: JSON.stringify({email, password}),
            });
            const body = await login.json();
            const refresh = await fetch(base + '/api/v1/auth/refresh', {method: 'POST', credentials: 'include'});
            done({login: login.status, token: typeof body.accessToken === 'string', refresh: refresh.status});
          } catch (error) {
            done({error: String(error)});
          }
        })();
        """,
        BASE, state["email"], state["password"])


@check
def a_listed_origin_can_sign_in_with_credentials_and_another_cannot():
    driver = browser()
    allowed = cross_origin_sign_in(driver, ALLOWED_ORIGIN)
    assert allowed == {"login": 200, "token": True, "refresh": 200}, f"from {ALLOWED_ORIGIN}: {allowed}"
    other = cross_origin_sign_in(driver, OTHER_ORIGIN)
    assert "error" in other and "Failed to fetch" in other["error"], f"from {OTHER_ORIGIN}: {other}"


def main():
    failures = 0
    started = time.monotonic()
    try:
        for function in CHECKS:
            name = function.__name__.replace("_", " ")
            try:
                function()
                print(f"browser: ok   {name}", flush=True)
            except Exception as error:  # noqa: BLE001 - report every failure by name
                failures += 1
                print(f"browser: FAIL {name}: {error}", flush=True)
                break  # the checks build on each other
    finally:
        for driver in browsers:
            try:
                driver.quit()
            except Exception:
                pass
    print(f"browser: {len(CHECKS) - failures if not failures else 'stopped after a failure'} checks in {time.monotonic() - started:.0f} s; "
          f"screenshots in {SCREENSHOTS}", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
