"""The reference terminal's state machine (terminals/agent.py), its player and the fleet's
shared verification, without a broker; and the examples in docs/terminal-protocol.md."""

from __future__ import annotations

import re
import stat
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from protocols.terminal import terminal_pb2 as pb
from protocols.terminal.topics import terminal_topic
from signing.block import SignatureBlock, signed_message
from signing.curve import message_digest, z_value
from signing.signer import SoftwareSigner
from signing.sm2 import DEFAULT_USER_ID, SM2PrivateKey, verify
from signing.trust import Rights, TrustEntry, TrustStore
from simulators.fleet import SharedVerification
from terminals.agent import DRILL_PREFIX, Play, Stop, TerminalAgent, Uplink
from terminals.envelope import open_command, seal_command
from terminals.mqtt_terminal import anchor_for_key
from terminals.player import PlaybackFailed, Player

# The example private key of GB/T 32918.2 (public in the standard): tests and docs only.
KEY = SM2PrivateKey(
    bytes.fromhex("3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8")
)
OTHER_KEY = SM2PrivateKey(bytes.fromhex("11" * 32))
SN = "340000000001"
SIGNER = SoftwareSigner(KEY, SN)
EBRID = "63415231000010314010401"  # village 001 of 城关镇, 舒城县
OTHER_EBRID = "63415231010010314010401"
ISSUER = "43415230000000103010101"
EBMID = ISSUER + "20250601" + "0001"
NOW = 1748779200  # 2025-06-01 12:00:00 UTC
DOC = Path(__file__).resolve().parents[2] / "docs" / "terminal-protocol.md"


def anchors(key: SM2PrivateKey = KEY, sn: str = SN, **changes: object) -> TrustStore:
    fields: dict[str, object] = {
        "cert_sn": sn,
        "public_key": key.public_key(),
        "name": "county platform",
        "holder_ebrid": ISSUER,
        "not_before": None,
        "not_after": None,
        "revoked": False,
        "rights": Rights.unrestricted(),
    }
    fields.update(changes)
    return TrustStore([TrustEntry(**fields)])  # type: ignore[arg-type]


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> int:
        return self.now


def agent(store: TrustStore | None = None, ebrid: str = EBRID) -> TerminalAgent:
    return TerminalAgent(ebrid, store if store is not None else anchors(), clock=Clock())


def example_command() -> pb.Command:
    """The command docs/terminal-protocol.md shows on the wire."""
    return pb.Command(
        command_id="c-20250601-0001",
        issuer_ebrid=ISSUER,
        issued_unix=NOW,
        start=pb.BroadcastStart(
            ebmid=EBMID,
            alert_id="a-0001",
            event_type="11B03",
            severity=pb.SEVERITY_ORANGE,
            msg_type=3,
            drill=True,
            tts=True,
            regions=["341523000000"],
            texts=[pb.Text(language="zho", title="暴雨橙色预警", body="请注意防范。")],
        ),
    )


def start(
    command_id: str = "c-1",
    *,
    regions: tuple[str, ...] = ("341523000000",),
    terminals: tuple[str, ...] = (),
    drill: bool = False,
    body: str = "请注意防范。",
) -> pb.Command:
    return pb.Command(
        command_id=command_id,
        issuer_ebrid=ISSUER,
        issued_unix=NOW,
        terminals=list(terminals),
        start=pb.BroadcastStart(
            ebmid=EBMID,
            alert_id="a-1",
            event_type="11B03",
            drill=drill,
            tts=True,
            regions=list(regions),
            texts=[pb.Text(language="zho", title="暴雨预警", body=body)],
        ),
    )


def seal(command: pb.Command, *, signed_at: int = NOW, signer: SoftwareSigner = SIGNER) -> bytes:
    return seal_command(command, signer, signed_at=signed_at)


def acks(outputs: Sequence[object]) -> list[pb.Ack]:
    return [
        pb.Ack.FromString(o.payload)
        for o in outputs
        if isinstance(o, Uplink) and o.topic.endswith("/ack")
    ]


def states(outputs: Sequence[object]) -> list[tuple[str, str]]:
    return [(pb.AckState.Name(a.state), a.reason) for a in acks(outputs)]


