from __future__ import annotations

from tests.console.support import Console


def test_login_and_dashboard(console: Console) -> None:
    assert console.get("/console/", follow_redirects=False).status_code == 303
    assert console.login("op_sc").status_code == 303
    page = console.get("/console/")
    assert page.status_code == 200, page.text
    assert "舒城县" in page.text
