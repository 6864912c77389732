"""Coverage and broadcast state, derived from the tasks and the acks in the dispatch log."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum

from dispatcher.domain.tasks import TaskState, is_final

POSITIVE_ACKS = frozenset({"received", "verified", "playing", "played", "stopped"})
NEGATIVE_ACKS = frozenset({"rejected", "failed"})


class BrdStateCode(IntEnum):
    """EBMStateResponse BrdStateCode."""

    UNPROCESSED = 0
    WAITING = 1
    BROADCASTING = 2
    SUCCESS = 3
    FAILURE = 4
    CANCELLED = 5


@dataclass(frozen=True)
class TaskView:
    task_id: str
    bearer: str
    state: TaskState
    targets: tuple[str, ...]


@dataclass(frozen=True)
class Tally:
    targeted: int
    acked: int

    @property
    def coverage(self) -> float:
        return round(self.acked / self.targeted, 6) if self.targeted else 0.0

    def as_dict(self) -> dict[str, float | int]:
        return {"targeted": self.targeted, "acked": self.acked, "coverage": self.coverage}


@dataclass(frozen=True)
class Coverage:
    overall: Tally
    by_bearer: dict[str, Tally] = field(default_factory=dict)
    by_region: dict[str, Tally] = field(default_factory=dict)
    not_reached: tuple[str, ...] = ()
    refused: tuple[str, ...] = ()


def reached_targets(acks: Iterable[tuple[str, str]]) -> tuple[set[str], set[str]]:
    """(reached, refused) from (target, ack state) pairs.

    A refusal does not undo a receipt: anyone who can put a forged command on the air can make
    terminals refuse it in a real alert's name, and that must not erase who was reached.
    """
    positive: set[str] = set()
    negative: set[str] = set()
    for target, state in acks:
        if state in POSITIVE_ACKS:
            positive.add(target)
        elif state in NEGATIVE_ACKS:
            negative.add(target)
    return positive, negative


def summarise(
    tasks: Sequence[TaskView],
    acks: Iterable[tuple[str, str]],
    *,
    region_of: Mapping[str, str] | None = None,
    region_digits: int = 9,
) -> Coverage:
    """Tally targets and acks overall, per bearer and per region (township by default)."""
    reached, refused = reached_targets(acks)
    by_bearer: dict[str, list[int]] = {}
    by_region: dict[str, list[int]] = {}
    seen: set[str] = set()
    not_reached: list[str] = []
    for task in tasks:
        if task.state is TaskState.CANCELLED:
            continue
        for target in task.targets:
            if target in seen:
                continue
            seen.add(target)
            hit = target in reached
            if not hit:
                not_reached.append(target)
            bucket = by_bearer.setdefault(task.bearer, [0, 0])
            bucket[0] += 1
            bucket[1] += hit
            region = (region_of or {}).get(target, target)
            key = region[:region_digits].ljust(12, "0") if region.isdigit() else region
            rbucket = by_region.setdefault(key, [0, 0])
            rbucket[0] += 1
            rbucket[1] += hit
    acked = sum(1 for t in seen if t in reached)
    return Coverage(
        overall=Tally(len(seen), acked),
        by_bearer={k: Tally(*v) for k, v in sorted(by_bearer.items())},
        by_region={k: Tally(*v) for k, v in sorted(by_region.items())},
        not_reached=tuple(sorted(not_reached)),
        refused=tuple(sorted(refused & seen)),
    )


def brd_state_code(*, cancelled: bool, waiting: bool, tasks: Sequence[TaskView]) -> BrdStateCode:
    if cancelled:
        return BrdStateCode.CANCELLED
    if waiting:
        return BrdStateCode.WAITING
    if not tasks:
        return BrdStateCode.UNPROCESSED
    if any(not is_final(t.state) for t in tasks):
        return BrdStateCode.BROADCASTING
    if any(t.state in (TaskState.ACKED, TaskState.PARTIAL) for t in tasks):
        return BrdStateCode.SUCCESS
    return BrdStateCode.FAILURE


@dataclass(frozen=True)
class LowerReport:
    """What a lower platform last reported for an alert (EBMStateResponse / EBMBrdLog)."""

    platform: str
    region: str
    brd_state_code: int | None
    targeted: int
    acked: int
    silent: bool


def roll_up(own: Coverage, lower: Sequence[LowerReport]) -> Coverage:
    """An upper platform's coverage: its own terminals plus what its lower platforms reached."""
    by_bearer = {k: v for k, v in own.by_bearer.items() if k != "platform"}
    by_region = dict(own.by_region)
    if lower:
        by_bearer["platform"] = Tally(sum(r.targeted for r in lower), sum(r.acked for r in lower))
    for report in lower:
        previous = by_region.get(report.region, Tally(0, 0))
        by_region[report.region] = Tally(
            previous.targeted + report.targeted, previous.acked + report.acked
        )
    overall = Tally(
        sum(t.targeted for t in by_bearer.values()), sum(t.acked for t in by_bearer.values())
    )
    return Coverage(
        overall=overall,
        by_bearer=dict(sorted(by_bearer.items())),
        by_region=dict(sorted(by_region.items())),
        not_reached=own.not_reached,
        refused=own.refused,
    )
