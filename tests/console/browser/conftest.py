"""Real Chromium (Debian's package) under Playwright, never a downloaded browser build:
launched with ``executable_path``; ``playwright install`` is never run.

A missing browser or font is installed with apt-get when this runs as root; when that is
impossible the browser tests are skipped with the reason, except under CI=true where a
missing browser is a failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.console.browser.pages import new_page
from tests.console.browser.server import ThreadedPlatform

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

ROOT = Path(__file__).resolve().parents[3]
ARTIFACTS = ROOT / "test-artifacts" / "console"
CHROMIUM_NAMES = ("chromium", "chromium-browser")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _apt_install(*packages: str) -> str | None:
    """None when installed; else why not."""
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        return "apt-get is not available as root here"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"],
                    ["apt-get", "install", "-y", "-qq", *packages]):
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=900,
                              check=False)
        if done.returncode:
            return f"{' '.join(command)} failed: {done.stderr[-500:]}"
    return None


def _chromium() -> str | None:
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def _has_cjk_font() -> bool:
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return False
    listed = subprocess.run([fc_list, ":lang=zh"], capture_output=True, text=True, check=False)
    return bool(listed.stdout.strip())


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = _chromium()
    if path is None:
        why = _apt_install("chromium", "fonts-noto-cjk")
        path = _chromium()
        if path is None:
            reason = f"Debian chromium is missing and could not be installed: {why}"
            if in_ci():
                pytest.fail(reason)
            pytest.skip(reason)
    if not _has_cjk_font():
        # Without it Chinese renders as boxes in the screenshots; the assertions still hold.
        _apt_install("fonts-noto-cjk")
    return path


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[Browser]:
    """Module-scoped on purpose, not pytest-playwright's session-wide browser: the sync API
    keeps an event loop marked running on this thread while it lives, and every later test
    that calls asyncio.run (CLI commands, fixtures, pytest-asyncio) would fail under it."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium_path,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Browser, base_url: str) -> Iterator[Page]:
    opened = new_page(browser, base_url)
    try:
        yield opened
    finally:
        opened.context.close()


@pytest.fixture(scope="module")
def platform_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedPlatform]:
    server = ThreadedPlatform(tmp_path_factory.mktemp("browser") / "liuan")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def base_url(platform_server: ThreadedPlatform) -> str:
    return platform_server.url


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
