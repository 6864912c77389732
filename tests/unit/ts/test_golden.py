"""Golden bytes for every table and for the packetisation, checked twice: against the stored
files, and by the independent decoder against values written out here by hand."""

from __future__ import annotations

import pytest

from protocols.ts import (
    Packetiser,
    decode_section,
    encode_certificates,
    encode_content,
    encode_ebit,
    encode_management,
)
from tests.unit.ts import independent_decoder as ind
from tests.unit.ts.support import (
    CERT_SN,
    COUNTY_FORM,
    DRILL_ID,
    EBM_ID,
    FAKE_SIGNATURE,
    GOLDEN,
    POINT,
    SIGNED_AT,
    TERMINAL,
    fake_sign,
    golden,
    sample_certificates,
    sample_content,
    sample_ebit,
    sample_management,
)


def _one(sections: list[bytes]) -> bytes:
    assert len(sections) == 1
    return sections[0]


def _trailer_ok(sec: ind.Sec, table_id: int, version: int, extension: int) -> None:
    assert (sec.table_id, sec.version, sec.extension) == (table_id, version, extension)
    assert (sec.number, sec.last) == (0, 0)
    assert (sec.signed_at, sec.cert_sn, sec.signature) == (SIGNED_AT, CERT_SN, FAKE_SIGNATURE)


def test_ebit_golden() -> None:
    data = _one(encode_ebit(sample_ebit(), version=5, sign=fake_sign, extension=0x0012))
    assert data == golden("ebit", data)
    sec = ind.section(data)
    _trailer_ok(sec, 0xFD, 5, 0x0012)
    first, second = ind.ebit(sec.body)
    assert first == {
        "ebm_id": EBM_ID,
        "network": 1,
        "start": "2026-11-27 08:00:00",
        "end": "2026-11-27 10:30:15",
        "type": "11B03",
        "class": 4,
        "level": 2,
        "codes": [TERMINAL, COUNTY_FORM],
        "tsid": 0x0101,
        "program": 0x0203,
        "pcr": 0x0100,
        # 474 MHz = 47,400,000 x 10 Hz; 8 MHz|PN945, multi|16QAM, 0.6|720
        "descriptors": [(0x5A, "02d34440" + "03" + "23" + "22")],
        "streams": [(0x03, 0x0101)],
    }
    assert second["end"] is None and second["class"] == 3 and second["level"] == 4
    assert second["ebm_id"] == DRILL_ID and second["codes"] == [COUNTY_FORM]
    # 12.02 GHz in 10 kHz BCD, 134.0 E, east|V|roll-off 0.35|S2|8PSK, 27.5 Msym/s, FEC 3/4
    assert second["descriptors"] == [(0x43, "01202000" + "1340" + "a6" + "0275000" + "3")]
    assert second["streams"] == [(0x04, 0x0102), (0x06, 0x0103)]


def test_content_golden() -> None:
    data = _one(encode_content(sample_content(), version=1, sign=fake_sign, extension=7))
    assert data == golden("content", data)
    sec = ind.section(data)
    _trailer_ok(sec, 0xFE, 1, 7)
    found = ind.content(sec.body)
    assert found["ebm_id"] == EBM_ID
    assert [t[0] for t in found["texts"]] == ["zho", "uig", "bod", "eng"]
    assert found["texts"][0] == (
        "zho",
        "暴雨红色预警",
        "请立即转移到安全地带。",
        "舒城县应急管理局",
    )
    assert found["texts"][2][1] == "ཆར་པ་དྲག་པོའི་ཉེན་བརྡ།"
    assert found["aux"] == [(0xF0, b"alert-0001"), (61, b"udp://239.1.1.1:5000")]
    # Mandarin in GB18030 is two bytes a character: 暴 is B1A9.
    assert "b1a9" in sec.body.hex()


def test_certificate_golden() -> None:
    data = _one(encode_certificates(sample_certificates(), version=0, sign=fake_sign))
    assert data == golden("certificate", data)
    sec = ind.section(data)
    _trailer_ok(sec, 0xFC, 0, 0)
    assert ind.certificates(sec.body) == [
        (CERT_SN, False, None, POINT),
        ("340000000002", True, "2026-11-27 10:30:15", POINT),
    ]


def test_management_golden() -> None:
    data = _one(encode_management(sample_management(), version=2, sign=fake_sign))
    assert data == golden("management", data)
    sec = ind.section(data)
    _trailer_ok(sec, 0xFB, 2, 0)
    commands = ind.management(sec.body)
    assert [c[0] for c in commands] == [1, 2, 3, 4, 5, 6, 7]
    assert ind.utc(commands[0][2]) == "2026-11-27 08:00:00"
    assert commands[1][2] == bytes.fromhex("060011223344aa") + bytes.fromhex("f" + TERMINAL)
    assert commands[2][1] == [COUNTY_FORM]
    assert commands[2][2].hex() == "44" + "0b" + "02590000" + "fff2" + "03" + "0068750" + "f"
    assert commands[3][2] == b"\x02\x0810.0.0.1" + (8080).to_bytes(2, "big")
    assert commands[4][2] == (3600).to_bytes(4, "big")
    assert (commands[5][1], commands[5][2]) == ([TERMINAL], bytes([80]))
    assert commands[6] == (7, [], b"\xff")


def test_packetisation_golden() -> None:
    sections = encode_ebit(sample_ebit(), version=5, sign=fake_sign, extension=0x0012)
    sections += encode_content(sample_content(), version=1, sign=fake_sign, extension=7)
    packets = Packetiser(0x21).packetise(sections)
    stream = b"".join(packets)
    assert stream == golden("ebit_content_pid0021.ts", stream)
    assert ind.packets(stream, 0x21) == sections
    assert [p[3] & 0x0F for p in packets] == list(range(len(packets)))
    # the content section starts mid-packet: that packet has PUSI and a non-zero pointer
    second_start = len(sections[0]) // 183
    assert packets[second_start][1] & 0x40 and packets[second_start][4] > 0


@pytest.mark.parametrize("name", ["ebit", "content", "certificate", "management"])
def test_golden_sections_decode_with_the_real_decoder(name: str) -> None:
    raw = bytes.fromhex((GOLDEN / f"{name}.hex").read_text(encoding="ascii").replace("\n", ""))
    section, table = decode_section(raw)
    assert section.signature.signed_at == SIGNED_AT
    expected = {
        "ebit": sample_ebit,
        "content": sample_content,
        "certificate": sample_certificates,
        "management": sample_management,
    }[name]()
    assert table == expected
    assert ind.section(raw).signed_part == section.payload
