"""The simulated TS receiver (ReceiverCore, no I/O): what it acts on, and what it refuses."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocols.terminal import terminal_pb2 as pb
from protocols.ts import (
    AUX_ALERT_ID,
    AUX_CANCELLED_BY,
    Addressed,
    Auxiliary,
    CertificateItem,
    Certificates,
    Content,
    DefaultVolume,
    Ebit,
    EbmEntry,
    LanguageText,
    Management,
    Packetiser,
    encode_certificates,
    encode_content,
    encode_ebit,
    encode_management,
)
from protocols.ts.crc import crc32_mpeg2
from signing.block import sign_payload
from signing.signer import SoftwareSigner
from signing.sm2 import SM2PrivateKey
from simulators.ts_receiver import ReceiverCore
from terminals.mqtt_terminal import anchor_for_key

KEY = SM2PrivateKey.generate()
SIGNER = SoftwareSigner(KEY, "340000000001")
FORGER = SoftwareSigner(SM2PrivateKey.generate(), "340000000001")
NOW = 1_795_766_400  # 2026-11-27 08:00:00 UTC
ME = "63415231000010303010401"  # a DTMB terminal in township 341523100
NEIGHBOUR_TOWN = "43415230000000303000400"  # every DTMB terminal of county 341523
ELSEWHERE = "43415240000000303000400"  # county 341524
EBM = "43415230000000103010101202611270001"


def at(seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


class Clock:
    def __init__(self) -> None:
        self.now = float(NOW)

    def __call__(self) -> float:
        return self.now


def signer_at(signed_at: int, signer: SoftwareSigner = SIGNER) -> Callable[[bytes], bytes]:
    return lambda payload: sign_payload(payload, signer, signed_at).to_bytes()


def entry(codes: tuple[str, ...] = (NEIGHBOUR_TOWN,), **changes: object) -> EbmEntry:
    base = EbmEntry(EBM, "11B03", 4, 2, codes, at(NOW), at(NOW + 600))
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def content(*aux: Auxiliary) -> Content:
    return Content(
        EBM,
        (LanguageText("zho", "暴雨预警", "请注意"),),
        (Auxiliary(AUX_ALERT_ID, b"alert-1"), *aux),
    )


def sections(
    entries: tuple[EbmEntry, ...],
    body: Content | None,
    signed_at: int = NOW,
    signer: SoftwareSigner = SIGNER,
    version: int = 0,
) -> list[bytes]:
    sign = signer_at(signed_at, signer)
    out = encode_content(body, version=version, sign=sign) if body else []
    return out + encode_ebit(Ebit(entries), version=version, sign=sign)


def stream(parts: list[bytes], packetiser: Packetiser | None = None) -> bytes:
    return b"".join((packetiser or Packetiser(0x21)).packetise(parts))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def core(clock: Clock) -> ReceiverCore:
    return ReceiverCore(ME, anchor_for_key(KEY.public_key()), clock=clock)


def states(acks: list[pb.Ack]) -> list[str]:
    return [pb.AckState.Name(a.state).removeprefix("ACK_").lower() for a in acks]


# -- what it acts on ----------------------------------------------------------------------


def test_start_verified_playing_then_played(core: ReceiverCore, clock: Clock) -> None:
    acks = core.feed(stream(sections((entry(),), content())))
    assert states(acks) == ["verified", "playing"]
    assert {a.alert_id for a in acks} == {"alert-1"} and acks[0].ebmid == EBM
    assert acks[0].terminal_ebrid == ME
    clock.now += 600
    assert states(core.tick()) == ["played"]
    assert core.state(EBM) == "played"


def test_a_later_start_waits(core: ReceiverCore, clock: Clock) -> None:
    assert states(core.feed(stream(sections((entry(start=at(NOW + 60)),), content())))) == [
        "verified"
    ]
    assert core.tick() == []
    clock.now += 60
    assert states(core.tick()) == ["playing"]


def test_repetitions_are_dropped_before_any_crypto(core: ReceiverCore) -> None:
    parts = sections((entry(),), content())
    packetiser = Packetiser(0x21)
    core.feed(stream(parts, packetiser))
    assert core.feed(stream(parts, packetiser)) == []
    assert core.repetitions == 2 and not core.counters


def test_index_before_content_waits_for_the_content(core: ReceiverCore) -> None:
    index = sections((entry(),), None)
    packetiser = Packetiser(0x21)
    assert core.feed(stream(index, packetiser)) == []
    body = encode_content(content(), version=0, sign=signer_at(NOW))
    assert states(core.feed(stream(body, packetiser))) == ["verified", "playing"]


def test_cancel_stops_with_the_cancel_alert_id(core: ReceiverCore, clock: Clock) -> None:
    packetiser = Packetiser(0x21)
    core.feed(stream(sections((entry(),), content()), packetiser))
    clock.now += 5
    cancelled = sections(
        (entry(end=at(NOW + 5)),),
        content(Auxiliary(AUX_CANCELLED_BY, b"cancel-9")),
        NOW + 5,
        version=1,
    )
    acks = core.feed(stream(cancelled, packetiser))
    assert states(acks) == ["stopped"] and acks[0].alert_id == "cancel-9"
    assert core.state(EBM) == "stopped"


def test_a_cancel_for_a_broadcast_never_heard_is_acked_not_playing(core: ReceiverCore) -> None:
    cancelled = sections(
        (entry(end=at(NOW)),), Content(EBM, (), (Auxiliary(AUX_CANCELLED_BY, b"cancel-9"),))
    )
    acks = core.feed(stream(cancelled))
    assert states(acks) == ["stopped"] and acks[0].reason == "not-playing"


def test_an_index_without_the_broadcast_withdraws_it(core: ReceiverCore) -> None:
    packetiser = Packetiser(0x21)
    core.feed(stream(sections((entry(),), content()), packetiser))
    acks = core.feed(stream(sections((), None, NOW + 1, version=1), packetiser))
    assert states(acks) == ["stopped"] and acks[0].reason == "withdrawn"


def test_drills_are_marked(core: ReceiverCore) -> None:
    core.feed(stream(sections((entry(ebm_class=3),), content())))
    assert core.broadcasts[EBM].drill


def test_certificate_table_extends_trust(clock: Clock) -> None:
    core = ReceiverCore(ME, anchor_for_key(KEY.public_key(), "340000000001"), clock=clock)
    new_key = SM2PrivateKey.generate()
    new = SoftwareSigner(new_key, "340000000002")
    packetiser = Packetiser(0x21)
    before = sections((entry(),), content(), signer=new)
    core.feed(stream(before, packetiser))
    assert core.counters["bad-signature"] == 2 and core.state(EBM) is None
    announce = encode_certificates(
        Certificates((CertificateItem("340000000002", new_key.public_key().point),)),
        version=0,
        sign=signer_at(NOW),
    )
    core.feed(stream(announce, packetiser))
    after = sections((entry(),), content(), NOW + 1, signer=new)
    assert states(core.feed(stream(after, packetiser))) == ["verified", "playing"]


def test_management_volume(core: ReceiverCore) -> None:
    table = Management(
        (Addressed(DefaultVolume(35), (ME,)), Addressed(DefaultVolume(99), (ELSEWHERE,)))
    )
    core.feed(stream(encode_management(table, version=0, sign=signer_at(NOW))))
    assert core.volume == 35


# -- what it refuses, counted and never acted upon ----------------------------------------


def test_other_region(core: ReceiverCore) -> None:
    assert core.feed(stream(sections((entry((ELSEWHERE,)),), content()))) == []
    assert core.counters == {"other-region": 1} and core.state(EBM) is None


def test_addressed_by_ebrid(core: ReceiverCore) -> None:
    assert states(core.feed(stream(sections((entry((ME,)),), content())))) == [
        "verified",
        "playing",
    ]


def test_wrong_signature(core: ReceiverCore) -> None:
    assert core.feed(stream(sections((entry(),), content(), signer=FORGER))) == []
    assert core.counters == {"bad-signature": 2} and core.state(EBM) is None


def test_replay_of_an_older_section(core: ReceiverCore, clock: Clock) -> None:
    original = sections((entry(),), content())
    packetiser = Packetiser(0x21)
    clock.now += 10
    core.feed(
        stream(
            sections(
                (entry(end=at(NOW + 10)),), content(Auxiliary(AUX_CANCELLED_BY, b"c")), NOW + 10
            ),
            packetiser,
        )
    )
    assert core.state(EBM) == "stopped"
    assert core.feed(stream(original, packetiser)) == []
    assert core.counters["replay"] == 2 and core.state(EBM) == "stopped"


def test_same_second_other_bytes_is_a_replay(core: ReceiverCore) -> None:
    packetiser = Packetiser(0x21)
    core.feed(stream(sections((entry(),), content()), packetiser))
    assert core.feed(stream(sections((entry(end=at(NOW + 900)),), None), packetiser)) == []
    assert core.counters == {"replay": 1}


def test_replayed_entry_from_another_index(core: ReceiverCore, clock: Clock) -> None:
    packetiser = Packetiser(0x21)
    clock.now += 10
    core.feed(stream(sections((entry(),), content(), NOW + 10), packetiser))
    old = encode_ebit(Ebit((entry(),)), version=0, sign=signer_at(NOW), extension=9)
    assert core.feed(stream(old, packetiser)) == []
    assert core.counters == {"replay": 1}


def test_stale(core: ReceiverCore, clock: Clock) -> None:
    clock.now += 3600
    assert core.feed(stream(sections((entry(),), content()))) == []
    assert core.counters == {"stale": 2}


def test_wrong_crc_and_truncated_sections(core: ReceiverCore) -> None:
    index = sections((entry(),), content())[-1]
    assert core.feed_section(index[:-1] + bytes([index[-1] ^ 0xFF])) == []
    assert core.feed_section(index[:-10]) == []
    assert core.counters == {"bad-crc": 1, "truncated": 1}


def test_truncated_datagram(core: ReceiverCore) -> None:
    data = stream(sections((entry(),), content()))
    assert core.feed_datagram(data[:-50]) == []
    assert core.counters["truncated"] == 1 and core.state(EBM) is None


def test_cc_gap(core: ReceiverCore) -> None:
    """The burst hit by the gap is dropped; the next repetition, intact, is acted on."""
    packetiser = Packetiser(0x21)
    parts = sections((entry(),), content())
    first, second = packetiser.packetise(parts), packetiser.packetise(parts)
    acks = core.feed(b"".join([first[0], *second]))  # first[1], the index's end, is lost
    assert core.counters == {"cc-gap": 1}
    assert states(acks) == ["verified", "playing"]


def test_a_flipped_bit_inside_any_section_is_refused() -> None:
    parts = sections((entry(),), content())
    for index, part in enumerate(parts):
        for bit in range(0, len(part) * 8, 7):  # every 7th bit: all fields, all bytes
            clock = Clock()
            core = ReceiverCore(ME, anchor_for_key(KEY.public_key()), clock=clock)
            damaged = bytearray(part)
            damaged[bit // 8] ^= 0x80 >> (bit % 8)
            others = [p if n != index else bytes(damaged) for n, p in enumerate(parts)]
            packetiser = Packetiser(0x21)
            assert core.feed(stream(others, packetiser)) == [], f"section {index} bit {bit}"
            # The next burst's first section ends a section whose length was damaged upwards.
            core.feed(
                stream(encode_management(Management(), version=0, sign=signer_at(NOW)), packetiser)
            )
            assert sum(core.counters.values()) >= 1, f"section {index} bit {bit}"


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_a_flipped_bit_anywhere_in_the_stream_never_changes_what_is_done(
    data: st.DataObject,
) -> None:
    """A flip outside the sections (header, stuffing) may leave them intact; otherwise the
    damaged section is refused. Either way nothing is done that the clean stream would not."""
    clean = stream(sections((entry(),), content()))
    bit = data.draw(st.integers(0, len(clean) * 8 - 1))
    damaged = bytearray(clean)
    damaged[bit // 8] ^= 0x80 >> (bit % 8)
    core = ReceiverCore(ME, anchor_for_key(KEY.public_key()), clock=Clock())
    acks = core.feed(bytes(damaged))
    assert states(acks) in ([], ["verified", "playing"])
    if not acks:
        assert sum(core.counters.values()) >= 1 or core.state(EBM) is None


def test_unknown_table_and_garbage(core: ReceiverCore) -> None:
    raw = sections((entry(),), None)[0]
    patched = bytes([0xFA]) + raw[1:-4]
    core.feed_section(patched + crc32_mpeg2(patched).to_bytes(4, "big"))
    assert core.feed(b"\x00" * 188 * 3) == []
    assert core.counters == {"unknown-table": 1, "bad-packet": 3}


def test_an_index_dropping_a_broadcast_at_its_end_means_played(
    core: ReceiverCore, clock: Clock
) -> None:
    packetiser = Packetiser(0x21)
    core.feed(stream(sections((entry(),), content()), packetiser))
    clock.now += 600  # the end time; the index drops it before the receiver's tick ran
    acks = core.feed(stream(sections((), None, NOW + 600, version=1), packetiser))
    assert states(acks) == ["played"]
