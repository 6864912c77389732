"""The drill's result: a JSON-ready dict built from what the runner observed, and its
terminal summary. The HTML report and plots are in simulators.drill.html."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from dispatcher.domain.regions import region_table
from simulators.drill.faults import TerminalFaults

if TYPE_CHECKING:
    from simulators.drill.runner import Observed

POSITIVE = frozenset({"received", "verified", "playing", "played", "stopped"})
NOT_REACHED_LISTED = 1000


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0-100): the value below which q% of samples fall."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def quantiles(values: Sequence[float]) -> dict[str, float | int | None]:
    return {"count": len(values), "p50": percentile(values, 50), "p90": percentile(values, 90),
            "p99": percentile(values, 99), "max": max(values) if values else None}


def _first_positive(acks: Iterable[Sequence[Any]], alert_id: str) -> float | None:
    times = [a[3] for a in acks if a[0] == alert_id and a[2] in POSITIVE]
    return min(times) if times else None


def _milestones(timeline: Sequence[tuple[float, dict[str, int]]], alert_id: str,
                targeted: int, offset: float) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for label, share in (("50%", 0.5), ("99%", 0.99), ("100%", 1.0)):
        need = math.ceil(share * targeted) if targeted else 1
        hit = next((t for t, counts in timeline if counts.get(alert_id, 0) >= need), None)
        out[label] = round(hit - offset, 3) if hit is not None else None
    return out


def why_not_reached(faults: TerminalFaults, record: dict[str, Any] | None,
                    alert_id: str) -> str:
    if faults.offline:
        return "offline (switched off for the drill)"
    record = record or {}
    refused = record.get("rejected") or {}
    acks = record.get("acks") or []
    mine = [a for a in acks if a[0] == alert_id]
    said = sorted({a[4] for a in mine if a[2] == "rejected" and len(a) > 4 and a[4]})
    if faults.skew:
        return f"clock skew {faults.skew:+d}s: " + (
            f"refused as {','.join(said)}" if said else "no answer")
    if any(a[2] == "rejected" for a in mine):
        return "refused: " + (",".join(said) or ",".join(sorted(refused)) or "no reason given")
    if any(a[2] in POSITIVE for a in mine):
        return "acked, but the ack was not recorded by the platform"
    if faults.flapping:
        return "flapping connection"
    if not record.get("connected") and not record.get("received"):
        return "not connected to the broker"
    if not record.get("received"):
        return "the command never arrived"
    return "received, no ack"


def _townships(statuses: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    table = region_table()
    merged: dict[str, list[int]] = {}
    for status in statuses:
        for code, tally in (status.get("by_region") or {}).items():
            pair = merged.setdefault(code, [0, 0])
            pair[0] += int(tally["targeted"])
            pair[1] += int(tally["acked"])
    out = {}
    for code, (targeted, acked) in sorted(merged.items()):
        try:
            name = table.get(code.ljust(12, "0")).name or ""
        except Exception:  # a code the table does not know still gets its row
            name = ""
        out[code] = {"name": name, "targeted": targeted, "acked": acked,
                     "coverage": round(acked / targeted, 6) if targeted else 0.0}
    return out


def _bearers(statuses: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    merged: dict[str, list[int]] = {}
    for status in statuses:
        for bearer, tally in (status.get("by_bearer") or {}).items():
            pair = merged.setdefault(bearer, [0, 0])
            pair[0] += int(tally["targeted"])
            pair[1] += int(tally["acked"])
    return {b: {"targeted": t, "acked": a, "coverage": round(a / t, 6) if t else 0.0}
            for b, (t, a) in sorted(merged.items())}


def _hostile(seen: Observed) -> dict[str, Any]:
    forged_ids = {i.command_id for i in seen.injections if i.kind in ("forged", "tampered")}
    refused = accepted = 0
    reasons: Counter[str] = Counter()
    for record in seen.records.values():
        for _alert, command_id, state, *_ in record["acks"]:
            if command_id in forged_ids:
                if state == "rejected":
                    refused += 1
                elif state in POSITIVE:
                    accepted += 1
        for reason, count in record["rejected"].items():
            if reason in ("forged", "malformed", "replay", "unknown-certificate"):
                reasons[reason] += count
    genuine = set(seen.genuine.values())
    replays = sum(i.kind == "replayed" for i in seen.injections)
    accepted_again = sum(
        1 for r in seen.records.values()
        if sum(1 for a in r["acks"] if a[1] in genuine and a[2] == "verified") > 1
    ) if replays else 0
    return {
        "injected": {k: sum(i.kind == k for i in seen.injections)
                     for k in ("forged", "tampered", "replayed")},
        "deliveries": refused + accepted,
        "refused": refused,
        "accepted": accepted,
        "refused_by_reason": dict(reasons),
        "replays_ignored": sum(r["duplicates"] for r in seen.records.values()) if replays else 0,
        "replays_accepted": accepted_again,
    }


def build_result(seen: Observed) -> dict[str, Any]:
    scenario = seen.scenario
    alerts: list[dict[str, Any]] = []
    all_times: list[float] = []
    not_reached: list[dict[str, str]] = []
    reasons: Counter[str] = Counter()
    for n, accepted in enumerate(seen.accepted):
        status = seen.statuses.get(accepted.alert_id, {})
        times = []
        for record in seen.records.values():
            first = _first_positive(record["acks"], accepted.alert_id)
            if first is not None:
                times.append(round(first - accepted.accepted_at, 4))
        all_times += times
        targeted = int(status.get("targeted", 0))
        missing = list(status.get("not_reached") or [])
        for ebrid in missing:
            why = why_not_reached(seen.plan.get(ebrid, TerminalFaults()),
                                  seen.records.get(ebrid), accepted.alert_id)
            reasons[why] += 1
            if len(not_reached) < NOT_REACHED_LISTED:
                not_reached.append({"alert": str(n), "ebrid": ebrid, "reason": why})
        alerts.append({
            "index": n,
            "alert_id": accepted.alert_id,
            "identifier": accepted.identifier,
            "accepted_at": accepted.accepted_at - seen.t0,
            "intake_seconds": round(accepted.accepted_at - accepted.posted_at, 4),
            "state": status.get("state"),
            "targeted": targeted,
            "acked": int(status.get("acked", 0)),
            "coverage": float(status.get("coverage", 0.0)),
            "refused": len(status.get("refused") or []),
            "not_reached": targeted - int(status.get("acked", 0)),
            "time_to_ack": quantiles(times),
            "platform_recorded": _milestones(seen.timeline, accepted.alert_id, targeted,
                                             accepted.accepted_at - seen.t0),
            "ack_times": sorted(times),
        })
    targeted = sum(a["targeted"] for a in alerts)
    acked = sum(a["acked"] for a in alerts)
    coverage = round(acked / targeted, 6) if targeted else 0.0
    time_to_ack = quantiles(all_times)
    failures = []
    if coverage < scenario.passing.coverage:
        failures.append(f"coverage {coverage:.2%} below {scenario.passing.coverage:.2%}")
    limit = scenario.passing.p99_seconds
    p99 = time_to_ack["p99"]
    if limit is not None and (p99 is None or float(p99) > limit):
        failures.append(f"p99 time to ack {p99} s above {limit} s")
    plan = seen.plan.values()
    return {
        "id": seen.drill_id,
        "name": scenario.name,
        "kind": "manual",
        "started_at": seen.started_at.isoformat(),
        "finished_at": seen.finished_at.isoformat() if seen.finished_at else None,
        "platform": {"dir": str(seen.settings.dir), "ebrid": seen.settings.ebrid,
                     "region": seen.settings.region, "broker": seen.broker},
        "terminals": len(seen.terminals),
        "processes": scenario.processes(),
        "connect_seconds": round(seen.connect_seconds, 2),
        "faults": {
            "offline": sum(f.offline for f in plan),
            "clock_skew": sum(bool(f.skew) for f in plan),
            "flapping": sum(f.flapping for f in plan),
            "ack_delay": scenario.faults.ack_delay.distribution,
            "broker_restart": scenario.faults.broker_restart is not None,
        },
        "targeted": targeted,
        "acked": acked,
        "coverage": coverage,
        "by_bearer": _bearers(seen.statuses.values()),
        "by_township": _townships(seen.statuses.values()),
        "time_to_ack": time_to_ack,
        "alerts": alerts,
        "not_reached": {"count": targeted - acked, "by_reason": dict(reasons.most_common()),
                        "terminals": not_reached},
        "forgeries": _hostile(seen),
        "events": [[round(t, 3), what] for t, what in seen.events],
        "timeline": [[round(t, 3), counts] for t, counts in seen.timeline],
        "passed": not failures,
        "failures": failures,
    }


def _fmt(value: object) -> str:
    return "-" if value is None else f"{float(value):.3f}s"  # type: ignore[arg-type]


def summary_lines(result: dict[str, Any]) -> list[str]:
    t = result["time_to_ack"]
    verdict = "PASSED" if result["passed"] else "FAILED: " + "; ".join(result["failures"])
    lines = [
        f"drill {result['id']} {result['name']!r}: {verdict}",
        f"  {result['terminals']} terminals on {result['platform']['broker']}, "
        f"connected in {result['connect_seconds']}s",
        f"  coverage {result['coverage']:.2%} ({result['acked']}/{result['targeted']})",
        f"  time to ack  p50 {_fmt(t['p50'])}  p90 {_fmt(t['p90'])}  p99 {_fmt(t['p99'])}  "
        f"max {_fmt(t['max'])}  ({t['count']} acks)",
    ]
    for alert in result["alerts"]:
        rec = alert["platform_recorded"]
        lines.append(
            f"  alert {alert['index']} {alert['alert_id'][:12]} {alert['state']}: "
            f"{alert['acked']}/{alert['targeted']}, recorded 50% {_fmt(rec['50%'])} "
            f"99% {_fmt(rec['99%'])} 100% {_fmt(rec['100%'])}, intake {alert['intake_seconds']}s")
    for bearer, tally in result["by_bearer"].items():
        lines.append(f"  bearer {bearer}: {tally['acked']}/{tally['targeted']} "
                     f"({tally['coverage']:.2%})")
    worst = sorted(result["by_township"].items(), key=lambda kv: kv[1]["coverage"])[:5]
    if worst:
        lines.append("  lowest townships: " + ", ".join(
            f"{v['name'] or k} {v['coverage']:.1%}" for k, v in worst))
    nr = result["not_reached"]
    lines.append(f"  not reached: {nr['count']}")
    for reason, count in nr["by_reason"].items():
        lines.append(f"    {count:>6}  {reason}")
    f = result["forgeries"]
    if any(f["injected"].values()):
        lines.append(
            f"  forgeries refused: {f['refused']}/{f['deliveries']} deliveries of "
            f"{f['injected']['forged']} forged + {f['injected']['tampered']} tampered commands "
            f"({f['accepted']} accepted); replays: {f['injected']['replayed']} sent, "
            f"{f['replays_ignored']} ignored as duplicates, {f['replays_accepted']} accepted")
    return lines