REGION_TOPIC = "ebc/v1/region/34/15/23"


# -- accepted broadcasts --------------------------------------------------------------------


def test_valid_start_is_verified_then_playing_then_played() -> None:
    terminal = agent()
    out = terminal.handle(REGION_TOPIC, seal(start()))
    assert states(out) == [("ACK_VERIFIED", "")]
    play = next(o for o in out if isinstance(o, Play))
    assert play.ebmid == EBMID and play.texts[0].text == "暴雨预警 请注意防范。"
    assert states(terminal.playing(play)) == [("ACK_PLAYING", "")]
    played = terminal.played(play)
    assert states(played) == [("ACK_PLAYED", "")]
    ack = acks(played)[0]
    assert (ack.terminal_ebrid, ack.command_id, ack.ebmid, ack.alert_id, ack.at_unix) == (
        EBRID,
        "c-1",
        EBMID,
        "a-1",
        NOW,
    )
    assert all(
        o.topic == terminal_topic(EBRID, "ack") and not o.retain
        for o in out
        if isinstance(o, Uplink)
    )
    assert terminal.counters.verified == 1


def test_heartbeat_shows_what_is_on_air() -> None:
    terminal = agent()
    play = next(o for o in terminal.handle(REGION_TOPIC, seal(start())) if isinstance(o, Play))
    terminal.playing(play)
    beat = pb.Heartbeat.FromString(terminal.heartbeat().payload)
    assert (beat.state, beat.playing_ebmid, beat.firmware) == (pb.WORK_WORKING, EBMID, "ebc-ref/1")
    terminal.played(play)
    assert pb.Heartbeat.FromString(terminal.heartbeat().payload).state == pb.WORK_IDLE


def test_drill_text_is_prefixed() -> None:
    out = agent().handle(REGION_TOPIC, seal(start(drill=True)))
    play = next(o for o in out if isinstance(o, Play))
    assert play.drill and play.texts[0].text.startswith(DRILL_PREFIX + "暴雨预警")


def test_named_terminal_outside_the_regions_is_accepted() -> None:
    out = agent().handle(REGION_TOPIC, seal(start(regions=("341524000000",), terminals=(EBRID,))))
    assert states(out) == [("ACK_VERIFIED", "")]


def test_stop_stops_playback_and_acks_stopped() -> None:
    terminal = agent()
    play = next(o for o in terminal.handle(REGION_TOPIC, seal(start())) if isinstance(o, Play))
    terminal.playing(play)
    stop = pb.Command(
        command_id="c-2",
        issuer_ebrid=ISSUER,
        stop=pb.BroadcastStop(ebmid=EBMID, alert_id="a-1", reason="cancel"),
    )
    out = terminal.handle(REGION_TOPIC, seal(stop))
    assert Stop(EBMID) in out
    assert states(out) == [("ACK_STOPPED", "")]
    assert (acks(out)[0].command_id, acks(out)[0].ebmid) == ("c-2", EBMID)
    assert terminal.played(play) == []  # the player finishing late reports nothing


def test_stop_of_something_not_playing_is_still_answered() -> None:
    stop = pb.Command(command_id="c-2", issuer_ebrid=ISSUER, stop=pb.BroadcastStop(ebmid=EBMID))
    assert states(agent().handle(REGION_TOPIC, seal(stop))) == [("ACK_STOPPED", "not-playing")]


def test_newer_broadcast_preempts_the_current_one() -> None:
    terminal = agent()
    terminal.handle(REGION_TOPIC, seal(start("c-1")))
    out = terminal.handle(REGION_TOPIC, seal(start("c-2")))
    assert states(out) == [("ACK_FAILED", f"preempted by {EBMID}"), ("ACK_VERIFIED", "")]
    assert [a.command_id for a in acks(out)] == ["c-1", "c-2"]


def test_player_failure_is_acked_failed() -> None:
    terminal = agent()
    play = next(o for o in terminal.handle(REGION_TOPIC, seal(start())) if isinstance(o, Play))
    assert states(terminal.failed(play, "no amplifier")) == [("ACK_FAILED", "no amplifier")]


