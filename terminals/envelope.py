"""Signed terminal commands: build on the platform, verify on the terminal.

The signature block is GY/T 389's bearer block (UTC seconds + certificate serial + SM2 r||s)
over the serialised Command followed by the 4-byte time, so one verifier serves every bearer.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum

from google.protobuf.message import DecodeError

from protocols.errors import BinaryFormatError
from protocols.terminal import terminal_pb2 as pb
from signing import sm2
from signing.block import SignatureBlock, signed_message
from signing.errors import SignatureError
from signing.freshness import check_fresh
from signing.signer import Signer
from signing.trust import TrustStore


class Rejection(StrEnum):
    """Why a terminal refused a command; reported in the ack's ``reason``."""

    MALFORMED = "malformed"
    UNKNOWN_CERTIFICATE = "unknown-certificate"
    REVOKED = "certificate-revoked"
    FORGED = "forged"
    STALE = "stale"
    REPLAY = "replay"
    OUT_OF_REGION = "out-of-region"
    NOT_ADDRESSED = "not-addressed"


class CommandRejected(ValueError):
    def __init__(self, reason: Rejection, detail: str, command: pb.Command | None = None) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail
        self.command = command


def seal_command(command: pb.Command, signer: Signer, *, signed_at: int) -> bytes:
    body = command.SerializeToString(deterministic=True)
    block = SignatureBlock(signed_at, signer.cert_sn, signer.sign(signed_message(body, signed_at)))
    envelope = pb.SignedCommand(command=body, signature_block=block.to_bytes())
    sealed: bytes = envelope.SerializeToString(deterministic=True)
    return sealed


@dataclass(frozen=True)
class VerifiedCommand:
    command: pb.Command
    signed_at: int
    cert_sn: str
    # SHA-256 of the whole payload, for the replay memory; empty when the opener left it out.
    digest: bytes = b""


def open_command(
    payload: bytes, anchors: TrustStore, *, now: int, window: int = 300, future_skew: int = 60
) -> VerifiedCommand:
    """Decode and verify; CommandRejected says why not (the command is attached when readable)."""
    try:
        envelope = pb.SignedCommand.FromString(payload)
        command = pb.Command.FromString(envelope.command)
        block = SignatureBlock.from_bytes(envelope.signature_block)
    except (DecodeError, BinaryFormatError, SignatureError, ValueError) as exc:
        raise CommandRejected(Rejection.MALFORMED, f"undecodable command: {exc}") from exc
    try:
        entry = anchors.get(block.cert_sn)
    except SignatureError as exc:
        raise CommandRejected(Rejection.UNKNOWN_CERTIFICATE, str(exc), command) from exc
    if entry.revoked:
        raise CommandRejected(Rejection.REVOKED, f"certificate {block.cert_sn} is revoked", command)
    if not sm2.verify(
        entry.public_key, signed_message(envelope.command, block.signed_at), block.signature
    ):
        raise CommandRejected(Rejection.FORGED, "the signature does not match", command)
    try:
        check_fresh(block.signed_at, now, window=window, future_skew=future_skew)
    except SignatureError as exc:
        raise CommandRejected(Rejection.STALE, str(exc), command) from exc
    return VerifiedCommand(
        command, block.signed_at, block.cert_sn.value, hashlib.sha256(payload).digest()
    )
