"""What the simulated fleet shares between terminals, and what stays each terminal's own:
the decode and verification cache (simulators/fleet.py SharedVerification), the agent's
cached region codes, acks counted and logged without decoding them again."""

from __future__ import annotations

import gc
import hashlib
import logging
from typing import Any

import pytest

from protocols.terminal import terminal_pb2 as pb
from simulators.fleet import Fleet, SharedVerification
from terminals.agent import TerminalAgent, Uplink
from terminals.envelope import open_command
from terminals.link import BrokerAddress
from terminals.mqtt_terminal import TerminalConnection
from terminals.player import Player
from tests.unit.test_terminal_agent import (
    EBRID,
    NOW,
    OTHER_EBRID,
    REGION_TOPIC,
    Clock,
    anchors,
    seal,
    start,
    states,
)

THIRD_EBRID = "63415231020010314010401"


def tampered(payload: bytes) -> bytes:
    """The same signed envelope with its command changed: the alert's text, not the signature."""
    envelope = pb.SignedCommand.FromString(payload)
    command = pb.Command.FromString(envelope.command)
    command.start.texts[0].body = "请立即撤离。"
    envelope.command = command.SerializeToString(deterministic=True)
    return envelope.SerializeToString(deterministic=True)


def fleet_agent(shared: SharedVerification, ebrid: str = EBRID) -> TerminalAgent:
    return TerminalAgent(ebrid, anchors(), clock=Clock(), opener=shared)


def test_tampered_payload_on_the_same_topic_is_refused_after_the_original_was_cached() -> None:
    shared = SharedVerification()
    original = seal(start("c-1"))
    forged = tampered(original)
    assert forged != original
    first, second, third = (fleet_agent(shared, e) for e in (EBRID, OTHER_EBRID, THIRD_EBRID))
    assert states(first.handle(REGION_TOPIC, original)) == [("ACK_VERIFIED", "")]
    assert states(second.handle(REGION_TOPIC, original)) == [("ACK_VERIFIED", "")]
    # Same topic, same command id, the good outcome cached: still refused, by everyone.
    for terminal in (first, second, third):
        assert states(terminal.handle(REGION_TOPIC, forged)) == [("ACK_REJECTED", "forged")]
    # ...and the original is still good for a terminal that had not seen it yet.
    assert states(third.handle(REGION_TOPIC, original)) == [("ACK_VERIFIED", "")]
    assert shared.verifications == 2  # one per distinct payload
    assert shared.shared == 4


def test_tampered_signature_block_is_refused_after_the_original_was_cached() -> None:
    shared = SharedVerification()
    original = seal(start("c-1"))
    envelope = pb.SignedCommand.FromString(original)
    envelope.signature_block = envelope.signature_block[:-1] + bytes(
        [envelope.signature_block[-1] ^ 1]
    )
    forged = envelope.SerializeToString(deterministic=True)
    assert states(fleet_agent(shared).handle(REGION_TOPIC, original)) == [("ACK_VERIFIED", "")]
    assert states(fleet_agent(shared, OTHER_EBRID).handle(REGION_TOPIC, forged)) == [
        ("ACK_REJECTED", "forged")
    ]


def test_a_cached_decode_is_not_shared_across_different_bytes() -> None:
    shared = SharedVerification()
    for_us = seal(start("c-1", terminals=(EBRID,)))
    for_them = seal(start("c-1", terminals=(OTHER_EBRID,)))
    assert list(shared.peek(for_us).terminals) == [EBRID]  # type: ignore[union-attr]
    assert list(shared.peek(for_them).terminals) == [OTHER_EBRID]  # type: ignore[union-attr]
    # equal bytes in another object (as each connection receives them) do share it
    assert shared.peek(bytes(bytearray(for_us))) is shared.peek(for_us)
    terminal = fleet_agent(shared)
    assert terminal.handle(REGION_TOPIC, for_them) == []
    assert terminal.counters.ignored == 1
    assert states(terminal.handle(REGION_TOPIC, for_us)) == [("ACK_VERIFIED", "")]
    assert shared.verifications == 1  # the command for another terminal was never verified


def test_unreadable_junk_is_cached_as_unreadable_only() -> None:
    shared = SharedVerification()
    assert shared.peek(b"\xff\xff") is None
    terminal = fleet_agent(shared)
    assert terminal.handle(REGION_TOPIC, b"\xff\xff") == []
    assert terminal.counters.rejected["malformed"] == 1
    assert states(terminal.handle(REGION_TOPIC, seal(start()))) == [("ACK_VERIFIED", "")]


