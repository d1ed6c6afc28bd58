"""The console in a real headless Chromium: a whole session, CSRF, keyboard, axe."""

from __future__ import annotations

from typing import Any

import pytest

from .browser import REPO, axe_violations, csp_refusals

pytestmark = pytest.mark.slow

PASSWORD = "correct-horse-battery-staple"
SCREENSHOTS = REPO / "docs"


def wait_for(driver: Any, css: str, text: str | None = None, timeout: float = 10) -> Any:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(driver, timeout)
    if text is not None:
        wait.until(expected_conditions.text_to_be_present_in_element((By.CSS_SELECTOR, css), text))
    return wait.until(expected_conditions.visibility_of_element_located((By.CSS_SELECTOR, css)))


def by_css(driver: Any, css: str) -> Any:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, css)


def sign_in_with_keyboard(driver: Any, base: str, name: str) -> None:
    from selenium.webdriver.common.keys import Keys

    driver.get(base + "/admin/")
    wait_for(driver, "form.signin")
    by_css(driver, "#username").send_keys(name)
    by_css(driver, "#password").send_keys(PASSWORD + Keys.ENTER)
    wait_for(driver, "form.signout")


def click_link(driver: Any, text: str) -> None:
    from selenium.webdriver.common.by import By

    driver.find_element(By.LINK_TEXT, text).click()


@pytest.fixture
def demo(testapp: Any, admin: Any, make_user: Any) -> None:
    for code in ("WH1", "WH2"):
        testapp.put_json(f"/locations/{code}", {"name": f"Store {code}"}, headers=admin)
    for sku, name in (("A-1", "Anchor bolt M8"), ("B-2", "Bracket")):
        testapp.put_json(f"/stock/{sku}", {"name": name, "reorder_point": 5}, headers=admin)
    testapp.post_json(
        "/locations/WH1/A-1/movements",
        {"kind": "receipt", "quantity": 12},
        headers=admin,
        status=201,
    )
    make_user("root", "admins")
    make_user("rita", "receivers")


def test_an_administrator_grants_a_permission_in_the_browser(
    browser_session: Any, live_server: str, demo: None, testapp: Any, admin: Any
) -> None:
    driver = browser_session
    driver.get(live_server + "/admin/")
    wait_for(driver, "form.signin")
    SCREENSHOTS.mkdir(exist_ok=True)
    driver.save_screenshot(str(SCREENSHOTS / "admin-sign-in.png"))
    sign_in_with_keyboard(driver, live_server, "root")

    # browse to the location by following links
    click_link(driver, "locations")
    wait_for(driver, "h1", "/locations")
    click_link(driver, "WH1")
    wait_for(driver, "h1", "/locations/WH1")
    assert "Anchor bolt M8" in by_css(driver, "#panel-stock\\.location").text

    # grant group:receivers stock.receive through the form
    from selenium.webdriver.support.ui import Select

    Select(by_css(driver, "#add-action")).select_by_visible_text("Allow")
    by_css(driver, "#add-principal").send_keys("group:receivers")
    Select(by_css(driver, "#add-permission")).select_by_visible_text("stock.receive")
    by_css(driver, "form.add-entry button[type=submit]").click()
    # first the preview of what it flips (the dry run), then the change
    flips = wait_for(driver, "#preview table", "group:receivers")
    assert "stock.receive" in flips.text and "user:rita" in flips.text
    assert testapp.get("/locations/WH1/@@acl", headers=admin).json["entries"] == []
    assert axe_violations(driver) == []  # the page with its preview
    by_css(driver, "#confirm-change").click()
    wait_for(driver, "#acl-entries tbody", "group:receivers")

    # why may rita receive here?
    by_css(driver, "#explain-principal").send_keys("user:rita")
    Select(by_css(driver, "#explain-permission")).select_by_visible_text("stock.receive")
    by_css(driver, "#explain button[type=submit]").click()
    explanation = wait_for(driver, "#explanation table", "group:receivers")
    assert "yes" in explanation.text and "/locations/WH1" in explanation.text
    # who may receive here? rita, through the group, and the superuser
    Select(by_css(driver, "#who-permission")).select_by_visible_text("stock.receive")
    by_css(driver, "#who button[type=submit]").click()
    who = wait_for(driver, "#who-answer table", "rita")
    assert "root" in who.text
    driver.set_window_size(1280, 1700)
    driver.execute_script("document.getElementById('acl').scrollIntoView()")
    driver.save_screenshot(str(SCREENSHOTS / "admin-acl.png"))
    driver.set_window_size(1280, 960)

    # the audit entry
    click_link(driver, "Audit log")
    wait_for(driver, "main table", "acl.changed")
    assert "group:receivers" in by_css(driver, "main table").text
    assert "user:root" in by_css(driver, "main table").text

    # sign out
    by_css(driver, "form.signout button").click()
    wait_for(driver, "form.signin")
    driver.get(live_server + "/admin/locations/WH1")
    wait_for(driver, "form.signin")


