"""Pages in their own browser context: each signed-in person gets their own cookies."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page


def new_page(browser: Browser, base_url: str) -> Page:
    context = browser.new_context(base_url=base_url, viewport={"width": 1440, "height": 1000},
                                  locale="zh-CN", accept_downloads=True)
    return context.new_page()
