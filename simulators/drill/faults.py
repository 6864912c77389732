"""Fault profiles dealt to terminals, and the hostile messages a drill injects.

Faults are dealt from the scenario's seed, so the same scenario strikes the same terminals
every run. A terminal carries at most one of offline / clock skew / flapping, so the report
can say why it was not reached; ack delay applies to every IP terminal. Broadcast receivers and
legacy loudspeakers only get the offline share (``deal_receivers``): they are never started.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from google.protobuf.message import DecodeError

from protocols.terminal import terminal_pb2 as pb
from signing.block import SignatureBlock
from signing.signer import SoftwareSigner
from signing.sm2 import SM2PrivateKey
from simulators.drill.scenario import AckDelay, Faults
from terminals.envelope import seal_command

FORGED_PREFIX = "drill-forged"


@dataclass
class Injection:
    kind: str  # forged | tampered | replayed
    command_id: str
    at: float  # seconds since the drill began


class Publisher(Protocol):
    messages: list[tuple[float, str, bytes]]

    def publish(self, topic: str, payload: bytes) -> None: ...


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


def deal_receivers(faults: Faults, ebrids: Sequence[str], seed: int) -> dict[str, TerminalFaults]:
    """The offline share over the receivers, all bearers in one draw, apart from the IP draw so
    adding receivers to a scenario strikes the same IP terminals as before."""
    order = list(ebrids)
    random.Random(f"{seed}:receivers").shuffle(order)
    offline = round(len(order) * faults.offline)
    return {ebrid: TerminalFaults(offline=i < offline) for i, ebrid in enumerate(order)}


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


async def inject(observer: Publisher, faults: Faults, topic: str, t0: float,
                 injections: list[Injection]) -> str:
    """Forged, tampered and replayed commands on ``topic`` (the county's), once a genuine
    command has been seen there to copy; each is added to ``injections``. Returns the event
    to put on the drill's timeline. IP terminals only: broadcast bearers are not injected."""
    for _ in range(50):  # up to 5 s for the first genuine command
        if observer.messages:
            break
        await asyncio.sleep(0.1)
    if not observer.messages:
        return "no genuine command seen: nothing injected"
    template = observer.messages[0][2]
    batches = [("forged", faults.forged_commands), ("tampered", faults.tampered_commands),
               ("replayed", faults.replayed_commands)]
    sent = 0
    for kind, count in batches:
        for i in range(count):
            if kind == "forged":
                payload = forged(template, index=i)
            elif kind == "tampered":
                payload = tampered(template, index=i)
            else:
                payload = template
            observer.publish(topic, payload)
            injections.append(Injection(kind, command_id(payload), time.time() - t0))
            sent += 1
            await asyncio.sleep(0.05)
    return f"injected {sent} hostile commands"