def test_a_forged_form_is_refused_in_the_browser(
    browser_session: Any, live_server: str, demo: None, testapp: Any, admin: Any
) -> None:
    driver = browser_session
    sign_in_with_keyboard(driver, live_server, "root")
    driver.get(live_server + "/admin/locations/WH1")
    wait_for(driver, "form.add-entry")
    driver.execute_script(
        "document.querySelector('form.add-entry [name=csrf_token]').value = 'forged';"
    )
    by_css(driver, "#add-principal").send_keys("group:thieves")
    by_css(driver, "form.add-entry button[type=submit]").click()
    wait_for(driver, "h1", "Form expired")
    assert testapp.get("/locations/WH1/@@acl", headers=admin).json["entries"] == []


def test_the_console_works_with_the_keyboard(
    browser_session: Any, live_server: str, demo: None, testapp: Any, admin: Any
) -> None:
    from selenium.webdriver.common.keys import Keys

    driver = browser_session
    sign_in_with_keyboard(driver, live_server, "root")
    driver.get(live_server + "/admin/locations/WH2")
    wait_for(driver, "h1", "/locations/WH2")
    body = by_css(driver, "body")
    body.send_keys(Keys.TAB)
    active = driver.switch_to.active_element
    assert active.text == "Skip to content" and active.is_displayed()
    active.send_keys(Keys.ENTER)
    # from the skip link on, Tab reaches the add-entry form and Enter submits it
    for _ in range(200):
        driver.switch_to.active_element.send_keys(Keys.TAB)
        if driver.switch_to.active_element.get_attribute("id") == "add-principal":
            break
    else:
        pytest.fail("the add-entry form cannot be reached with Tab")
    driver.switch_to.active_element.send_keys("group:night-shift")
    driver.switch_to.active_element.send_keys(Keys.TAB)  # permission select
    driver.switch_to.active_element.send_keys(Keys.TAB)  # position
    driver.switch_to.active_element.send_keys(Keys.ENTER)
    # the preview's confirm button takes the focus: Enter saves
    wait_for(driver, "#preview", "group:night-shift")
    assert driver.switch_to.active_element.get_attribute("id") == "confirm-change"
    driver.switch_to.active_element.send_keys(Keys.ENTER)
    wait_for(driver, "#acl-entries tbody", "group:night-shift")
    entries = testapp.get("/locations/WH2/@@acl", headers=admin).json["entries"]
    assert [e["principal"] for e in entries] == ["group:night-shift"]


PAGE_TYPES = [
    "/admin/",
    "/admin/locations",
    "/admin/locations/WH1",
    "/admin/locations/WH1/A-1",
    "/admin/stock/A-1",
    "/admin/auth/users",
    "/admin/auth/users/rita",
    "/admin/auth/groups/receivers",
    "/admin/auth/tokens",
    "/admin/reports/stock-balance",
    "/admin/@@audit",
    "/admin/@@plugins",
    "/admin/@@roles",
    "/admin/auth/nothing",
    "/admin/locations/WH1?principal=user:rita",
]


def test_every_page_type_passes_an_axe_audit(
    browser_session: Any, live_server: str, demo: None
) -> None:
    driver = browser_session
    driver.get(live_server + "/admin/")
    wait_for(driver, "form.signin")
    refused = {"/admin/ (signed out)": csp_refusals(driver)}
    problems = {"/admin/ (signed out)": axe_violations(driver)}
    sign_in_with_keyboard(driver, live_server, "root")
    for path in PAGE_TYPES:
        driver.get(live_server + path)
        wait_for(driver, "h1")
        refused[path] = csp_refusals(driver)
        problems[path] = axe_violations(driver)
    assert {page: found for page, found in problems.items() if found} == {}
    # htmx and the stylesheet work under the strict policy: nothing refused.
    assert {page: found for page, found in refused.items() if found} == {}
