"""The drill's result: a JSON-ready dict built from what the runner observed, and its
terminal summary. The HTML report and plots are in simulators.drill.html."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from dispatcher.domain.regions import region_table
from simulators.drill.bearers import (
    OFFLINE,
    POSITIVE,
    by_bearer,
    percentile,
    quantiles,
    why_receiver_not_reached,
)
from simulators.drill.faults import TerminalFaults

if TYPE_CHECKING:
    from simulators.drill.observed import Observed

__all__ = ["build_result", "percentile", "quantiles", "summary_lines", "why_not_reached"]
NOT_REACHED_LISTED = 1000


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
        return OFFLINE
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


def _hostile(seen: Observed) -> dict[str, Any]:
    forged_ids = {i.command_id for i in seen.injections if i.kind in ("forged", "tampered")}
    refused = accepted = 0
    reasons: Counter[str] = Counter()
    records = [r for r in seen.records.values() if r.get("bearer", "ip") == "ip"]
    for record in records:
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
        1 for r in records
        if sum(1 for a in r["acks"] if a[1] in genuine and a[2] == "verified") > 1
    ) if replays else 0
    return {
        "injected": {k: sum(i.kind == k for i in seen.injections)
                     for k in ("forged", "tampered", "replayed")},
        "deliveries": refused + accepted,
        "refused": refused,
        "accepted": accepted,
        "refused_by_reason": dict(reasons),
        "replays_ignored": sum(r["duplicates"] for r in records) if replays else 0,
        "replays_accepted": accepted_again,
    }


def build_result(seen: Observed) -> dict[str, Any]:
    scenario = seen.scenario
    alerts: list[dict[str, Any]] = []
    all_times: list[float] = []
    not_reached: list[dict[str, str]] = []
    reasons: Counter[str] = Counter()
    missed: Counter[str] = Counter()
    bearer_times: dict[str, list[float]] = {}
    for n, accepted in enumerate(seen.accepted):
        status = seen.statuses.get(accepted.alert_id, {})
        times = []
        for ebrid, record in seen.records.items():
            first = _first_positive(record["acks"], accepted.alert_id)
            if first is not None:
                times.append(round(first - accepted.accepted_at, 4))
                bearer_times.setdefault(seen.bearer(ebrid), []).append(times[-1])
        all_times += times
        targeted = int(status.get("targeted", 0))
        missing = list(status.get("not_reached") or [])
        for ebrid in missing:
            bearer = seen.bearer(ebrid)
            faults = seen.plan.get(ebrid, TerminalFaults())
            kept = seen.records.get(ebrid)
            why = (why_not_reached(faults, kept, accepted.alert_id) if bearer == "ip" else
                   why_receiver_not_reached(bearer, faults, kept, accepted.alert_id))
            reasons[why] += 1
            missed[bearer] += 1
            if len(not_reached) < NOT_REACHED_LISTED:
                not_reached.append({"alert": str(n), "ebrid": ebrid, "bearer": bearer,
                                    "reason": why})
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
    fleet = Counter({"ip": len(seen.terminals)}) + Counter(seen.receivers.values())
    offline = Counter(seen.bearer(e) for e, f in seen.plan.items() if f.offline)
    return {
        "id": seen.drill_id,
        "name": scenario.name,
        "kind": "manual",
        "started_at": seen.started_at.isoformat(),
        "finished_at": seen.finished_at.isoformat() if seen.finished_at else None,
        "platform": {"dir": str(seen.settings.dir), "ebrid": seen.settings.ebrid,
                     "region": seen.settings.region, "broker": seen.broker},
        "terminals": sum(fleet.values()),
        "fleet": dict(fleet),
        "brokers": seen.brokers or {"kind": seen.broker, "count": 1, "leaves": []},
        "processes": seen.processes or scenario.processes(),
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
        "by_bearer": by_bearer(seen.statuses.values(), fleet, offline, bearer_times),
        "by_township": _townships(seen.statuses.values()),
        "time_to_ack": time_to_ack,
        "alerts": alerts,
        "not_reached": {"count": targeted - acked, "by_reason": dict(reasons.most_common()),
                        "by_bearer": dict(sorted(missed.items())), "terminals": not_reached},
        "forgeries": _hostile(seen),
        "events": [[round(t, 3), what] for t, what in seen.events],
        "timeline": [[round(t, 3), counts] for t, counts in seen.timeline],
        "passed": not failures,
        "failures": failures,
    }


def _fmt(value: object) -> str:
    return "-" if value is None else f"{float(value):.3f}s"  # type: ignore[arg-type]


def _mix(fleet: dict[str, int]) -> str:
    if set(fleet) <= {"ip"}:
        return ""
    return " (" + ", ".join(f"{n} {b}" for b, n in fleet.items()) + ")"


def _brokers(result: dict[str, Any]) -> str:
    layout = result.get("brokers") or {}
    if layout.get("kind") != "bridged":
        return str(result["platform"]["broker"])
    leaves = layout.get("leaves") or []
    most = max((leaf["terminals"] for leaf in leaves), default=0)
    return (f"bridged brokers ({layout['count']}: 1 root, {len(leaves)} leaves of at most "
            f"{most} terminals)")


def summary_lines(result: dict[str, Any]) -> list[str]:
    t = result["time_to_ack"]
    verdict = "PASSED" if result["passed"] else "FAILED: " + "; ".join(result["failures"])
    lines = [
        f"drill {result['id']} {result['name']!r}: {verdict}",
        f"  {result['terminals']} terminals{_mix(result.get('fleet') or {})} on "
        f"{_brokers(result)}, IP fleet connected in {result['connect_seconds']}s",
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
        b = tally.get("time_to_ack") or {}
        lines.append(
            f"  bearer {bearer}: {tally.get('terminals', '?')} terminals, "
            f"{tally['acked']}/{tally['targeted']} reached ({tally['coverage']:.2%}), "
            f"first ack p50 {_fmt(b.get('p50'))} p90 {_fmt(b.get('p90'))} "
            f"p99 {_fmt(b.get('p99'))}")
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
