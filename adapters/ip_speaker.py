"""IP loudspeakers over MQTT: one signed publish per region node, directed re-sends per terminal.

A terminal subscribes to its own village node and every ancestor, so a county-wide broadcast
is one publish on the county's topic. Delivery here means the broker took the message for
the terminals' topic; whether a terminal played it comes back as acks.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from typing import Any

from adapters.base import (
    AdapterContext,
    Outcome,
    SendReport,
    TargetOutcome,
    Transmission,
)
from protocols.codes import RegionCode
from protocols.terminal import terminal_pb2 as pb
from protocols.terminal.topics import region_topic, terminal_topic
from terminals.envelope import seal_command
from terminals.link import LinkUnavailable

log = logging.getLogger("ebc.adapters.ip")


class IpSpeakerAdapter:
    bearer = "ip"

    def __init__(self, ebrid: str, config: dict[str, Any], context: AdapterContext) -> None:
        if context.signer is None:
            raise ValueError("the IP loudspeaker adapter needs the platform's signer")
        self.ebrid = ebrid
        self._context = context
        self._signer = context.signer
        self._volume = int(config.get("volume", 0))
        self._tts = bool(config.get("tts", True))

    @classmethod
    def factory(
        cls, ebrid: str, config: dict[str, Any], context: AdapterContext
    ) -> IpSpeakerAdapter:
        return cls(ebrid, config, context)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    def _command(self, transmission: Transmission, *, terminals: Sequence[str] = ()) -> pb.Command:
        now = self._context.clock()
        command = pb.Command(
            command_id=f"{transmission.task_id}-{uuid.uuid4().hex[:12]}",
            issuer_ebrid=self._context.platform_ebrid,
            issued_unix=int(now.timestamp()),
            terminals=list(terminals),
        )
        if transmission.msg_type == 2:
            command.stop.ebmid = str(transmission.extra.get("cancels") or transmission.ebmid)
            command.stop.alert_id = transmission.alert_id
            command.stop.reason = "cancelled by the issuer"
            command.stop.regions.extend(transmission.regions)
            return command
        start = command.start
        start.ebmid = transmission.ebmid
        start.alert_id = transmission.alert_id
        start.event_type = transmission.event_type
        start.severity = pb.Severity.ValueType(transmission.severity)
        start.msg_type = transmission.msg_type
        start.drill = transmission.drill
        start.start_unix = int(transmission.start.timestamp()) if transmission.start else 0
        start.end_unix = int(transmission.end.timestamp()) if transmission.end else 0
        for language, title, body in transmission.texts:
            start.texts.add(language=language, title=title, body=body)
        start.audio_url = str(transmission.extra.get("audio_url", ""))
        start.tts = self._tts and not start.audio_url
        start.volume = self._volume
        start.regions.extend(transmission.regions)
        return command

    async def _publish(
        self, topics: Sequence[str], command: pb.Command, targets: Sequence[str]
    ) -> SendReport:
        link = self._context.link
        signed_at = int(self._context.clock().timestamp())
        payload = seal_command(command, self._signer, signed_at=signed_at)
        try:
            if link is None:
                raise LinkUnavailable("no broker link is configured")
            for topic in topics:
                await link.publish(topic, payload)
        except LinkUnavailable as exc:
            return SendReport(tuple(TargetOutcome(t, Outcome.FAILED, str(exc)) for t in targets))
        return SendReport.all_delivered(targets)

    async def send(self, transmission: Transmission) -> SendReport:
        topics = [region_topic(RegionCode(r)) for r in transmission.regions]
        return await self._publish(topics, self._command(transmission), transmission.targets)

    async def cancel(self, transmission: Transmission) -> SendReport:
        return await self.send(transmission)

    async def resend(self, transmission: Transmission, terminals: Sequence[str]) -> SendReport:
        """Directed catch-up: the same broadcast to terminals that have not acked yet."""
        topics = [terminal_topic(t, "cmd") for t in terminals]
        command = self._command(transmission, terminals=terminals)
        return await self._publish(topics, command, terminals)
