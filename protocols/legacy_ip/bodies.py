"""Which body layout goes with which protocol type."""

from __future__ import annotations

from protocols.legacy_ip.commands import Clock, GeneralReply, Query, StartStop
from protocols.legacy_ip.errors import UnknownCommand
from protocols.legacy_ip.frame import Command, Frame
from protocols.legacy_ip.reports import Heartbeat, StartStopReply, TaskEnd, TaskStart

Body = StartStop | Query | Clock | GeneralReply | StartStopReply | TaskStart | TaskEnd | Heartbeat
Report = StartStopReply | TaskStart | TaskEnd | Heartbeat

BODY_TYPES: dict[Command, type[Body]] = {
    kind.COMMAND: kind
    for kind in (
        StartStop,
        Query,
        Clock,
        GeneralReply,
        StartStopReply,
        TaskStart,
        TaskEnd,
        Heartbeat,
    )
}


def decode_body(command: Command, data: bytes) -> Body:
    kind = BODY_TYPES.get(command)
    if kind is None:
        raise UnknownCommand(f"no body layout for protocol type 0x{command:02X} in this codec")
    return kind.from_bytes(data)


def body_of(frame: Frame) -> Body:
    return decode_body(frame.command, frame.body)


def reporter(body: Body) -> str | None:
    """The resource code a terminal put in its report, or None for a body without one."""
    if isinstance(body, StartStopReply | TaskStart | TaskEnd | Heartbeat):
        return body.terminal
    return None