def test_status_query_is_answered_by_a_heartbeat() -> None:
    query = pb.Command(command_id="q-1", issuer_ebrid=ISSUER, query=pb.StatusQuery())
    out = agent().handle(REGION_TOPIC, seal(query))
    assert [o.topic for o in out if isinstance(o, Uplink)] == [terminal_topic(EBRID, "heartbeat")]


def test_configure_sets_volume_and_heartbeat_period() -> None:
    terminal = agent()
    configure = pb.Command(
        command_id="k-1",
        issuer_ebrid=ISSUER,
        configure=pb.Configure(volume=80, heartbeat_seconds=120),
    )
    assert states(terminal.handle(REGION_TOPIC, seal(configure))) == [("ACK_VERIFIED", "")]
    assert (terminal.volume, terminal.heartbeat_seconds) == (80, 120)


def test_status_is_retained() -> None:
    status = agent().status(False)
    assert status.retain and status.topic == terminal_topic(EBRID, "status")
    assert pb.Status.FromString(status.payload).online is False


# -- refusals -------------------------------------------------------------------------------


def test_forged_signature_is_rejected() -> None:
    envelope = pb.SignedCommand.FromString(seal(start()))
    block = bytearray(envelope.signature_block)
    block[-1] ^= 0x01
    envelope.signature_block = bytes(block)
    out = agent().handle(REGION_TOPIC, envelope.SerializeToString())
    assert states(out) == [("ACK_REJECTED", "forged")]
    assert acks(out)[0].command_id == "c-1"


def test_unknown_certificate_is_rejected() -> None:
    stranger = SoftwareSigner(OTHER_KEY, "999999999999")
    out = agent().handle(REGION_TOPIC, seal(start(), signer=stranger))
    assert states(out) == [("ACK_REJECTED", "unknown-certificate")]


def test_revoked_certificate_is_rejected() -> None:
    out = agent(anchors(revoked=True)).handle(REGION_TOPIC, seal(start()))
    assert states(out) == [("ACK_REJECTED", "certificate-revoked")]


def test_expired_certificate_is_rejected() -> None:
    store = anchors(not_after=datetime(2025, 1, 1, tzinfo=UTC))
    out = agent(store).handle(REGION_TOPIC, seal(start()))
    assert states(out) == [("ACK_REJECTED", "certificate-expired")]


def test_command_signed_ten_minutes_ago_is_stale() -> None:
    out = agent().handle(REGION_TOPIC, seal(start(), signed_at=NOW - 600))
    assert states(out) == [("ACK_REJECTED", "stale")]


def test_same_id_with_other_bytes_is_a_replay() -> None:
    terminal = agent()
    terminal.handle(REGION_TOPIC, seal(start()))
    out = terminal.handle(REGION_TOPIC, seal(start(body="改过的内容")))
    assert states(out) == [("ACK_REJECTED", "replay")]
    assert terminal.counters.rejected["replay"] == 1


def test_redelivery_of_the_same_bytes_is_dropped_silently() -> None:
    terminal = agent()
    payload = seal(start())
    terminal.handle(REGION_TOPIC, payload)
    assert terminal.handle(REGION_TOPIC, payload) == []
    assert terminal.handle(terminal_topic(EBRID, "cmd"), payload) == []
    assert (terminal.counters.duplicates, terminal.counters.verified) == (2, 1)


def test_late_redelivery_past_the_window_is_still_a_duplicate() -> None:
    clock = Clock()
    terminal = TerminalAgent(EBRID, anchors(), clock=clock)
    payload = seal(start(), signed_at=NOW - 250)
    assert states(terminal.handle(REGION_TOPIC, payload)) == [("ACK_VERIFIED", "")]
    clock.now += 100  # now 350 s after signing: stale, but answered already
    assert terminal.handle(REGION_TOPIC, payload) == []
    assert terminal.counters.duplicates == 1 and not terminal.counters.rejected


def test_broadcast_for_another_region_is_rejected() -> None:
    out = agent().handle(REGION_TOPIC, seal(start(regions=("341524000000",))))
    assert states(out) == [("ACK_REJECTED", "out-of-region")]


def test_directed_command_for_another_terminal_is_ignored() -> None:
    terminal = agent()
    assert terminal.handle(REGION_TOPIC, seal(start(terminals=(OTHER_EBRID,)))) == []
    assert terminal.counters.ignored == 1 and terminal.counters.verified == 0


