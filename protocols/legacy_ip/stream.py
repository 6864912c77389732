"""Cut a TCP byte stream into frames, whatever the reads split or join.

Only the header is checked here: a bad direction, version or length means the stream lost
its framing and nothing after it can be trusted, so the reader refuses every later feed and
the connection should be closed. Everything else (CRC, signature, body) is per frame:
``decode_frame`` refuses one frame and the stream stays in step.
"""

from __future__ import annotations

from protocols.legacy_ip.errors import LegacyFrameError
from protocols.legacy_ip.frame import DEFAULT_MAX_BODY, HEADER_LENGTH, check_header


class FrameReader:
    def __init__(self, *, max_body: int = DEFAULT_MAX_BODY) -> None:
        self._max_body = max_body
        self._buffer = bytearray()
        self.failed: LegacyFrameError | None = None

    @property
    def pending(self) -> int:
        """Bytes held for a frame not yet complete."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[bytes]:
        """Every frame ``data`` completes, in order (undecoded: see ``decode_frame``)."""
        if self.failed is not None:
            raise self.failed
        self._buffer += data
        frames: list[bytes] = []
        # Each pass consumes a whole frame (at least 89 bytes) or stops: bounded by the input.
        while len(self._buffer) >= HEADER_LENGTH:
            try:
                total = check_header(bytes(self._buffer[:HEADER_LENGTH]), max_body=self._max_body)
            except LegacyFrameError as exc:
                self.failed = exc
                self._buffer.clear()
                raise
            if len(self._buffer) < total:
                break
            frames.append(bytes(self._buffer[:total]))
            del self._buffer[:total]
        return frames
