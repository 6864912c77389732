"""The 74-byte bearer signature block, its frame and CRC, and payload signing."""

from __future__ import annotations

import pytest

from protocols.codes import CertSN
from protocols.errors import BinaryFormatError
from signing.block import (
    BLOCK_LENGTH,
    SignatureBlock,
    check_payload,
    crc32_mpeg2,
    frame,
    sign_payload,
    signed_message,
    unframe,
    verify_payload,
)
from signing.errors import SignatureError, SignatureInvalid, UnknownCertificate
from signing.signer import SoftwareSigner
from signing.trust import TrustStore
from tests.unit.signing.helpers import NOW

SIGNATURE = bytes(range(64))
BLOCK = SignatureBlock(0x683C4E00, CertSN("123456789012"), SIGNATURE)
PAYLOAD = bytes.fromhex("fd b0 2a 00 01 c1 00 00".replace(" ", "")) + "暴雨".encode("gb18030")


def test_block_layout_golden_bytes() -> None:
    expected = bytes.fromhex("683C4E00") + bytes.fromhex("123456789012") + SIGNATURE
    assert BLOCK.to_bytes() == expected
    assert len(expected) == BLOCK_LENGTH == 74
    assert SignatureBlock.from_bytes(expected) == BLOCK


def test_crc32_is_the_mpeg2_variant() -> None:
    assert crc32_mpeg2(b"123456789") == 0x0376E6E7  # CRC-32/MPEG-2 check value
    assert crc32_mpeg2(b"") == 0xFFFFFFFF


def test_frame_golden_bytes() -> None:
    framed = frame(BLOCK)
    assert framed[:2] == b"\x00\x4a"
    assert framed[2:76] == BLOCK.to_bytes()
    assert framed[76:] == crc32_mpeg2(framed[:76]).to_bytes(4, "big")
    assert crc32_mpeg2(framed) == 0  # the MPEG-2 residue: data followed by its CRC checks to 0
    assert unframe(framed) == BLOCK


@pytest.mark.parametrize("index", [2, 5, 40, 75, 76, 79])
def test_frame_crc_catches_a_flipped_bit(index: int) -> None:
    damaged = bytearray(frame(BLOCK))
    damaged[index] ^= 0x10
    with pytest.raises(BinaryFormatError) as caught:
        unframe(bytes(damaged))
    assert caught.value.code == "bad-crc"


@pytest.mark.parametrize("size", [0, 79, 81])
def test_unframe_rejects_wrong_total_length(size: int) -> None:
    data = (frame(BLOCK) * 2)[:size]
    with pytest.raises(BinaryFormatError, match="80 bytes"):
        unframe(data)


def test_unframe_rejects_wrong_length_field() -> None:
    body = b"\x00\x4b" + BLOCK.to_bytes()
    with pytest.raises(BinaryFormatError, match="0x004B"):
        unframe(body + crc32_mpeg2(body).to_bytes(4, "big"))


def test_from_bytes_rejects_bad_length_and_bcd() -> None:
    with pytest.raises(BinaryFormatError, match="74 bytes"):
        SignatureBlock.from_bytes(BLOCK.to_bytes()[:-1])
    bad_sn = bytearray(BLOCK.to_bytes())
    bad_sn[4] = 0xAB
    with pytest.raises(BinaryFormatError, match="cert SN"):
        SignatureBlock.from_bytes(bytes(bad_sn))


def test_block_refuses_bad_fields() -> None:
    with pytest.raises(BinaryFormatError):
        SignatureBlock(1 << 32, CertSN("123456789012"), SIGNATURE)
    with pytest.raises(BinaryFormatError):
        SignatureBlock(0, CertSN("123456789012"), SIGNATURE[:63])


def test_signed_message_appends_big_endian_time() -> None:
    assert signed_message(b"abc", 0x01020304) == b"abc\x01\x02\x03\x04"
    with pytest.raises(SignatureError):
        signed_message(b"abc", -1)


def test_payload_signature_covers_payload_and_time(signer: SoftwareSigner) -> None:
    block = sign_payload(PAYLOAD, signer, 1_748_779_200)
    assert block.cert_sn == signer.cert_sn and block.signed_at == 1_748_779_200
    assert verify_payload(PAYLOAD, block, signer.public_key)
    assert not verify_payload(PAYLOAD + b"\x00", block, signer.public_key)
    moved = SignatureBlock(block.signed_at + 1, block.cert_sn, block.signature)
    assert not verify_payload(PAYLOAD, moved, signer.public_key)
    assert unframe(frame(block)) == block


def test_check_payload_uses_the_trust_store(signer: SoftwareSigner, trust: TrustStore) -> None:
    block = sign_payload(PAYLOAD, signer, 1_748_779_200)
    assert check_payload(PAYLOAD, block, trust, at=NOW).cert_sn == signer.cert_sn
    with pytest.raises(SignatureInvalid):
        check_payload(PAYLOAD[:-1], block, trust, at=NOW)
    stranger = SignatureBlock(block.signed_at, CertSN("999999999999"), block.signature)
    with pytest.raises(UnknownCertificate):
        check_payload(PAYLOAD, stranger, trust, at=NOW)
