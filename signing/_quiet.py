"""Keep GmSSL's C trace lines off stderr without losing anyone else's output.

GmSSL prints ``file.c:line:function():`` on fd 2 for every failed verification. Anyone can post a
bad signature, so left alone those lines would flood the service log. Python cannot catch them,
so while a verification runs fd 2 points at a private temporary file; afterwards fd 2 is restored
and whatever landed in the file that is *not* a GmSSL trace line (another thread's log line, say)
is written back to fd 2, only delayed by the verification time (under a millisecond).

Verifications that capture run one at a time, since fd 2 is process-wide. Known limit: a child
process started by another thread inside that window inherits the temporary file as its stderr.
Turn capture off with ``set_trace_capture(False)`` or EBC_SM2_TRACE_CAPTURE=0 when that matters
more than quiet logs.
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_TRACE_LINE = re.compile(rb"[^\s:]+\.c:\d+:\w+\(\):[^\n]*\n?")
_lock = threading.Lock()
_enabled = os.environ.get("EBC_SM2_TRACE_CAPTURE", "1").strip().lower() not in ("0", "false", "no")
_sink: tuple[int, int] | None = None  # (owning pid, fd): a forked child must not share offsets


def set_trace_capture(enabled: bool) -> None:
    global _enabled
    _enabled = enabled


def trace_capture_enabled() -> bool:
    return _enabled


def _sink_fd() -> int:
    global _sink
    if _sink is None or _sink[0] != os.getpid():
        with tempfile.TemporaryFile() as handle:
            _sink = (os.getpid(), os.dup(handle.fileno()))
    return _sink[1]


@contextmanager
def quiet_c_traces() -> Iterator[None]:
    if not _enabled:
        yield
        return
    with _lock:
        try:
            sink = _sink_fd()
            saved = os.dup(2)
        except OSError:  # no fd 2 or no temp dir: being noisy beats failing a verification
            yield
            return
        os.dup2(sink, 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            _replay(sink)


def _replay(sink: int) -> None:
    size = os.lseek(sink, 0, os.SEEK_END)
    if not size:
        return
    os.lseek(sink, 0, os.SEEK_SET)
    captured = b""
    while len(captured) < size:
        chunk = os.read(sink, size - len(captured))
        if not chunk:
            break
        captured += chunk
    os.ftruncate(sink, 0)
    os.lseek(sink, 0, os.SEEK_SET)
    kept = b"".join(
        line for line in captured.splitlines(keepends=True) if not _TRACE_LINE.fullmatch(line)
    )
    while kept:
        try:
            written = os.write(2, kept)
        except OSError:
            return
        kept = kept[written:]
