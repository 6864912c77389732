"""Fixed inputs for the FM tests: a deterministic fake signer, fixed times and codes, the
golden packets, and a real SM2 signer for the receiver tests."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from protocols.codes import CertSN, RegionCode, ResourceCode
from protocols.fm import (
    Action,
    CertificateEntry,
    Certificates,
    Emergency,
    Packet,
    RdsProfile,
    Revocations,
    StatusQuery,
    Text,
    TimeSync,
    encode_packet,
    region_code,
)
from signing.block import sign_payload
from signing.signer import SoftwareSigner
from signing.sm2 import SM2PrivateKey
from terminals.mqtt_terminal import anchor_for_key

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "fm"
REGENERATE = os.environ.get("EBC_REGENERATE_GOLDEN") == "1"

SIGNED_AT = 1_748_779_200  # 2025-06-01 12:00:00 UTC
END_AT = SIGNED_AT + 3600
SN = "340000000001"
FAKE_SIGNATURE = bytes(range(0x40, 0x80))  # 64 distinct bytes: the layout shows in a dump
EBMID = "43415230000000103010101202506010001"
TERMINAL = "63415231000010314010401"  # village 001 of 城关镇, 舒城县
NEIGHBOUR = "63415231000020314010401"  # village 002: same township, other receiver
COUNTY = RegionCode("341523000000")
OTHER_COUNTY = RegionCode("341524000000")
PROFILE = RdsProfile(pi=0x3456)
TITLE = "暴雨预警"
MESSAGE = "舒城县气象台发布暴雨橙色预警，请注意防范。"


@dataclass
class FakeSigner:
    """Signs with a fixed 64 bytes and remembers what it was asked to sign."""

    signature: bytes = FAKE_SIGNATURE
    messages: list[bytes] = field(default_factory=list)

    def seal(self, signed_at: int = SIGNED_AT, serial: str = SN):  # type: ignore[no-untyped-def]
        def seal(payload: bytes) -> bytes:
            self.messages.append(payload + signed_at.to_bytes(4, "big"))
            return signed_at.to_bytes(4, "big") + CertSN(serial).to_bcd() + self.signature

        return seal


def start(**changes: object) -> Emergency:
    fields: dict[str, object] = dict(
        action=Action.START,
        ebmid=EBMID,
        event_type="11B03",
        level=2,
        frequency_khz=97_500,
        alert_id="alert-0001",
        end_unix=END_AT,
    )
    fields.update(changes)
    return Emergency(**fields)  # type: ignore[arg-type]


CODES = (ResourceCode(TERMINAL), region_code(COUNTY))

GOLDEN_PACKETS: dict[str, Packet] = {
    "type03-time-sync": Packet((), TimeSync(SIGNED_AT)),
    "type06-certificates": Packet(
        (),
        Certificates(
            (CertificateEntry(CertSN("340000000002"), bytes(range(64)), END_AT + 86_400 * 365),)
        ),
    ),
    "type07-revocations": Packet((), Revocations((CertSN("340000000003"), CertSN("340000000004")))),
    "type08-status-query": Packet((ResourceCode(TERMINAL),), StatusQuery()),
    "type11-start": Packet(CODES, start()),
    "type11-stop": Packet(CODES, start(action=Action.STOP, alert_id="alert-0002", end_unix=0)),
    "type14-drill": Packet(CODES, start(drill=True, level=4, event_type="11B25")),
    "type15-text": Packet(CODES, Text(EBMID, "zho", TITLE, MESSAGE)),
}


def golden_bytes(name: str) -> bytes:
    return encode_packet(GOLDEN_PACKETS[name], FakeSigner().seal())


def check_golden(name: str, actual: str) -> None:
    """Compare with tests/golden/fm/<name>; EBC_REGENERATE_GOLDEN=1 rewrites it instead."""
    path = GOLDEN / name
    if REGENERATE:
        path.write_text(actual, encoding="ascii")
    assert path.exists(), f"{path} is missing: run with EBC_REGENERATE_GOLDEN=1 and review it"
    assert path.read_text(encoding="ascii") == actual, f"{name} differs from the golden file"


def hex_lines(data: bytes, width: int = 32) -> str:
    return "".join(data[n : n + width].hex() + "\n" for n in range(0, len(data), width))


# -- a real signer, for the receiver ----------------------------------------------------

KEY = SM2PrivateKey.generate()
SIGNER = SoftwareSigner(KEY, SN)
OTHER_SIGNER = SoftwareSigner(SM2PrivateKey.generate(), "340000000009")


def anchors():  # type: ignore[no-untyped-def]
    return anchor_for_key(KEY.public_key(), SN)


def sign(packet: Packet, signed_at: int, signer: SoftwareSigner = SIGNER) -> bytes:
    return encode_packet(packet, lambda p: sign_payload(p, signer, signed_at).to_bytes())


def lines_of(*packets: bytes, profile: RdsProfile = PROFILE) -> list[str]:
    return profile.lines(packets)


@dataclass
class Clock:
    now: float = SIGNED_AT + 1.0

    def __call__(self) -> float:
        return self.now