def test_malformed_with_a_readable_id_is_acked() -> None:
    body = start().SerializeToString()
    payload = pb.SignedCommand(command=body, signature_block=b"\x00" * 10).SerializeToString()
    out = agent().handle(REGION_TOPIC, payload)
    assert states(out) == [("ACK_REJECTED", "malformed")]
    assert acks(out)[0].command_id == "c-1"


def test_unreadable_junk_is_counted_but_cannot_be_acked() -> None:
    terminal = agent()
    assert terminal.handle(REGION_TOPIC, b"\xff\xfe not protobuf") == []
    assert terminal.counters.rejected["malformed"] == 1


# -- certificate updates --------------------------------------------------------------------


def certificate_update(
    command_id: str, sn: str, key: SM2PrivateKey, *, revoke: bool = False
) -> pb.Command:
    return pb.Command(
        command_id=command_id,
        issuer_ebrid=ISSUER,
        certificate=pb.CertificateUpdate(
            cert_sn=sn, public_key=key.public_key().point, revoke=revoke
        ),
    )


def test_certificate_update_from_a_trusted_key_adds_an_anchor() -> None:
    terminal = agent()
    out = terminal.handle(REGION_TOPIC, seal(certificate_update("u-1", "340000000002", OTHER_KEY)))
    assert states(out) == [("ACK_VERIFIED", "")]
    assert "340000000002" in {e.cert_sn.value for e in terminal.anchors.entries()}
    newcomer = SoftwareSigner(OTHER_KEY, "340000000002")
    assert states(terminal.handle(REGION_TOPIC, seal(start("c-9"), signer=newcomer))) == [
        ("ACK_VERIFIED", "")
    ]


def test_certificate_update_from_an_untrusted_key_is_refused() -> None:
    terminal = agent()
    stranger = SoftwareSigner(OTHER_KEY, "340000000002")
    update = certificate_update("u-1", "340000000002", OTHER_KEY)
    out = terminal.handle(REGION_TOPIC, seal(update, signer=stranger))
    assert states(out) == [("ACK_REJECTED", "unknown-certificate")]
    assert len(terminal.anchors) == 1


def test_certificate_revocation_then_refuses_that_serial() -> None:
    terminal = agent()
    terminal.handle(REGION_TOPIC, seal(certificate_update("u-1", SN, KEY, revoke=True)))
    assert states(terminal.handle(REGION_TOPIC, seal(start()))) == [
        ("ACK_REJECTED", "certificate-revoked")
    ]


def test_key_only_anchor_accepts_any_serial_of_that_key() -> None:
    terminal = agent(anchor_for_key(KEY.public_key()))
    other_serial = SoftwareSigner(KEY, "123123123123")
    assert states(terminal.handle(REGION_TOPIC, seal(start(), signer=other_serial))) == [
        ("ACK_VERIFIED", "")
    ]
    stranger = SoftwareSigner(OTHER_KEY, "123123123123")
    assert states(terminal.handle(REGION_TOPIC, seal(start("c-2"), signer=stranger))) == [
        ("ACK_REJECTED", "forged")
    ]
    assert len(terminal.anchors) == 0  # unknown serials leave nothing behind


# -- shared verification (simulators/fleet.py) ---------------------------------------------


def test_shared_verification_verifies_identical_bytes_once() -> None:
    shared = SharedVerification()
    clocks = [Clock() for _ in range(3)]
    terminals = [
        TerminalAgent(e, anchors(), clock=c, opener=shared)
        for e, c in zip((EBRID, OTHER_EBRID, "63415231020010314010401"), clocks, strict=True)
    ]
    payload = seal(start())
    for terminal in terminals[:2]:
        assert states(terminal.handle(REGION_TOPIC, payload)) == [("ACK_VERIFIED", "")]
    clocks[2].now += 600  # the third terminal's clock says the command is stale by now
    assert states(terminals[2].handle(REGION_TOPIC, payload)) == [("ACK_REJECTED", "stale")]
    assert (shared.verifications, shared.shared) == (1, 2)


