"""Fault dealing and the hostile commands: forged and tampered bytes must fail verification."""

from __future__ import annotations

import random
import time

import pytest

from protocols.terminal import terminal_pb2 as pb
from signing.signer import SoftwareSigner
from signing.sm2 import SM2PrivateKey
from simulators.drill.faults import (
    FORGED_PREFIX,
    command_id,
    deal,
    forged,
    genuine_commands,
    sample_delay,
    tampered,
)
from simulators.drill.scenario import AckDelay, Faults
from simulators.fleet import fleet_ebrids
from terminals.envelope import CommandRejected, Rejection, open_command, seal_command
from terminals.mqtt_terminal import anchor_for_key

EBRIDS = fleet_ebrids("341523", 200)


def test_faults_are_dealt_by_share_disjoint_and_repeatable() -> None:
    faults = Faults.model_validate({
        "offline": 0.1, "clock_skew": {"share": 0.05, "seconds": 900},
        "flapping": {"share": 0.2}, "ack_delay": {"distribution": "fixed", "mean": 0.3}})
    plan = deal(faults, EBRIDS, seed=7)
    assert plan == deal(faults, EBRIDS, seed=7)
    assert plan != deal(faults, EBRIDS, seed=8)
    assert sum(f.offline for f in plan.values()) == 20
    assert sum(bool(f.skew) for f in plan.values()) == 10
    assert sum(f.flapping for f in plan.values()) == 40
    assert all(f.offline + bool(f.skew) + f.flapping <= 1 for f in plan.values())
    assert {f.ack_delay for f in plan.values()} == {0.3}


def test_shares_that_exceed_the_fleet_are_refused() -> None:
    with pytest.raises(ValueError, match="exceed the fleet"):
        deal(Faults.model_validate({"offline": 0.7, "flapping": {"share": 0.5}}), EBRIDS, seed=1)


@pytest.mark.parametrize("distribution", ["uniform", "exponential", "lognormal", "fixed"])
def test_delays_stay_within_bounds(distribution: str) -> None:
    spec = AckDelay.model_validate(
        {"distribution": distribution, "mean": 0.5, "min": 0.1, "max": 1.0})
    rng = random.Random(1)
    values = [sample_delay(spec, rng) for _ in range(500)]
    assert all(0.1 <= v <= 1.0 for v in values)
    assert sample_delay(AckDelay(), rng) == 0.0


def _genuine() -> tuple[bytes, SoftwareSigner]:
    signer = SoftwareSigner(SM2PrivateKey.generate(), "100000000001")
    command = pb.Command(command_id="task-1-abc", issuer_ebrid="43415230000000103010101",
                         issued_unix=int(time.time()))
    command.start.alert_id = "a" * 32
    command.start.ebmid = "e1"
    command.start.texts.add(language="zho", title="演练", body="body")
    command.start.regions.append("341523000000")
    return seal_command(command, signer, signed_at=int(time.time())), signer


def test_forged_and_tampered_commands_fail_verification_the_genuine_passes() -> None:
    genuine, signer = _genuine()
    anchors = anchor_for_key(signer.public_key, "100000000001")
    now = int(time.time())
    assert open_command(genuine, anchors, now=now).command.command_id == "task-1-abc"
    for payload in (forged(genuine, index=0), tampered(genuine, index=0)):
        assert command_id(payload).startswith(FORGED_PREFIX)
        with pytest.raises(CommandRejected) as caught:
            open_command(payload, anchors, now=now)
        assert caught.value.reason is Rejection.FORGED
    found = genuine_commands([genuine, forged(genuine, index=1), b"junk"])
    assert found == {"a" * 32: "task-1-abc"}
