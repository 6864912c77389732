"""Golden bytes for every FM packet type and the RDS group text, read back by protocols.fm and
by the independent decoder. Regenerate after a deliberate change with EBC_REGENERATE_GOLDEN=1
and review the diff: these files are the wire format."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from protocols.fm import (
    PacketType,
    SignedPacket,
    crc32_mpeg2,
    decode_lines,
    decode_packet,
    encode_packet,
)
from signing.block import SignatureBlock, verify_payload
from tests.unit.fm import independent_decoder as independent
from tests.unit.fm.support import (
    EBMID,
    END_AT,
    FAKE_SIGNATURE,
    GOLDEN,
    GOLDEN_PACKETS,
    MESSAGE,
    PROFILE,
    SIGNED_AT,
    SIGNER,
    SN,
    TITLE,
    FakeSigner,
    check_golden,
    golden_bytes,
    hex_lines,
    sign,
)

DOC = Path(__file__).resolve().parents[3] / "docs" / "fm-rds.md"
NAMES = sorted(GOLDEN_PACKETS)


def golden_file(name: str) -> bytes:
    return bytes.fromhex((GOLDEN / f"{name}.hex").read_text(encoding="ascii").replace("\n", ""))


@pytest.mark.parametrize("name", NAMES)
def test_packet_bytes_match_the_golden_file(name: str) -> None:
    check_golden(f"{name}.hex", hex_lines(golden_bytes(name)))


@pytest.mark.parametrize("name", NAMES)
def test_golden_bytes_decode_to_the_packet(name: str) -> None:
    decoded = decode_packet(golden_file(name))
    assert decoded.packet == GOLDEN_PACKETS[name]
    assert (decoded.seal.signed_at, decoded.seal.cert_sn.value) == (SIGNED_AT, SN)


@pytest.mark.parametrize("name", NAMES)
def test_the_independent_decoder_reads_the_golden_bytes(name: str) -> None:
    raw = independent.parse_packet(golden_file(name))
    packet = GOLDEN_PACKETS[name]
    assert raw.packet_type == packet.packet_type
    assert raw.codes == [code.value for code in packet.codes]
    assert (raw.signed_at, raw.cert_sn, raw.signature) == (SIGNED_AT, SN, FAKE_SIGNATURE)


@pytest.mark.parametrize("name", NAMES)
def test_the_signed_bytes_are_the_packet_before_the_block_then_the_time(name: str) -> None:
    signer = FakeSigner()
    data = encode_packet(GOLDEN_PACKETS[name], signer.seal())
    assert signer.messages == [independent.parse_packet(data).signed_bytes]
    assert signer.messages[0] == data[:-78] + SIGNED_AT.to_bytes(4, "big")


def test_the_independent_decoder_reads_the_start_and_stop_fields() -> None:
    start = independent.parse_emergency(independent.parse_packet(golden_file("type11-start")).body)
    assert start == {
        "action": 1,
        "switch": 0,
        "level": 2,
        "event_type": "11B03",
        "ebmid": EBMID,
        "frequency_khz": 97_500,
        "alert_id": "alert-0001",
        "end": END_AT,
    }
    stop = independent.parse_emergency(independent.parse_packet(golden_file("type11-stop")).body)
    assert (stop["action"], stop["alert_id"], "end" in stop) == (2, "alert-0002", False)
    drill = independent.parse_packet(golden_file("type14-drill"))
    assert drill.packet_type == PacketType.DRILL == 14
    assert independent.parse_emergency(drill.body)["event_type"] == "11B25"


def test_the_independent_decoder_reads_the_text() -> None:
    raw = independent.parse_packet(golden_file("type15-text"))
    assert independent.parse_text(raw.body) == {
        "ebmid": EBMID,
        "language": "zho",
        "part": 0,
        "parts": 1,
        "title": TITLE,
        "text": MESSAGE,
    }
    assert MESSAGE.encode("gb18030") in raw.body


def carousel_lines() -> list[str]:
    names = ("type03-time-sync", "type11-start", "type15-text")
    return PROFILE.lines([golden_bytes(name) for name in names])


def test_rds_group_text_matches_the_golden_file() -> None:
    check_golden("carousel.rds", "".join(f"{line}\n" for line in carousel_lines()))


def test_the_independent_decoder_reassembles_the_golden_group_text() -> None:
    lines = (GOLDEN / "carousel.rds").read_text(encoding="ascii").splitlines()
    assert lines[0] == "3456 3016 0001 EBC1"  # 3A: data in 11A, mapping version 1, AID EBC1
    packets = independent.reassemble(lines, pi=0x3456)
    assert packets == [golden_file(n) for n in ("type03-time-sync", "type11-start", "type15-text")]
    decoded = decode_lines(lines, pi=0x3456)
    assert all(isinstance(d, SignedPacket) for d in decoded)
    assert [d.raw for d in decoded if isinstance(d, SignedPacket)] == packets


def test_the_worked_example_in_the_docs_is_what_the_code_writes() -> None:
    """docs/fm-rds.md quotes a status query packet and its groups: they must not drift."""
    text = DOC.read_text(encoding="utf-8")
    packet = re.search(r"<!-- example:packet -->\n```\n(.*?)```", text, re.S)
    groups = re.search(r"<!-- example:groups -->\n```\n(.*?)```", text, re.S)
    assert packet and groups, "the markers of the worked example are missing from the doc"
    data = golden_bytes("type08-status-query")
    assert bytes.fromhex(re.sub(r"\s|#[^\n]*", "", packet.group(1))) == data
    assert groups.group(1).splitlines() == PROFILE.lines([data])


def test_both_crc_routines_give_the_check_value() -> None:
    assert crc32_mpeg2(b"123456789") == independent.crc32_mpeg2(b"123456789") == 0x0376E6E7


def test_a_real_sm2_signature_verifies_over_the_decoded_payload() -> None:
    data = sign(GOLDEN_PACKETS["type11-start"], SIGNED_AT)
    decoded = decode_packet(data)
    block = SignatureBlock.from_bytes(decoded.block)
    assert verify_payload(decoded.payload, block, SIGNER.public_key)
    assert not verify_payload(decoded.payload[:-1] + b"\x00", block, SIGNER.public_key)
