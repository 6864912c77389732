"""The reference terminal as a pure state machine: the model firmware engineers follow.

``handle`` takes one received MQTT message and returns what to publish (``Uplink``) and what
to play (``Play``/``Stop``); the caller does both and reports playback back through
``playing``, ``played`` and ``failed``. No I/O here, only a clock.

Every command goes through the same checks, in this order:

1. a directed command (``terminals`` non-empty) not naming us is ignored, before any crypto:
   ignoring is harmless, and a county-wide topic carries commands for other terminals;
2. ``open_command``: certificate known and not revoked, signature, freshness; then the
   certificate's validity dates;
3. the replay memory, only after the signature (unsigned junk must not fill it): the same
   bytes again are a QoS 1 redelivery of something already answered, dropped silently; the
   same (issuer, command id) with other bytes is a replay and refused;
4. the region: a broadcast for elsewhere that does not name us is refused.

Acks for a broadcast: VERIFIED when accepted, PLAYING when the player starts, PLAYED when it
finishes (FAILED with a reason instead when it cannot; FAILED "preempted" when a newer
broadcast takes over). RECEIVED is never sent: VERIFIED or REJECTED follows within
milliseconds, so it would only double the uplink traffic. See docs/terminal-protocol.md.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Literal, NamedTuple, Protocol

from google.protobuf.message import DecodeError

from protocols.codes import CertSN, RegionCode, ResourceCode
from protocols.errors import CodeError
from protocols.terminal import terminal_pb2 as pb
from protocols.terminal.topics import terminal_topic
from signing.errors import ReplayDetected, SignatureError
from signing.freshness import ReplayGuard
from signing.sm2 import SM2PublicKey
from signing.trust import Rights, TrustEntry, TrustStore
from terminals.envelope import CommandRejected, Rejection, VerifiedCommand, open_command

FIRMWARE = "ebc-ref/1"
DRILL_PREFIX = "【演练】"
EXPIRED_CERTIFICATE = "certificate-expired"

log = logging.getLogger("ebc.terminal.agent")


class Uplink(NamedTuple):
    topic: str
    payload: bytes
    retain: bool = False
    # The Ack that ``payload`` serialises, on acks: whoever sends it can count and log it
    # without decoding its own bytes again.
    ack: pb.Ack | None = None


@dataclass(frozen=True)
class Spoken:
    language: str
    text: str  # drill prefix already applied


@dataclass(frozen=True)
class Play:
    command_id: str
    ebmid: str
    alert_id: str
    texts: tuple[Spoken, ...]
    audio_url: str
    tts: bool
    volume: int
    start_unix: int  # 0: now
    drill: bool


@dataclass(frozen=True)
class Stop:
    ebmid: str


Effect = Play | Stop
Outbound = Uplink | Effect


class Opener(Protocol):
    """``open_command``'s shape; a simulated fleet swaps in one that shares verification.

    An opener may also have a ``peek(payload)`` method, used instead of ``_peek`` below: the
    same unverified decode, shared by terminals that received identical bytes.
    """

    def __call__(
        self, payload: bytes, anchors: TrustStore, *, now: int, window: int, future_skew: int
    ) -> VerifiedCommand: ...


@dataclass
class Counters:
    verified: int = 0
    duplicates: int = 0
    ignored: int = 0
    rejected: Counter[str] = field(default_factory=Counter)


class TerminalAgent:
    """One terminal. ``anchors`` is this terminal's own store: certificate updates change it."""

    def __init__(
        self,
        ebrid: str,
        anchors: TrustStore,
        *,
        clock: Callable[[], int],
        window: int = 300,
        future_skew: int = 60,
        volume: int = 60,
        heartbeat_seconds: int = 30,
        opener: Opener = open_command,
        logger: logging.Logger = log,
    ) -> None:
        code = ResourceCode(ebrid)
        self.ebrid = code.value
        self.region = code.region
        self.anchors = anchors
        self.volume = volume
        self.heartbeat_seconds = heartbeat_seconds
        self.counters = Counters()
        self._topics = {kind: terminal_topic(code, kind) for kind in ("ack", "heartbeat", "status")}
        self._clock = clock
        self._window = window
        self._skew = future_skew
        self._open = opener
        self._peek: Callable[[bytes], pb.Command | None] = getattr(opener, "peek", _peek)
        self._log = logger
        # A signed time stays fresh for window + skew seconds at most: remember that long.
        self._seen = ReplayGuard(window=window + future_skew, clock=clock)
        self._current: Play | None = None
        self._on_air = False

    # -- what arrives -------------------------------------------------------------------

    def handle(self, topic: str, payload: bytes) -> list[Outbound]:
        peeked = self._peek(payload)
        if peeked is not None and not self._addressed(peeked):
            self.counters.ignored += 1
            return []
        now = self._clock()
        try:
            verified = self._open(
                payload, self.anchors, now=now, window=self._window, future_skew=self._skew
            )
        except CommandRejected as exc:
            command = exc.command or peeked
            if (
                exc.reason is Rejection.STALE
                and command is not None
                and (self._remember(command, payload) == "duplicate")
            ):
                # A late redelivery of a command answered while it was fresh (its signature
                # verified, so remembering it is safe).
                self.counters.duplicates += 1
                return []
            return self._refuse(command, exc.reason.value, exc.detail, topic)
        command = verified.command
        try:
            self.anchors.get(verified.cert_sn).check_valid_at(datetime.fromtimestamp(now, UTC))
        except SignatureError as exc:
            return self._refuse(command, EXPIRED_CERTIFICATE, exc.message, topic)
        seen = self._remember(command, payload, verified.digest)
        if seen == "duplicate":
            self.counters.duplicates += 1
            return []
        if seen == "replay":
            return self._refuse(
                command, Rejection.REPLAY.value, "command id already used with other bytes", topic
            )
        self.counters.verified += 1
        body = command.WhichOneof("body")
        if self._log.isEnabledFor(logging.INFO):
            self._log.info(
                "%s: command %s (%s) verified on %s", self.ebrid, command.command_id, body, topic
            )
        return self._dispatch(command, body)

    def _dispatch(self, command: pb.Command, body: str | None) -> list[Outbound]:
        if body == "start":
            return self._start(command)
        if body == "stop":
            return self._stop(command)
        if body == "configure":
            return self._configure(command)
        if body == "query":
            return [self.heartbeat()]
        if body == "certificate":
            return self._certificate(command)
        return [self._ack(command, pb.ACK_FAILED, "unsupported command")]

    def _start(self, command: pb.Command) -> list[Outbound]:
        start = command.start
        if self.ebrid not in command.terminals and not self._in_regions(start.regions):
            return self._refuse(
                command, Rejection.OUT_OF_REGION.value, f"regions {list(start.regions)}"
            )
        if start.end_unix and start.end_unix <= self._clock():
            return [self._ack(command, pb.ACK_FAILED, "expired")]
        out: list[Outbound] = []
        if self._current is not None:
            out.append(self._play_ack(self._current, pb.ACK_FAILED, f"preempted by {start.ebmid}"))
        prefix = DRILL_PREFIX if start.drill else ""
        play = Play(
            command_id=command.command_id,
            ebmid=start.ebmid,
            alert_id=start.alert_id,
            texts=tuple(
                Spoken(t.language, " ".join(p for p in (prefix + t.title, t.body) if p))
                for t in start.texts
            ),
            audio_url=start.audio_url,
            tts=start.tts,
            volume=min(start.volume or self.volume, 100),
            start_unix=start.start_unix,
            drill=start.drill,
        )
        self._current, self._on_air = play, False
        return [*out, self._ack(command, pb.ACK_VERIFIED), play]

    def _stop(self, command: pb.Command) -> list[Outbound]:
        stop = command.stop
        named = self.ebrid in command.terminals
        if stop.regions and not named and not self._in_regions(stop.regions):
            return self._refuse(
                command, Rejection.OUT_OF_REGION.value, f"regions {list(stop.regions)}"
            )
        if self._current is None or self._current.ebmid != stop.ebmid:
            return [self._ack(command, pb.ACK_STOPPED, "not-playing")]
        self._current, self._on_air = None, False
        return [Stop(stop.ebmid), self._ack(command, pb.ACK_STOPPED)]

    def _configure(self, command: pb.Command) -> list[Outbound]:
        config = command.configure
        if config.volume:
            self.volume = min(config.volume, 100)
        if config.heartbeat_seconds:
            self.heartbeat_seconds = config.heartbeat_seconds
        return [self._ack(command, pb.ACK_VERIFIED)]

    def _certificate(self, command: pb.Command) -> list[Outbound]:
        cert = command.certificate
        try:
            if cert.revoke:
                self.anchors.revoke(cert.cert_sn)
            else:
                not_after = (
                    datetime.fromtimestamp(cert.not_after_unix, UTC)
                    if cert.not_after_unix
                    else None
                )
                self.anchors.add(
                    TrustEntry(
                        cert_sn=CertSN(cert.cert_sn),
                        public_key=SM2PublicKey(cert.public_key),
                        name=f"certificate update {command.command_id}",
                        holder_ebrid=command.issuer_ebrid or None,
                        not_before=None,
                        not_after=not_after,
                        revoked=False,
                        rights=Rights.unrestricted(),
                    )
                )
        except (CodeError, SignatureError) as exc:
            return [self._ack(command, pb.ACK_FAILED, str(exc))]
        return [self._ack(command, pb.ACK_VERIFIED)]

    # -- what the player reports --------------------------------------------------------

    def playing(self, play: Play) -> list[Outbound]:
        if self._current != play:
            return []
        self._on_air = True
        return [self._play_ack(play, pb.ACK_PLAYING)]

    def played(self, play: Play) -> list[Outbound]:
        return self._finish(play, pb.ACK_PLAYED, "")

    def failed(self, play: Play, reason: str) -> list[Outbound]:
        return self._finish(play, pb.ACK_FAILED, reason)

    def _finish(self, play: Play, state: pb.AckState, reason: str) -> list[Outbound]:
        if self._current != play:
            return []  # stopped or preempted meanwhile: that was acked already
        self._current, self._on_air = None, False
        return [self._play_ack(play, state, reason)]

    # -- reports ------------------------------------------------------------------------

    def heartbeat(self) -> Uplink:
        on_air = self._current if self._on_air else None
        beat = pb.Heartbeat(
            terminal_ebrid=self.ebrid,
            state=pb.WORK_WORKING if on_air else pb.WORK_IDLE,
            volume=self.volume,
            firmware=FIRMWARE,
            at_unix=self._clock(),
            playing_ebmid=on_air.ebmid if on_air else "",
        )
        return Uplink(self._topics["heartbeat"], _bytes(beat))

    def status(self, online: bool) -> Uplink:
        status = pb.Status(
            terminal_ebrid=self.ebrid,
            online=online,
            firmware=FIRMWARE,
            region=self.region.value,
            at_unix=self._clock(),
        )
        return Uplink(self._topics["status"], _bytes(status), retain=True)

    # -- helpers ------------------------------------------------------------------------

    def _addressed(self, command: pb.Command) -> bool:
        return not command.terminals or self.ebrid in command.terminals

    def _in_regions(self, codes: Iterable[str]) -> bool:
        # RegionCode(code).contains(self.region), on codes parsed once per process
        mine = self.region.value
        for code in codes:
            significant = _significant(code)
            if significant is not None and mine.startswith(significant):
                return True
        return False

    def _remember(
        self, command: pb.Command, payload: bytes, digest: bytes = b""
    ) -> Literal["new", "duplicate", "replay"]:
        """``digest``: the payload's SHA-256 when the opener computed it already."""
        digest = digest or hashlib.sha256(payload).digest()
        try:
            return self._seen.check(command.issuer_ebrid, command.command_id, digest)
        except ReplayDetected:
            return "replay"

    def _refuse(
        self, command: pb.Command | None, reason: str, detail: str, topic: str = ""
    ) -> list[Outbound]:
        self.counters.rejected[reason] += 1
        if command is None or not command.command_id:
            self._log.warning(
                "%s: unreadable message on %s refused (%s: %s); nothing to ack",
                self.ebrid,
                topic,
                reason,
                detail,
            )
            return []
        self._log.warning(
            "%s: command %s refused: %s (%s)", self.ebrid, command.command_id, reason, detail
        )
        return [self._ack(command, pb.ACK_REJECTED, reason)]

    def _ack(self, command: pb.Command, state: pb.AckState, reason: str = "") -> Uplink:
        body = command.WhichOneof("body")
        about = command.start if body == "start" else command.stop if body == "stop" else None
        return self._uplink_ack(
            command.command_id,
            about.ebmid if about else "",
            about.alert_id if about else "",
            state,
            reason,
        )

    def _play_ack(self, play: Play, state: pb.AckState, reason: str = "") -> Uplink:
        return self._uplink_ack(play.command_id, play.ebmid, play.alert_id, state, reason)

    def _uplink_ack(
        self, command_id: str, ebmid: str, alert_id: str, state: pb.AckState, reason: str
    ) -> Uplink:
        ack = pb.Ack(
            terminal_ebrid=self.ebrid,
            command_id=command_id,
            ebmid=ebmid,
            alert_id=alert_id,
            state=state,
            reason=reason,
            at_unix=self._clock(),
        )
        return Uplink(self._topics["ack"], _bytes(ack), ack=ack)


@lru_cache(maxsize=1024)
def _significant(code: str) -> str | None:
    """``RegionCode(code).significant``, None for an invalid code; each code parsed once.

    Only verified commands' region lists get here, so junk cannot churn the cache.
    """
    try:
        return RegionCode(code).significant
    except CodeError:
        return None


def _peek(payload: bytes) -> pb.Command | None:
    """The command inside, unverified: enough to skip others' commands and ack malformed ones."""
    try:
        envelope = pb.SignedCommand.FromString(payload)
        command: pb.Command = pb.Command.FromString(envelope.command)
    except (DecodeError, ValueError):
        return None
    return command


def _bytes(message: pb.Ack | pb.Heartbeat | pb.Status) -> bytes:
    data: bytes = message.SerializeToString(deterministic=True)
    return data
