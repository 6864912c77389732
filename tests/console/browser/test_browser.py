"""The console in Debian's Chromium: log in, compose, approve as a second person, watch the
dashboard reach 100%, cancel, and the guards (two-person rule, jurisdiction, CSRF, lockout,
expiry). Screenshots of the main pages land in test-artifacts/console/."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

try:
    from playwright.sync_api import Browser, Page, expect
except ModuleNotFoundError:  # pragma: no cover - depends on the machine
    done = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "playwright",
                           "pytest-playwright"], capture_output=True, check=False)
    reason = ("playwright was missing" + (" and is now installed: run the tests again"
                                          if done.returncode == 0 else " and pip failed"))
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason, allow_module_level=True)

from tests.console.browser.pages import new_page
from tests.console.browser.server import ThreadedPlatform
from tests.console.support import ADAPTER_HQ, PASSWORD

WAIT = 30_000  # ms: an upper bound for the page to reach a state, not a measured duration
SC_TOWNSHIPS = ("341523100000", "341523101000")


def shot(page: Page, artifacts: Path, name: str) -> None:
    page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)


def login(page: Page, username: str, password: str = PASSWORD) -> None:
    page.goto("/console/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("#login-form button[type=submit]")


def logged_in(browser: Browser, base_url: str, username: str) -> Page:
    page = new_page(browser, base_url)
    login(page, username)
    expect(page.locator("#who-user")).to_have_text(username)
    return page


def compose(page: Page, template: str, mode: str, *, title: str,
            townships: tuple[str, ...] = (), lasso_first: bool = False) -> None:
    page.goto(f"/console/originate/{template}")
    page.check(f"input[name=mode][value={mode}]")
    page.fill("input[name=title_zho]", title)
    if lasso_first:
        cell = page.locator("#region-map .cell").first
        code = cell.get_attribute("data-code")
        x = float(cell.get_attribute("data-x") or 0)
        y = float(cell.get_attribute("data-y") or 0)
        box = page.locator("#region-map").bounding_box()
        assert box is not None
        scale = box["width"] / 640
        for dx, dy in ((-8, -8), (8, -8), (8, 8), (-8, 8)):
            page.mouse.click(box["x"] + (x + dx) * scale, box["y"] + (y + dy) * scale)
        page.click("#lasso-close")
        expect(page.locator(f"#region-tree input[value='{code}']")).to_be_checked()
        expect(page.locator(f"#region-map .cell[data-code='{code}']")).to_have_class(
            re.compile("selected"))
    for code in townships:
        page.check(f"#region-tree input[value='{code}']")
    page.click("#preview-button")
    expect(page.locator(".terminal-preview").first).to_be_visible()


def submit(page: Page, word: str) -> str:
    page.fill("#confirm-input", word)
    page.click("#submit-button")
    page.wait_for_url(re.compile(r"/console/approvals/[0-9a-f]{32}$"))
    return page.url.rsplit("/", 1)[1]


def approve(page: Page, origination: str, word: str) -> str:
    page.goto(f"/console/approvals/{origination}")
    page.fill("#confirm-input", word)
    page.click("#approve-button")
    page.wait_for_url(re.compile(r"/console/alerts/[0-9a-f]{32}$"))
    return page.url.rsplit("/", 1)[1]


def test_login_compose_approve_and_watch_the_dashboard_reach_100(
    page: Page, browser: Browser, base_url: str, artifacts: Path
) -> None:
    page.goto("/console/")
    expect(page).to_have_url(re.compile(r"/console/login"))
    shot(page, artifacts, "01-login")
    login(page, "op_sc")
    expect(page.locator("h1")).to_contain_text("值班总览")
    expect(page.locator("#live-dot")).to_have_class(re.compile("on"), timeout=WAIT)

    operator = page.context.new_page()
    compose(operator, "rainstorm", "drill", title="舒城县暴雨橙色预警(浏览器)",
            townships=(SC_TOWNSHIPS[1],), lasso_first=True)
    spoken = operator.locator(".terminal-preview[data-language=zho] .spoken-text")
    expect(spoken).to_contain_text("【演练】舒城县暴雨橙色预警(浏览器) ")
    expect(operator.locator("body")).to_have_class(re.compile("mode-drill"))
    shot(operator, artifacts, "03-preview-drill")
    expect(operator.locator("#submit-button")).to_be_disabled()
    origination = submit(operator, "DRILL")
    expect(operator.locator("#own-note")).to_be_visible()
    operator.close()

    approver = logged_in(browser, base_url, "ap_sc")
    approver.goto(f"/console/approvals/{origination}")
    shot(approver, artifacts, "04-approval")
    alert_id = approve(approver, origination, "DRILL")
    expect(approver.locator("#signature-state")).to_have_class("ok")
    approver.context.close()

    card = page.locator(f"#alert-{alert_id}")
    expect(card.locator(".pct")).to_have_text("100%", timeout=WAIT)
    expect(card).to_have_attribute("data-mode", "drill")
    expect(card.locator("tr[data-bearer=fake] td").nth(2)).to_have_text("100%")
    expect(card.locator("tr[data-township]")).to_have_count(2)
    shot(page, artifacts, "02-dashboard")
    page.goto(f"/console/alerts/{alert_id}")
    shot(page, artifacts, "05-alert")
    page.goto(f"/console/log?alert={alert_id}")
    expect(page.locator("#log-table")).to_contain_text("ack.played")
    shot(page, artifacts, "06-log")
    with page.expect_download() as download:
        page.click("#csv-link")
    assert "target.delivered" in Path(download.value.path()).read_text(encoding="utf-8-sig")


def test_drill_and_real_are_visually_distinct(page: Page, artifacts: Path) -> None:
    login(page, "op_sc")
    page.goto("/console/originate/flood")
    page.check("input[name=mode][value=drill]")
    body = page.locator("body")
    expect(body).to_have_class(re.compile("mode-drill"))
    banner = page.locator("#mode-banner")
    expect(banner).to_contain_text("演练")
    drill_style = banner.evaluate(
        "e => [getComputedStyle(e).backgroundImage, getComputedStyle(e).display]")
    assert "repeating-linear-gradient" in drill_style[0] and drill_style[1] == "block"
    drill_border = body.evaluate("e => getComputedStyle(e).borderImageSource")
    assert "repeating-linear-gradient" in drill_border
    shot(page, artifacts, "07-compose-drill")

    page.check("input[name=mode][value=real]")
    expect(body).to_have_class(re.compile("mode-real"))
    expect(banner).to_contain_text("真实警报")
    real_bg = banner.evaluate("e => getComputedStyle(e).backgroundColor")
    real_border = body.evaluate("e => getComputedStyle(e).borderTopColor")
    assert real_bg == "rgb(196, 0, 26)" and real_border == "rgb(196, 0, 26)"
    assert body.evaluate("e => getComputedStyle(e).borderImageSource") == "none"
    shot(page, artifacts, "08-compose-real")

    page.check(f"#region-tree input[value='{SC_TOWNSHIPS[0]}']")
    page.click("#preview-button")
    expect(page.locator("#confirm-input")).to_have_attribute("data-word", "REAL")
    expect(body).to_have_class(re.compile("mode-real"))
    expect(banner).to_contain_text("真实警报")
    expect(page.locator(".spoken-text").first).not_to_contain_text("【演练】")
    page.fill("#confirm-input", "DRILL")
    expect(page.locator("#submit-button")).to_be_disabled()
    page.fill("#confirm-input", "REAL")
    expect(page.locator("#submit-button")).to_be_enabled()
    shot(page, artifacts, "09-preview-real")


def test_self_approval_is_refused(page: Page) -> None:
    login(page, "ap_sc")
    compose(page, "typhoon", "drill", title="自批测试", townships=(SC_TOWNSHIPS[0],))
    origination = submit(page, "DRILL")
    expect(page.locator("#approve-form")).to_have_count(0)
    expect(page.locator("#own-note")).to_contain_text("另一位审批员")
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    refused = page.request.post(f"/console/approvals/{origination}/approve",
                                form={"csrf_token": token or "", "confirm": "DRILL"})
    assert refused.status == 403 and "不能审批自己提交的申请" in refused.text()


def test_an_operator_of_another_county_neither_sees_nor_targets(
    page: Page, browser: Browser, base_url: str, artifacts: Path
) -> None:
    login(page, "op_sc")
    compose(page, "forest_fire", "drill", title="舒城保密演练", townships=(SC_TOWNSHIPS[0],))
    origination = submit(page, "DRILL")
    approver = logged_in(browser, base_url, "ap_sc")
    alert_id = approve(approver, origination, "DRILL")
    approver.context.close()

    other = logged_in(browser, base_url, "op_hq")
    other.goto("/console/")
    expect(other.locator("body")).not_to_contain_text("舒城保密演练")
    expect(other.locator("#region-map .cell").first).to_have_attribute(
        "data-code", re.compile(r"^341522"))
    other.goto(f"/console/alerts/{alert_id}")
    expect(other.locator("#error-message")).to_contain_text("不在您的辖区内")
    other.goto("/console/log")
    expect(other.locator("#log-table")).not_to_contain_text("舒城保密演练")
    other.goto("/console/originate/flood")
    expect(other.locator("#region-tree")).not_to_contain_text("舒城县")
    assert other.locator(f"#region-tree input[value='{SC_TOWNSHIPS[0]}']").count() == 0
    token = other.locator("input[name=csrf_token]").first.get_attribute("value")
    forged = other.request.post("/console/originate/flood/preview", form={
        "csrf_token": token or "", "mode": "drill", "severity": "1", "duration": "60",
        "title_zho": "越界", "targets": SC_TOWNSHIPS[0]})
    assert forged.status == 403 and "超出您的辖区" in forged.text()
    shot(other, artifacts, "10-other-county-compose")
    other.context.close()


def test_cancel_from_the_dashboard_stops_the_alert(
    page: Page, browser: Browser, base_url: str, artifacts: Path,
    platform_server: ThreadedPlatform,
) -> None:
    login(page, "op_hq")
    compose(page, "flood", "real", title="霍邱县洪水红色预警(浏览器)",
            townships=("341522100000", "341522101000"))
    origination = submit(page, "REAL")
    approver = logged_in(browser, base_url, "ap_hq")
    alert_id = approve(approver, origination, "REAL")

    page.goto("/console/")
    card = page.locator(f"#alert-{alert_id}")
    expect(card).to_have_attribute("data-mode", "real")
    expect(card).to_have_attribute("data-state", "dispatching", timeout=WAIT)
    # 7 of 8: the silent terminal never answers; the panel is settled before the click.
    expect(card).to_have_attribute("data-percent", "87", timeout=WAIT)
    color = card.evaluate("e => getComputedStyle(e).borderLeftColor")
    assert color == "rgb(196, 0, 26)"
    card.locator(".cancel-button").click()
    expect(page.locator(f"#alert-{alert_id} .cancel-pending")).to_be_visible()
    shot(page, artifacts, "11-dashboard-cancel-pending")

    approver.goto("/console/")
    approver.locator(f"#alert-{alert_id} .approve-cancel").click()
    approver.context.close()
    # It leaves "on air" for "recently finished", marked cancelled, without a cancel button.
    expect(card).to_have_attribute("data-state", "cancelled", timeout=WAIT)
    expect(card.locator(".cancel-button")).to_have_count(0)
    status = page.request.get(f"/api/v1/alerts/{alert_id}").json()
    assert status["state"] == "cancelled"
    adapter = platform_server.adapter(ADAPTER_HQ)
    cancelled = adapter.cancelled
    for _ in range(200):
        if cancelled:
            break
        page.wait_for_timeout(50)
    assert cancelled and cancelled[-1].msg_type == 2
    page.goto(f"/console/alerts/{alert_id}")
    expect(page.locator("#alert-state")).to_have_attribute("data-state", "cancelled")


def test_csrf_is_enforced(page: Page) -> None:
    login(page, "op_sc")
    expect(page.locator("#who-user")).to_have_text("op_sc")
    without = page.request.post(f"/console/alerts/{'0' * 32}/cancel", form={})
    assert without.status == 403 and "CSRF" in without.text()
    wrong = page.request.post(f"/console/alerts/{'0' * 32}/cancel",
                              form={"csrf_token": "forged"})
    assert wrong.status == 403


def test_lockout_after_repeated_failures(page: Page, artifacts: Path) -> None:
    for _ in range(3):
        login(page, "ap_sc2", "not the password")
    expect(page.locator("#login-message")).to_contain_text("已锁定")
    login(page, "ap_sc2", PASSWORD)
    expect(page.locator("#login-message")).to_contain_text("已锁定")
    shot(page, artifacts, "12-locked")


def test_inventory_audit_and_accounts_pages(page: Page, artifacts: Path) -> None:
    login(page, "admin")
    page.goto("/console/terminals")
    expect(page.locator("#terminal-table")).to_contain_text("6341523100001")
    shot(page, artifacts, "13-terminals")
    page.goto("/console/adapters")
    expect(page.locator("body")).to_contain_text("未配置上级平台")
    shot(page, artifacts, "14-adapters")
    page.goto("/console/audit")
    expect(page.locator("#audit-table")).to_contain_text("alert.approve")
    expect(page.locator("#audit-table")).to_contain_text("127.0.0.1")
    shot(page, artifacts, "15-audit")
    page.goto("/console/users")
    shot(page, artifacts, "16-users")
    page.click("text=English")
    expect(page.locator("h1")).to_have_text("Accounts")
    page.goto("/console/")
    shot(page, artifacts, "17-dashboard-en")


def test_session_expiry_sends_the_browser_to_login(
    page: Page, platform_server: ThreadedPlatform
) -> None:
    # Last on purpose: moving the server's clock forward expires every open session.
    login(page, "op_sc")
    expect(page.locator("#live-dot")).to_have_class(re.compile("on"), timeout=WAIT)
    platform_server.clock.advance(901)
    # The live stream notices on its next tick and the page goes to the login form.
    expect(page).to_have_url(re.compile(r"/console/login\?expired=1"), timeout=WAIT)
    expect(page.locator("#login-message")).to_contain_text("会话已过期")
