"""Planning: which adapters reach which targets, in which order, until when. Pure."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from dispatcher.domain.alert import Severity
from protocols.codes import RegionCode


class Bearer(StrEnum):
    IP = "ip"
    FM = "fm"
    DTMB = "dtmb"
    CABLE = "cable"
    DTH = "dth"
    LEGACY_IP = "legacy-ip"
    PLATFORM = "platform"
    FAKE = "fake"


#: Bearers whose terminals are addressed one by one; without known terminals there is nobody
#: to reach or count, so no task is planned for them.
TERMINAL_BEARERS = frozenset({Bearer.IP, Bearer.LEGACY_IP})


@dataclass(frozen=True)
class AdapterInfo:
    ebrid: str
    bearer: Bearer
    regions: tuple[RegionCode, ...]
    enabled: bool = True
    healthy: bool = True
    #: Used only for targets that no regular adapter covers (越级: a silent lower platform).
    fallback: bool = False


@dataclass(frozen=True)
class TerminalInfo:
    ebrid: str
    bearer: Bearer
    region: RegionCode


@dataclass(frozen=True)
class TaskSpec:
    adapter_ebrid: str
    bearer: Bearer
    regions: tuple[RegionCode, ...]
    #: Terminal EBRIDs this task must reach; region codes when no terminal is known.
    targets: tuple[str, ...]
    priority: int
    not_before: dt.datetime
    deadline: dt.datetime
    max_attempts: int
    fallback: bool = False


@dataclass(frozen=True)
class Plan:
    tasks: tuple[TaskSpec, ...]
    uncovered: tuple[RegionCode, ...]
    waiting: bool


def minimal(codes: Iterable[RegionCode]) -> tuple[RegionCode, ...]:
    """Deduplicate and drop codes that lie inside another code of the set."""
    unique = sorted(set(codes), key=lambda c: (len(c.significant), c.value))
    kept: list[RegionCode] = []
    for code in unique:
        if not any(k.contains(code) for k in kept):
            kept.append(code)
    return tuple(sorted(kept))


def overlap(a: RegionCode, b: RegionCode) -> RegionCode | None:
    """The smaller of two nested regions, or None when they are disjoint."""
    if a.contains(b):
        return b
    if b.contains(a):
        return a
    return None


def narrow_to_jurisdiction(
    targets: Sequence[RegionCode], jurisdiction: RegionCode
) -> tuple[tuple[RegionCode, ...], tuple[RegionCode, ...]]:
    """(kept, dropped): a target wider than the jurisdiction becomes the jurisdiction."""
    kept: list[RegionCode] = []
    dropped: list[RegionCode] = []
    for target in targets:
        inside = overlap(target, jurisdiction)
        (kept if inside is not None else dropped).append(inside or target)
    return minimal(kept), tuple(dropped)


def priority_of(severity: Severity, *, drill: bool) -> int:
    """Lower runs first: red before orange before ...; unknown last; drills after real alerts."""
    rank = 5 if severity is Severity.UNKNOWN else int(severity)
    return rank + (10 if drill else 0)


def plan(
    *,
    targets: Sequence[RegionCode],
    adapters: Sequence[AdapterInfo],
    terminals: Sequence[TerminalInfo],
    severity: Severity,
    drill: bool,
    start: dt.datetime | None,
    end: dt.datetime | None,
    now: dt.datetime,
    default_duration: dt.timedelta = dt.timedelta(hours=1),
    max_attempts: int = 5,
) -> Plan:
    target_set = minimal(targets)
    not_before = max(start, now) if start else now
    deadline = end if end else not_before + default_duration
    if deadline <= not_before:
        deadline = not_before + dt.timedelta(minutes=1)
    priority = priority_of(severity, drill=drill)

    # A county has tens of thousands of terminals: group them once, not per adapter.
    by_bearer: dict[Bearer, list[TerminalInfo]] = {}
    for t in sorted(terminals, key=lambda t: t.ebrid):
        by_bearer.setdefault(t.bearer, []).append(t)
    assigned: set[str] = set()
    tasks: list[TaskSpec] = []
    covered: list[RegionCode] = []
    usable = [a for a in sorted(adapters, key=lambda a: a.ebrid) if a.enabled and a.healthy]
    regular = [a for a in usable if not a.fallback]
    for adapter in [*regular, *(a for a in usable if a.fallback)]:
        wanted = target_set
        if adapter.fallback:
            # only where no healthy regular adapter of its kind answers for the area
            answered = [r for a in regular if a.bearer is adapter.bearer for r in a.regions]
            wanted = tuple(t for t in target_set if not any(r.contains(t) for r in answered))
        regions = minimal(
            inside
            for own in adapter.regions
            for target in wanted
            if (inside := overlap(own, target)) is not None
            and (
                not adapter.fallback
                or not any(
                    r.contains(inside)
                    for a in regular
                    if a.bearer is adapter.bearer
                    for r in a.regions
                )
            )
        )
        if not regions:
            continue
        covered.extend(regions)
        prefixes = tuple(r.significant for r in regions)
        candidates = by_bearer.get(adapter.bearer, [])
        reached = [
            t.ebrid
            for t in candidates
            if t.ebrid not in assigned and t.region.value.startswith(prefixes)
        ]
        assigned.update(reached)
        known_terminals = bool(candidates)
        if (known_terminals or adapter.bearer in TERMINAL_BEARERS) and not reached:
            continue
        task_targets = tuple(reached) if known_terminals else tuple(r.value for r in regions)
        tasks.append(
            TaskSpec(
                adapter_ebrid=adapter.ebrid,
                bearer=adapter.bearer,
                regions=regions,
                targets=task_targets,
                priority=priority,
                not_before=not_before,
                deadline=deadline,
                max_attempts=max_attempts,
                fallback=adapter.fallback,
            )
        )
    uncovered = tuple(t for t in target_set if not any(c.contains(t) for c in covered))
    return Plan(tasks=tuple(tasks), uncovered=uncovered, waiting=not_before > now)
