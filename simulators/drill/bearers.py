"""The drill result by bearer: each bearer's fleet, the platform's coverage of it (the status
API's ``by_bearer``, summed over the alerts), and its time to reception from the terminals' own
records; and why a broadcast receiver or legacy loudspeaker was not reached."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from simulators.drill.faults import TerminalFaults

POSITIVE = frozenset({"received", "verified", "playing", "played", "stopped"})
# Refusals that are no fault: on a broadcast bearer every receiver hears every region's alerts.
NOT_ADDRESSED = frozenset({"other-region", "out-of-region", "not-addressed"})
OFFLINE = "offline (switched off for the drill)"


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0-100): the value below which q% of samples fall."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def quantiles(values: Sequence[float]) -> dict[str, float | int | None]:
    return {
        "count": len(values),
        "p50": percentile(values, 50),
        "p90": percentile(values, 90),
        "p99": percentile(values, 99),
        "max": max(values) if values else None,
    }


def by_bearer(
    statuses: Iterable[Mapping[str, Any]],
    fleet: Mapping[str, int],
    offline: Mapping[str, int],
    times: Mapping[str, Sequence[float]],
) -> dict[str, dict[str, Any]]:
    """Bearer -> terminals in the fleet, dealt offline, targeted and reached as the platform
    recorded them over all alerts, coverage, and seconds from the intake's 202 to each
    terminal's first positive ack (as it sent it). Every bearer of the fleet has a row, even
    one the platform targeted nothing on."""
    merged: dict[str, list[int]] = {b: [0, 0] for b, n in fleet.items() if n}
    for status in statuses:
        for bearer, tally in (status.get("by_bearer") or {}).items():
            pair = merged.setdefault(bearer, [0, 0])
            pair[0] += int(tally["targeted"])
            pair[1] += int(tally["acked"])
    return {
        b: {
            "terminals": fleet.get(b, 0),
            "offline": offline.get(b, 0),
            "targeted": t,
            "acked": a,
            "coverage": round(a / t, 6) if t else 0.0,
            "time_to_ack": quantiles(list(times.get(b, ()))),
        }
        for b, (t, a) in sorted(merged.items())
    }


def why_receiver_not_reached(
    bearer: str, faults: TerminalFaults, record: Mapping[str, Any] | None, alert_id: str
) -> str:
    if faults.offline:
        return OFFLINE
    record = record or {}
    mine = [a for a in record.get("acks") or [] if a[0] == alert_id]
    if any(a[2] in POSITIVE for a in mine):
        if bearer != "legacy-ip" and not record.get("connected"):
            return f"{bearer}: heard, but its return path to the broker was down"
        return f"{bearer}: heard and acked, but the ack was not recorded by the platform"
    if any(a[2] == "rejected" for a in mine):
        return f"{bearer}: refused the broadcast"
    if bearer == "legacy-ip" and not record.get("connected"):
        return "legacy-ip: not connected to the gateway"
    refused = sorted(r for r in record.get("rejected") or {} if r not in NOT_ADDRESSED)
    if refused:
        return f"{bearer}: refused what it heard: {','.join(refused)}"
    if not record.get("heard"):
        source = "from the gateway" if bearer == "legacy-ip" else "on its input"
        return f"{bearer}: nothing received {source}"
    return f"{bearer}: heard other broadcasts, never this one"
