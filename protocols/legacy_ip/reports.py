"""Bodies terminals send: 0x17 start/stop reply, 0x18 task start, 0x19 task end, 0x20 heartbeat.

Every one begins with the sender's own resource code (12 bytes BCD): a terminal names itself
in each frame, so the gateway learns who is on a connection from the first frame it reads
(our choice, unconfirmed; the digest does not say where a terminal identifies itself).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import ClassVar

from protocols.legacy_ip.errors import BadField
from protocols.legacy_ip.fields import (
    EBMID_DIGITS,
    EBRID_DIGITS,
    Cursor,
    bcd,
    enum_field,
    uint,
)
from protocols.legacy_ip.frame import Command

_IDLE_EBMID = "0" * EBMID_DIGITS  # "no broadcast" in a heartbeat's EBMID field


class ReplyResult(IntEnum):
    ACCEPTED = 0
    NOT_ADDRESSED = 1  # a valid command for other terminals
    REFUSED = 2  # not authorised for this terminal (region or event type)
    BUSY = 3  # a higher-priority broadcast is playing


class TaskEndResult(IntEnum):
    COMPLETED = 0
    STOPPED = 1  # by a 0x04 stop or a newer start
    FAILED = 2


class WorkState(IntEnum):
    IDLE = 1
    WORKING = 2
    FAULT = 3


@dataclass(frozen=True, slots=True)
class StartStopReply:
    """0x17: the answer to one 0x04, echoing its EBMID and on/off."""

    COMMAND: ClassVar[Command] = Command.START_STOP_REPLY

    terminal: str
    ebmid: str
    on: bool
    result: ReplyResult

    def to_bytes(self) -> bytes:
        return b"".join(
            (
                bcd(self.terminal, EBRID_DIGITS, "terminal resource code"),
                bcd(self.ebmid, EBMID_DIGITS, "EBMID"),
                bytes([1 if self.on else 0, self.result]),
            )
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> StartStopReply:
        c = Cursor(data, "0x17 start/stop reply")
        terminal = c.bcd(EBRID_DIGITS, "terminal")
        ebmid = c.bcd(EBMID_DIGITS, "EBMID")
        on_off = c.uint(1, "on/off")
        if on_off not in (0, 1):
            raise BadField(f"0x17 on/off must be 0 or 1, got {on_off}")
        result = enum_field(ReplyResult, c.uint(1, "result"), "0x17 result")
        c.end()
        return cls(terminal, ebmid, on_off == 1, result)


@dataclass(frozen=True, slots=True)
class TaskStart:
    """0x18: playback of ``ebmid`` began at ``started`` (UNIX seconds)."""

    COMMAND: ClassVar[Command] = Command.TASK_START

    terminal: str
    ebmid: str
    started: int

    def to_bytes(self) -> bytes:
        return (
            bcd(self.terminal, EBRID_DIGITS, "terminal resource code")
            + bcd(self.ebmid, EBMID_DIGITS, "EBMID")
            + uint(self.started, 4, "start time")
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> TaskStart:
        c = Cursor(data, "0x18 task start")
        terminal, ebmid = c.bcd(EBRID_DIGITS, "terminal"), c.bcd(EBMID_DIGITS, "EBMID")
        started = c.uint(4, "start time")
        c.end()
        return cls(terminal, ebmid, started)


@dataclass(frozen=True, slots=True)
class TaskEnd:
    """0x19: playback of ``ebmid`` ended at ``ended`` (UNIX seconds), and how."""

    COMMAND: ClassVar[Command] = Command.TASK_END

    terminal: str
    ebmid: str
    ended: int
    result: TaskEndResult = TaskEndResult.COMPLETED

    def to_bytes(self) -> bytes:
        return (
            bcd(self.terminal, EBRID_DIGITS, "terminal resource code")
            + bcd(self.ebmid, EBMID_DIGITS, "EBMID")
            + uint(self.ended, 4, "end time")
            + bytes([self.result])
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> TaskEnd:
        c = Cursor(data, "0x19 task end")
        terminal, ebmid = c.bcd(EBRID_DIGITS, "terminal"), c.bcd(EBMID_DIGITS, "EBMID")
        ended = c.uint(4, "end time")
        result = enum_field(TaskEndResult, c.uint(1, "result"), "0x19 result")
        c.end()
        return cls(terminal, ebmid, ended, result)


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """0x20: work state, volume and the broadcast playing (None when idle)."""

    COMMAND: ClassVar[Command] = Command.HEARTBEAT

    terminal: str
    state: WorkState
    volume: int = 0
    ebmid: str | None = None

    def to_bytes(self) -> bytes:
        return b"".join(
            (
                bcd(self.terminal, EBRID_DIGITS, "terminal resource code"),
                bytes([self.state]),
                uint(self.volume, 1, "volume"),
                bcd(self.ebmid or _IDLE_EBMID, EBMID_DIGITS, "EBMID"),
            )
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> Heartbeat:
        c = Cursor(data, "0x20 heartbeat")
        terminal = c.bcd(EBRID_DIGITS, "terminal")
        state = enum_field(WorkState, c.uint(1, "work state"), "0x20 work state")
        volume = c.uint(1, "volume")
        ebmid = c.bcd(EBMID_DIGITS, "EBMID")
        c.end()
        return cls(terminal, state, volume, None if ebmid == _IDLE_EBMID else ebmid)