def test_shared_redelivery_is_a_duplicate_and_other_bytes_a_replay_per_terminal() -> None:
    shared = SharedVerification()
    payload = seal(start("c-1"))
    terminal = fleet_agent(shared)
    assert states(terminal.handle(REGION_TOPIC, payload)) == [("ACK_VERIFIED", "")]
    assert terminal.handle(REGION_TOPIC, bytes(bytearray(payload))) == []
    assert terminal.counters.duplicates == 1
    resigned = seal(start("c-1"), signed_at=NOW - 1)  # same id, signed again: other bytes
    assert states(terminal.handle(REGION_TOPIC, resigned)) == [("ACK_REJECTED", "replay")]
    # another terminal has its own replay memory
    assert states(fleet_agent(shared, OTHER_EBRID).handle(REGION_TOPIC, resigned)) == [
        ("ACK_VERIFIED", "")
    ]


def test_verified_command_carries_the_payload_digest_for_the_replay_memory() -> None:
    payload = seal(start())
    opened = open_command(payload, anchors(), now=NOW)
    assert opened.digest == hashlib.sha256(payload).digest()


def test_region_checks_on_cached_codes_skip_invalid_ones() -> None:
    shared = SharedVerification()
    for _ in range(2):  # the second time from the cache
        ok = seal(start("c-ok", regions=("bogus", "3415", "341523000000")))
        assert states(fleet_agent(shared).handle(REGION_TOPIC, ok)) == [("ACK_VERIFIED", "")]
        elsewhere = seal(start("c-no", regions=("bogus", "341524000000")))
        assert states(fleet_agent(shared).handle(REGION_TOPIC, elsewhere)) == [
            ("ACK_REJECTED", "out-of-region")
        ]
    # a township code contains its villages only
    township = seal(start("c-t", regions=("341523101000",)))
    assert states(fleet_agent(shared).handle(REGION_TOPIC, township)) == [
        ("ACK_REJECTED", "out-of-region")
    ]


def test_acks_carry_the_message_their_payload_serialises() -> None:
    out = fleet_agent(SharedVerification()).handle(REGION_TOPIC, seal(start()))
    ack = next(o for o in out if isinstance(o, Uplink))
    assert ack.ack is not None and ack.ack == pb.Ack.FromString(ack.payload)
    assert ack.ack.SerializeToString(deterministic=True) == ack.payload


class FakeClient:
    def __init__(self) -> None:
        self.published: list[tuple[str, bytes, int, bool]] = []

    def publish(self, topic: str, payload: bytes, qos: int = 0, retain: bool = False) -> None:
        self.published.append((topic, payload, qos, retain))


def test_connection_counts_and_logs_acks_without_decoding_them(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    agent = fleet_agent(SharedVerification())
    connection = TerminalConnection(
        BrokerAddress.parse("mqtt://127.0.0.1:1"), agent, Player(), username=None, password=None
    )
    client = FakeClient()
    connection._client = client  # type: ignore[assignment]
    out = agent.handle(REGION_TOPIC, seal(start()))
    ack = next(o for o in out if isinstance(o, Uplink))

    def no_decode(*args: Any) -> None:
        raise AssertionError("an ack with its message attached was decoded again")

    with caplog.at_level(logging.INFO, logger="ebc.terminal"):
        with monkeypatch.context() as patch:
            patch.setattr(pb.Ack, "FromString", no_decode)
            with pytest.raises(AssertionError):
                pb.Ack.FromString(ack.payload)  # the patch holds
            connection.send(ack)
        assert client.published == [(ack.topic, ack.payload, 1, False)]
        assert connection.acks == {"verified": 1}
        assert f"{EBRID}: ack c-1 verified" in caplog.text
        # an Uplink built without its message is still counted, by decoding it
        refused = pb.Ack(
            terminal_ebrid=EBRID, command_id="c-2", state=pb.ACK_REJECTED, reason="stale"
        )
        connection.send(Uplink(ack.topic, refused.SerializeToString()))
        assert connection.acks == {"verified": 1, "rejected": 1}
        assert "ack c-2 rejected (stale)" in caplog.text
    connection.send(agent.heartbeat())  # not an ack: not counted
    assert sum(connection.acks.values()) == 2


async def test_fleet_freezes_its_long_lived_objects_while_it_runs() -> None:
    assert gc.get_freeze_count() == 0
    fleet = Fleet("mqtt://127.0.0.1:1", [], anchors())
    await fleet.start()
    try:
        assert gc.get_freeze_count() > 0
    finally:
        await fleet.stop()
    assert gc.get_freeze_count() == 0
    unfrozen = Fleet("mqtt://127.0.0.1:1", [], anchors(), freeze_gc=False)
    await unfrozen.start()
    assert gc.get_freeze_count() == 0
    await unfrozen.stop()
