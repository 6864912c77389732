"""A one-line progress bar on stderr (no dependency): redrawn in place on a terminal, a line
per tenth otherwise, silent when disabled."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, label: str, total: int, *, enabled: bool = True,
                 stream: TextIO | None = None, width: int = 30) -> None:
        self.label = label
        self.total = max(total, 1)
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.width = width
        self.value = 0
        self._started = time.monotonic()
        self._tty = self.stream.isatty()
        self._last_tenth = -1

    def update(self, value: int, note: str = "") -> None:
        self.value = value
        if not self.enabled:
            return
        share = min(value / self.total, 1.0)
        if not self._tty:
            tenth = int(share * 10)
            if tenth == self._last_tenth:
                return
            self._last_tenth = tenth
        filled = int(share * self.width)
        bar = "#" * filled + "-" * (self.width - filled)
        line = (f"{self.label:<12} [{bar}] {value:>7}/{self.total:<7} "
                f"{time.monotonic() - self._started:6.1f}s {note}")
        self.stream.write(("\r" + line) if self._tty else line + "\n")
        self.stream.flush()

    def close(self, note: str = "") -> None:
        if self.enabled:
            self._last_tenth = -1
            self.update(self.value, note)
            if self._tty:
                self.stream.write("\n")
                self.stream.flush()