def test_shared_verification_keeps_forgeries_refused() -> None:
    shared = SharedVerification()
    envelope = pb.SignedCommand.FromString(seal(start()))
    envelope.signature_block = envelope.signature_block[:-1] + b"\x00"
    payload = envelope.SerializeToString()
    for ebrid in (EBRID, OTHER_EBRID):
        terminal = TerminalAgent(ebrid, anchors(), clock=Clock(), opener=shared)
        assert states(terminal.handle(REGION_TOPIC, payload)) == [("ACK_REJECTED", "forged")]
    assert shared.verifications == 1


def test_shared_verification_tells_apart_terminals_trusting_other_keys() -> None:
    shared = SharedVerification()
    trusting = TerminalAgent(EBRID, anchor_for_key(KEY.public_key()), clock=Clock(), opener=shared)
    other = TerminalAgent(
        OTHER_EBRID, anchor_for_key(OTHER_KEY.public_key()), clock=Clock(), opener=shared
    )
    payload = seal(start())
    assert states(trusting.handle(REGION_TOPIC, payload)) == [("ACK_VERIFIED", "")]
    assert states(other.handle(REGION_TOPIC, payload)) == [("ACK_REJECTED", "forged")]


# -- the player -----------------------------------------------------------------------------


def play_effect() -> Play:
    out = agent().handle(REGION_TOPIC, seal(start(drill=True)))
    return next(o for o in out if isinstance(o, Play))


async def test_player_without_tts_just_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", "ebc.terminal.player")
    assert await Player().play(play_effect()) == []
    assert DRILL_PREFIX in caplog.text


async def test_player_speaks_with_espeak_into_the_tts_dir(tmp_path: Path) -> None:
    fake = tmp_path / "espeak-ng"
    fake.write_text(
        '#!/bin/sh\n# records its arguments as the "wav"\n'
        'while [ "$1" != "-w" ]; do shift; done\nshift\necho "$@" > "$1"\n'
    )
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    player = Player(tts_dir=tmp_path / "tts", espeak=str(fake))
    written = await player.play(play_effect())
    assert written == [tmp_path / "tts" / f"{EBMID}-zho.wav"]
    assert written[0].exists()


async def test_player_reports_espeak_failure(tmp_path: Path) -> None:
    player = Player(tts_dir=tmp_path, espeak=str(tmp_path / "missing-espeak"))
    with pytest.raises(PlaybackFailed):
        await player.play(play_effect())


async def test_player_without_espeak_notes_it_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    player = Player(tts_dir=tmp_path, espeak=None)
    player._espeak = None  # as if espeak-ng were not on PATH
    for _ in range(2):
        await player.play(play_effect())
    assert caplog.text.count("espeak-ng not found") == 1


# -- docs/terminal-protocol.md --------------------------------------------------------------


def documented_hex(name: str) -> bytes:
    text = DOC.read_text(encoding="utf-8")
    found = re.search(rf"<!-- example: {name} -->\s*```\w*\n(.*?)```", text, re.S)
    assert found, f"docs/terminal-protocol.md has no example {name!r}"
    return bytes.fromhex("".join(found.group(1).split()))


def test_documented_signed_command_decodes_and_verifies() -> None:
    payload = documented_hex("signed-command")
    envelope = pb.SignedCommand.FromString(payload)
    assert envelope.command == example_command().SerializeToString(deterministic=True)
    block = SignatureBlock.from_bytes(envelope.signature_block)
    assert (block.signed_at, block.cert_sn.value) == (NOW, SN)
    assert verify(KEY.public_key(), signed_message(envelope.command, NOW), block.signature)
    assert open_command(payload, anchors(), now=NOW).command == example_command()


def test_documented_digest_steps_match() -> None:
    envelope = pb.SignedCommand.FromString(documented_hex("signed-command"))
    point = KEY.public_key().point
    assert documented_hex("z") == z_value(point, DEFAULT_USER_ID)
    assert documented_hex("e") == message_digest(
        point, DEFAULT_USER_ID, signed_message(envelope.command, NOW)
    )
    assert documented_hex("public-key") == point


def test_documented_ack_is_what_the_agent_sends() -> None:
    out = agent().handle(REGION_TOPIC, documented_hex("signed-command"))
    assert acks(out)[0].SerializeToString(deterministic=True) == documented_hex("ack-verified")
