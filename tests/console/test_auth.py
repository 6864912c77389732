"""Sessions, cookies, CSRF, lockout, expiry and TOTP."""

from __future__ import annotations

import pyotp
from fastapi.testclient import TestClient

from tests.console.support import PASSWORD, Clock, Console, csrf_of

TOWNSHIP = "341523100000"


def test_cookies_are_http_only_and_strict(console: Console) -> None:
    response = console.login("op_sc")
    cookie = response.headers["set-cookie"]
    assert "ebc_session=" in cookie and "HttpOnly" in cookie
    assert "SameSite=strict" in cookie or "samesite=strict" in cookie.lower()
    assert "Path=/console" in cookie and "Secure" not in cookie
    page = console.get("/console/")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert "http://" not in page.text.replace("http://testserver", "")
    assert "https://" not in page.text


def test_secure_cookies_when_configured(client: TestClient) -> None:
    client.app.state.platform.settings.console_secure_cookies = True  # type: ignore[attr-defined]
    response = Console(client).login("op_sc")
    assert "Secure" in response.headers["set-cookie"]


def test_wrong_password_then_lockout(console: Console, clock: Clock) -> None:
    # The fixture configures console_lockout_attempts=3.
    for _ in range(2):
        refused = console.login("op_sc", "wrong password!!")
        assert refused.status_code == 401 and "用户名或密码错误" in refused.text
    locked = console.login("op_sc", "wrong password!!")
    assert locked.status_code == 423 and "已锁定" in locked.text
    still = console.login("op_sc", PASSWORD)
    assert still.status_code == 423, "a locked account refuses even the right password"
    clock.advance(901)
    assert console.login("op_sc", PASSWORD).status_code == 303


def test_admin_unlocks(console: Console, second: Console) -> None:
    for _ in range(3):
        console.login("ap_sc", "nope nope nope")
    assert console.login("ap_sc").status_code == 423
    second.login("admin")
    assert "已锁定" in second.get("/console/users").text
    assert second.post("/console/users/ap_sc/unlock").status_code == 303
    assert console.login("ap_sc").status_code == 303
    audit = second.get("/console/audit").text
    assert "user.unlock" in audit and "testclient" in audit


def test_unknown_user_is_refused_like_a_wrong_password(console: Console) -> None:
    refused = console.login("nobody", PASSWORD)
    assert refused.status_code == 401 and "用户名或密码错误" in refused.text


def test_post_without_or_with_a_wrong_csrf_token_is_refused(console: Console) -> None:
    console.login("op_sc")
    form = {"mode": "drill", "severity": "2", "duration": "60", "title_zho": "x",
            "targets": [TOWNSHIP]}
    missing = console._call("POST", "/console/originate/rainstorm/preview", data=form)
    assert missing.status_code == 403 and "CSRF" in missing.text
    wrong = console.post("/console/originate/rainstorm/preview", form, token="forged")
    assert wrong.status_code == 403
    right = console.post("/console/originate/rainstorm/preview", form)
    assert right.status_code == 200
    cancel = console.post(f"/console/alerts/{'0' * 32}/cancel", token="")
    assert cancel.status_code == 403
    console.login("admin")
    assert console.get("/console/audit?action=csrf").text.count('data-action="csrf"') == 3


def test_login_form_has_its_own_csrf_check(console: Console) -> None:
    page = console.get("/console/login")
    assert csrf_of(page.text)
    forged = console._call("POST", "/console/login", data={
        "csrf_token": "forged", "username": "op_sc", "password": PASSWORD})
    assert forged.status_code == 403 and "ebc_session" not in forged.headers.get("set-cookie", "")


def test_idle_expiry(console: Console, clock: Clock) -> None:
    console.login("op_sc")
    assert console.get("/console/").status_code == 200
    clock.advance(600)
    assert console.get("/console/").status_code == 200, "activity keeps the session"
    clock.advance(901)
    expired = console.get("/console/", follow_redirects=False)
    assert expired.status_code == 303 and "expired=1" in expired.headers["location"]
    assert "会话已过期" in console.get(expired.headers["location"]).text


def test_absolute_expiry(console: Console, clock: Clock) -> None:
    console.login("op_sc")
    for _ in range(60):  # 60 x 800 s > 12 h, each step inside the idle limit
        clock.advance(800)
        if console.get("/console/", follow_redirects=False).status_code != 200:
            break
    else:
        raise AssertionError("the session outlived its absolute limit")
    assert clock.offset.total_seconds() > 12 * 3600 - 800, "expired too early"


def test_logout_ends_the_session(console: Console) -> None:
    console.login("op_sc")
    assert console.post("/console/logout").status_code == 303
    assert console.get("/console/", follow_redirects=False).status_code == 303


def test_totp_second_factor(console: Console, second: Console) -> None:
    second.login("admin")
    created = second.post("/console/users", {"username": "op_totp", "password": PASSWORD,
                                             "role": "operator", "region": "341523",
                                             "totp": "on"})
    assert created.status_code == 200 and "otpauth://" in created.text
    uri = created.text.split("otpauth://", 1)[1].split("<", 1)[0]
    secret = pyotp.parse_uri("otpauth://" + uri.replace("&amp;", "&")).secret
    assert console.login("op_totp").status_code == 401
    assert "动态验证码错误" in console.login("op_totp", totp="000000").text
    assert console.login("op_totp", totp=pyotp.TOTP(secret).now()).status_code == 303


def test_admin_cannot_create_accounts_outside_their_area(second: Console) -> None:
    second.login("admin")
    refused = second.post("/console/users", {"username": "elsewhere", "password": PASSWORD,
                                             "role": "operator", "region": "340100"})
    assert refused.status_code == 422 and "outside" in refused.text


def test_language_switch(console: Console) -> None:
    console.login("op_sc")
    assert "值班总览" in console.get("/console/").text
    console.get("/console/lang/en?next=/console/")
    page = console.get("/console/").text
    assert "Duty dashboard" in page and 'lang="en"' in page
    away = console.get("/console/lang/en?next=https://evil.example/", follow_redirects=False)
    assert away.headers["location"] == "/console/"
