"""Fixed inputs the TS tests share: a deterministic fake signer and one sample of each table."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from protocols.ts import (
    AUX_ALERT_ID,
    AUX_STREAM,
    Addressed,
    Auxiliary,
    CableDelivery,
    CertificateItem,
    Certificates,
    Clock,
    Content,
    DefaultVolume,
    DetailsChannel,
    DtmbDelivery,
    Ebit,
    EbmEntry,
    ElementaryStream,
    LanguageText,
    LockFrequency,
    Management,
    ReturnPath,
    ReturnPeriod,
    SatelliteDelivery,
    SetResourceCode,
    StatusQuery,
)

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "ts"
UPDATE = os.environ.get("EBC_UPDATE_GOLDEN") == "1"

SIGNED_AT = 1_795_737_600  # 2026-11-27 00:00:00 UTC
CERT_SN = "340000000001"
FAKE_SIGNATURE = bytes(range(0x40, 0x80))
EBM_ID = "43415230000000103010101202611270001"
DRILL_ID = "43415230000000103010101202611270002"
TERMINAL = "63415231000010303010401"
COUNTY_FORM = "43415230000000303000400"
START = dt.datetime(2026, 11, 27, 8, 0, 0, tzinfo=dt.UTC)
END = dt.datetime(2026, 11, 27, 10, 30, 15, tzinfo=dt.UTC)
# The SM2 public point of the private scalar 1 (the curve's generator G).
POINT = bytes.fromhex(
    "32c4ae2c1f1981195f9904466a39c9948fe30bbff2660be1715a4589334c74c7"
    "bc3736a2f4f6779c59bdcee36b692153d0a9877cc62a474002df32e52139f0a0"
)


def fake_sign(payload: bytes) -> bytes:
    """The 74-byte block a signer would return, with a fixed time and fixed r||s."""
    return SIGNED_AT.to_bytes(4, "big") + bytes.fromhex(CERT_SN) + FAKE_SIGNATURE


def sample_ebit() -> Ebit:
    dtmb = DetailsChannel(
        transport_stream_id=0x0101,
        program_number=0x0203,
        pcr_pid=0x0100,
        delivery=(DtmbDelivery(474_000_000),),
        streams=(ElementaryStream(0x03, 0x0101),),
    )
    sat = DetailsChannel(
        transport_stream_id=7,
        program_number=9,
        pcr_pid=0x1FFF,
        delivery=(SatelliteDelivery(12_020_000_000, 1340, polarization="V"),),
        streams=(ElementaryStream(0x04, 0x0102), ElementaryStream(0x06, 0x0103)),
    )
    return Ebit(
        (
            EbmEntry(EBM_ID, "11B03", 4, 2, (TERMINAL, COUNTY_FORM), START, END, dtmb, 0x0001),
            EbmEntry(DRILL_ID, "11B09", 3, 4, (COUNTY_FORM,), START, None, sat, 0x0002),
        )
    )


def sample_content() -> Content:
    return Content(
        EBM_ID,
        (
            LanguageText("zho", "暴雨红色预警", "请立即转移到安全地带。", "舒城县应急管理局"),
            LanguageText(
                "uig", "قاتتىق يامغۇر ئاگاھلاندۇرۇشى", "دەرھال بىخەتەر جايغا يۆتكىلىڭ.", ""
            ),
            LanguageText("bod", "ཆར་པ་དྲག་པོའི་ཉེན་བརྡ།", "མྱུར་དུ་བདེ་འཇགས་ས་ཁུལ་དུ་སྤོ།", ""),
            LanguageText(
                "eng", "Rainstorm red warning", "Move to safety now.", "Shucheng EMA", "GB2312"
            ),
        ),
        (
            Auxiliary(AUX_ALERT_ID, b"alert-0001"),
            Auxiliary(AUX_STREAM, b"udp://239.1.1.1:5000"),
        ),
    )


def sample_certificates() -> Certificates:
    return Certificates(
        (
            CertificateItem(CERT_SN, POINT, None, False),
            CertificateItem("340000000002", POINT, END, True),
        )
    )


def sample_management() -> Management:
    return Management(
        (
            Addressed(Clock(START)),
            Addressed(SetResourceCode(bytes.fromhex("0011223344aa"), TERMINAL)),
            Addressed(
                LockFrequency(CableDelivery(259_000_000, "64QAM", 6_875_000)), (COUNTY_FORM,)
            ),
            Addressed(ReturnPath("ipv4", "10.0.0.1", 8080), (TERMINAL,)),
            Addressed(ReturnPeriod(3600)),
            Addressed(DefaultVolume(80), (TERMINAL,)),
            Addressed(StatusQuery()),
        )
    )


def to_hex(data: bytes) -> str:
    return "".join(data[i : i + 32].hex() + "\n" for i in range(0, len(data), 32))


def golden(name: str, data: bytes) -> bytes:
    """The stored bytes of ``name`` (hex text); EBC_UPDATE_GOLDEN=1 rewrites them first."""
    path = GOLDEN / f"{name}.hex"
    if UPDATE:
        path.write_text(to_hex(data), encoding="ascii")
    return bytes.fromhex(path.read_text(encoding="ascii").replace("\n", ""))
