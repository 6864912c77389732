"""Many simulated terminals in one process, each with its own MQTT connection and session.

Each terminal is a real TerminalAgent behind a real TerminalConnection, so the platform sees
exactly what a field of terminals would send. What is simulated: playback (``ack_delay``
seconds, no sound) and, optionally, decoding and signature verification shared between
terminals that received identical bytes (SharedVerification).

``provision_fleet`` puts the terminals into the platform's inventory with hashed passwords and
keeps the plaintext in ``DIR/fleet.json`` (mode 0600), so a later run logs in with the same ones.
"""

from __future__ import annotations

import asyncio
import copy
import gc
import json
import logging
import os
import secrets
import tempfile
import time
from collections import Counter, OrderedDict
from collections.abc import Awaitable, Callable, Collection, Iterable, Sequence
from pathlib import Path

from google.protobuf.message import DecodeError

from dispatcher.domain.regions import region_table
from dispatcher.store import repo
from dispatcher.store.db import Database
from dispatcher.store.records import NewTerminal
from protocols.codes import CertSN, RegionCode, RegionLevel
from protocols.terminal import terminal_pb2 as pb
from signing.block import SignatureBlock
from signing.errors import SignatureError
from signing.freshness import check_fresh
from signing.trust import TrustStore
from terminals import credentials
from terminals.agent import Opener, TerminalAgent
from terminals.envelope import CommandRejected, Rejection, VerifiedCommand, open_command
from terminals.link import BrokerAddress
from terminals.mqtt_terminal import TerminalConnection, heartbeats
from terminals.player import Player

Credentials = tuple[str, str, str]  # (ebrid, username, password)
_Action = Callable[[TerminalConnection], Awaitable[object]]

FLEET_FILE = "fleet.json"
# The passwords are 128-bit random tokens: key stretching protects guessable human passwords
# and adds nothing here, so the count is low enough to provision 10k terminals in seconds.
HASH_ITERATIONS = 1_000
IP_LOUDSPEAKER = "0314010401"  # resource type 0314, sequence 01, subtype 04 terminal, seq 01
_NEVER_STALE = 2**33  # wider than any 4-byte signed time: freshness is checked per caller

log = logging.getLogger("ebc.fleet")


class SharedVerification:
    """``open_command`` with each distinct payload decoded and verified once for the whole fleet.

    One county publish hands every simulated terminal the same bytes, and SM2 verification
    (~0.6 ms each, practical-notes.md) would otherwise cap one process near 1.4k terminals a
    second. Everything is keyed by the exact payload bytes (a dict compares them whole, so other
    bytes, however alike, never meet a cached result), and a verification outcome also by the
    trust entry the payload names, so a terminal whose trust changed gets its own answer.
    Freshness is checked on every call with the caller's ``now``; replay, region and the
    certificate's dates stay with each terminal. ``peek`` is the agents' unverified decode of
    the same payload (a directed command for others is ignored before any cryptography).
    The decoded commands are shared between terminals: the agents only read them.
    """

    def __init__(self, capacity: int = 4096) -> None:
        self.verifications = 0
        self.shared = 0
        self._capacity = capacity
        self._payloads: OrderedDict[bytes, _Received] = OrderedDict()

    def peek(self, payload: bytes) -> pb.Command | None:
        return self._received(payload).command

    def __call__(
        self, payload: bytes, anchors: TrustStore, *, now: int, window: int, future_skew: int
    ) -> VerifiedCommand:
        received = self._received(payload)
        trust = _trust_key(received.cert_sn, anchors)
        outcome = received.outcomes.get(trust)
        if outcome is None:
            self.verifications += 1
            try:
                outcome = open_command(
                    payload, anchors, now=now, window=_NEVER_STALE, future_skew=_NEVER_STALE
                )
            except CommandRejected as exc:
                outcome = exc
            received.outcomes[trust] = outcome
        else:
            self.shared += 1
        if isinstance(outcome, CommandRejected):
            raise CommandRejected(outcome.reason, outcome.detail, outcome.command)
        try:
            check_fresh(outcome.signed_at, now, window=window, future_skew=future_skew)
        except SignatureError as exc:
            raise CommandRejected(Rejection.STALE, exc.message, outcome.command) from exc
        return outcome

    def _received(self, payload: bytes) -> _Received:
        received = self._payloads.get(payload)
        if received is None:
            received = self._payloads[payload] = _Received(payload)
            if len(self._payloads) > self._capacity:
                self._payloads.popitem(last=False)
        else:
            self._payloads.move_to_end(payload)
        return received


