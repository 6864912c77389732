"""The platform under uvicorn in a background thread, so a test can reach into it (the fake
adapters' records, the clock) while a real browser drives the console."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI

from adapters.fake import FakeAdapter
from dispatcher.app import create_app
from dispatcher.config import load_settings
from tests.console.support import Clock, free_port, seed_sync, write_city_platform


class ThreadedPlatform:
    def __init__(self, directory: Path) -> None:
        write_city_platform(directory, console_lockout_attempts=3, console_sse_interval=0.3)
        settings = load_settings(directory)
        # Playwright's sync API already runs an event loop on this thread: seed on another.
        seeding = threading.Thread(target=seed_sync, args=(settings.database_url,),
                                   kwargs={"per_township": 4, "townships": 6})
        seeding.start()
        seeding.join(timeout=120)
        self.clock = Clock()
        self.app: FastAPI = create_app(settings, clock=self.clock)
        self.port = free_port()
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning",
                                lifespan="on", timeout_graceful_shutdown=2)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="console-server",
                                       daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.thread.start()
        for _ in range(400):
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise AssertionError("the console server did not come up")

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)

    def adapter(self, ebrid: str) -> FakeAdapter:
        found = self.app.state.platform.adapters[ebrid]
        assert isinstance(found, FakeAdapter)
        return found
