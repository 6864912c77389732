"""Fault profiles dealt to terminals, and the hostile messages a drill injects.

Faults are dealt from the scenario's seed, so the same scenario strikes the same terminals
every run. A terminal carries at most one of offline / clock skew / flapping, so the report
can say why it was not reached; ack delay applies to everyone.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from google.protobuf.message import DecodeError

from protocols.terminal import terminal_pb2 as pb
from signing.block import SignatureBlock
from signing.signer import SoftwareSigner
from signing.sm2 import SM2PrivateKey
from simulators.drill.scenario import AckDelay, Faults
from terminals.envelope import seal_command

FORGED_PREFIX = "drill-forged"


@dataclass(frozen=True)
class TerminalFaults:
    offline: bool = False
    skew: int = 0
    flapping: bool = False
    ack_delay: float = 0.0


def sample_delay(spec: AckDelay, rng: random.Random) -> float:
    if spec.distribution == "none":
        return 0.0
    if spec.distribution == "fixed":
        value = spec.mean
    elif spec.distribution == "uniform":
        value = rng.uniform(spec.min, spec.max)
    elif spec.distribution == "exponential":
        value = spec.min + rng.expovariate(1 / spec.mean) if spec.mean > 0 else spec.min
    else:  # lognormal with the given mean and a sigma of 1: a long tail, as field links have
        value = rng.lognormvariate(0.0, 1.0) * spec.mean / 1.6487 if spec.mean > 0 else 0.0
    return max(spec.min, min(spec.max, value))


def deal(faults: Faults, ebrids: Sequence[str], seed: int) -> dict[str, TerminalFaults]:
    rng = random.Random(seed)
    order = list(ebrids)
    rng.shuffle(order)
    n = len(order)
    offline = round(n * faults.offline)
    skewed = round(n * faults.clock_skew.share)
    flapping = round(n * faults.flapping.share)
    if offline + skewed + flapping > n:
        raise ValueError("faults: offline + clock_skew.share + flapping.share exceed the fleet")
    plan: dict[str, TerminalFaults] = {}
    for i, ebrid in enumerate(order):
        plan[ebrid] = TerminalFaults(
            offline=i < offline,
            skew=faults.clock_skew.seconds if offline <= i < offline + skewed else 0,
            flapping=offline + skewed <= i < offline + skewed + flapping,
            ack_delay=sample_delay(faults.ack_delay, rng),
        )
    return plan


def forged(template: bytes, *, index: int) -> bytes:
    """A command in the platform's name signed by a key nobody trusts: the attacker's own."""
    envelope = pb.SignedCommand.FromString(template)
    command = pb.Command.FromString(envelope.command)
    block = SignatureBlock.from_bytes(envelope.signature_block)
    command.command_id = f"{FORGED_PREFIX}-{index}-{uuid.uuid4().hex[:8]}"
    command.start.alert_id = f"{FORGED_PREFIX}-{index}"
    command.start.texts[0].title = "【伪造】虚假警报"
    attacker = SoftwareSigner(SM2PrivateKey.generate(), block.cert_sn)
    return seal_command(command, attacker, signed_at=block.signed_at)


def tampered(template: bytes, *, index: int) -> bytes:
    """A genuine command with its text changed in transit and the signature kept."""
    envelope = pb.SignedCommand.FromString(template)
    command = pb.Command.FromString(envelope.command)
    command.command_id = f"{FORGED_PREFIX}-tampered-{index}"
    command.start.alert_id = f"{FORGED_PREFIX}-tampered-{index}"
    if command.start.texts:
        command.start.texts[0].body = "撤离！这是篡改的内容。"
    envelope.command = command.SerializeToString(deterministic=True)
    out: bytes = envelope.SerializeToString(deterministic=True)
    return out


def command_id(payload: bytes) -> str:
    envelope = pb.SignedCommand.FromString(payload)
    return str(pb.Command.FromString(envelope.command).command_id)


def genuine_commands(payloads: Iterable[bytes]) -> dict[str, str]:
    """Alert id -> command id of the platform's own broadcasts among ``payloads``."""
    found: dict[str, str] = {}
    for payload in payloads:
        try:
            command = pb.Command.FromString(pb.SignedCommand.FromString(payload).command)
        except DecodeError:
            continue
        if command.command_id.startswith(FORGED_PREFIX) or not command.start.alert_id:
            continue
        found.setdefault(command.start.alert_id, command.command_id)
    return found