class _Received:
    """One distinct payload: decoded once, its outcomes by trust key (see ``_trust_key``)."""

    __slots__ = ("cert_sn", "command", "outcomes")

    def __init__(self, payload: bytes) -> None:
        self.command: pb.Command | None = None
        self.cert_sn: CertSN | None = None
        self.outcomes: dict[tuple[bytes, bool] | None, VerifiedCommand | CommandRejected] = {}
        try:
            envelope = pb.SignedCommand.FromString(payload)
            self.command = pb.Command.FromString(envelope.command)
            self.cert_sn = SignatureBlock.from_bytes(envelope.signature_block).cert_sn
        except (DecodeError, ValueError):  # unreadable: open_command says why
            pass


def _trust_key(cert_sn: CertSN | None, anchors: TrustStore) -> tuple[bytes, bool] | None:
    """All that ``open_command`` reads from ``anchors`` for this payload: the entry it names."""
    if cert_sn is None:
        return None
    try:
        entry = anchors.get(cert_sn)
    except ValueError:  # an unknown serial: no entry to read
        return None
    return entry.public_key.point, entry.revoked


class Fleet:
    def __init__(
        self,
        broker_url: str,
        terminals: Sequence[Credentials],
        anchors: TrustStore,
        *,
        heartbeat_seconds: int = 60,
        share_verification: bool = True,
        offline: Collection[str] = (),
        ack_delay: float = 0.0,
        concurrency: int = 100,
        freeze_gc: bool = True,
    ) -> None:
        address = BrokerAddress.parse(broker_url)
        self.verification = SharedVerification() if share_verification else None
        opener: Opener = self.verification or open_command
        player = Player(simulated_seconds=ack_delay, logger=logging.getLogger("ebc.fleet.play"))
        self.connections = {
            ebrid: TerminalConnection(
                address,
                # Its own store: certificate updates change one terminal, as in the field.
                TerminalAgent(
                    ebrid,
                    copy.deepcopy(anchors),
                    clock=lambda: int(time.time()),
                    heartbeat_seconds=heartbeat_seconds,
                    opener=opener,
                    logger=logging.getLogger("ebc.fleet.agent"),
                ),
                player,
                username=username,
                password=password,
                logger=logging.getLogger("ebc.fleet.link"),
            )
            for ebrid, username, password in terminals
        }
        self._initially_offline = set(offline)
        self._concurrency = concurrency
        self._freeze_gc = freeze_gc
        self._frozen = False
        self._stop = asyncio.Event()
        self._beats: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Connect every terminal and wait until each is subscribed. Those in ``offline``
        connect once (the broker then holds their session and queues their commands) and
        leave again."""
        await self._each(self.connections, self._first_connect)
        count = len(self.connections)
        for n, connection in enumerate(self.connections.values()):
            # Spread over one period: 10k terminals beating in the same second is a storm.
            first = connection.agent.heartbeat_seconds * n / max(count, 1)
            self._beats.append(asyncio.create_task(heartbeats(connection, self._stop, first)))
        if self._freeze_gc and not self._frozen:
            # Thousands of connected terminals are hundreds of thousands of long-lived objects
            # (agents, trust stores, clients, streams): a full collection during a broadcast
            # would walk them all, ~0.1 ms per terminal, to free nothing. Frozen, collections
            # see only what was made since. Process-wide, until stop().
            gc.freeze()
            self._frozen = True

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.gather(*self._beats, return_exceptions=True)
        self._beats.clear()
        await self._each(self.connections, lambda c: c.disconnect())
        if self._frozen:
            gc.unfreeze()
            self._frozen = False

    async def take_offline(self, ebrids: Iterable[str]) -> None:
        await self._each(ebrids, lambda c: c.disconnect())

    async def bring_online(self, ebrids: Iterable[str]) -> None:
        await self._each(ebrids, lambda c: c.connect(self._stop))

    def online(self) -> list[str]:
        return [e for e, c in self.connections.items() if c.connected]

    @property
    def received(self) -> int:
        return sum(c.received for c in self.connections.values())

    @property
    def acks(self) -> Counter[str]:
        """Acks sent, by state (verified, playing, played, rejected, stopped, ...)."""
        return _total(c.acks for c in self.connections.values())

    @property
    def acked(self) -> int:
        return sum(self.acks.values())

    @property
    def rejected(self) -> Counter[str]:
        return _total(c.agent.counters.rejected for c in self.connections.values())

    async def _first_connect(self, connection: TerminalConnection) -> object:
        await connection.connect(self._stop)
        if connection.ebrid in self._initially_offline:
            await connection.disconnect()
        return None

    async def _each(self, ebrids: Iterable[str], action: _Action) -> None:
        gate = asyncio.Semaphore(self._concurrency)

        async def one(connection: TerminalConnection) -> None:
            async with gate:
                await action(connection)

        await asyncio.gather(*(one(self.connections[e]) for e in ebrids))


def _total(counters: Iterable[Counter[str]]) -> Counter[str]:
    """``sum(counters, Counter())`` without a new Counter per terminal."""
    total: Counter[str] = Counter()
    for counter in counters:
        total.update(counter)
    return +total


# -- provisioning -------------------------------------------------------------------------


def hash_password(password: str) -> str:
    """Simulated terminals' passwords are random 128-bit tokens: stretching adds nothing."""
    return credentials.hash_password(password, iterations=HASH_ITERATIONS)


check_password = credentials.verify_password


def townships(region: str) -> list[RegionCode]:
    """The townships in ``region`` (a township itself, a county, or anything above)."""
    table = region_table()
    found: list[RegionCode] = []
    level = [table.get(region)]
    while level:  # one pass per administrative level: at most five
        found += [r.code for r in level if r.level is RegionLevel.TOWNSHIP]
        level = [c for r in level if r.level < RegionLevel.TOWNSHIP for c in table.children(r.code)]
    return found


def fleet_ebrids(region: str, count: int) -> list[str]:
    """``count`` terminals, one per village, dealt round the townships so that any count
    covers as many as it can; the same region and count always give the same EBRIDs."""
    towns = townships(region)
    if not towns:
        raise ValueError(f"region {region} has no townships in the NBS table")
    if not 0 < count <= 999 * len(towns):
        raise ValueError(f"count must be 1-{999 * len(towns)} for {len(towns)} townships")
    return [
        f"6{towns[n % len(towns)].value[:9]}{n // len(towns) + 1:03d}{IP_LOUDSPEAKER}"
        for n in range(count)
    ]


async def provision_fleet(
    database_url: str,
    region: str,
    count: int,
    bearer: str = "ip",
    *,
    directory: Path,
    reset_passwords: bool = False,
) -> list[Credentials]:
    """Put ``count`` simulated IP loudspeakers of ``region`` into the inventory; idempotent.

    A terminal keeps its stored hash when ``DIR/fleet.json`` holds a password matching it;
    otherwise (new, reset, or the plaintext lost) it gets a fresh password.
    """
    ebrids = fleet_ebrids(region, count)
    path = directory / FLEET_FILE
    known = read_credentials(path)
    prefix = RegionCode.parse(region).significant
    db = Database(database_url)
    await db.start()
    try:
        async with db.session() as session:
            stored = {
                t.ebrid: t.password_hash
                for t in await repo.list_terminals(session, region_prefix=prefix)
            }
            fresh: list[NewTerminal] = []
            for ebrid in ebrids:
                password = known.get(ebrid)
                stored_hash = stored.get(ebrid)
                if (
                    reset_passwords
                    or not password
                    or not stored_hash
                    or not check_password(password, stored_hash)
                ):
                    password = known[ebrid] = secrets.token_urlsafe(16)
                    fresh.append(
                        NewTerminal(
                            ebrid=ebrid,
                            bearer=bearer,
                            region=ebrid[1:13],
                            name=f"simulated IP loudspeaker {ebrid[1:13]}",
                            username=ebrid,
                            password_hash=hash_password(password),
                        )
                    )
            await repo.upsert_terminals(session, terminals=fresh)
            await session.commit()
    finally:
        await db.stop()
    write_credentials(path, region, known)
    log.info("fleet of %d in %s: %d new or re-keyed", count, region, len(fresh))
    return [(ebrid, ebrid, known[ebrid]) for ebrid in ebrids]


def read_credentials(path: Path) -> dict[str, str]:
    """EBRID -> password from a fleet file; empty when there is none."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        return {str(t["ebrid"]): str(t["password"]) for t in document["terminals"]}
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path} cannot be read as a fleet file: {exc!r}") from exc


def write_credentials(path: Path, region: str, passwords: dict[str, str]) -> None:
    """Atomically, readable by the owner only: it holds plaintext passwords."""
    document = {
        "version": 1,
        "region": region,
        "terminals": [
            {"ebrid": e, "username": e, "password": p} for e, p in sorted(passwords.items())
        ],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # created 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=1)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
