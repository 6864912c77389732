"""Coverage and BrdStateCode derived from tasks and acks."""

from __future__ import annotations

from dispatcher.domain.coverage import BrdStateCode, TaskView, brd_state_code, summarise
from dispatcher.domain.tasks import TaskState


def _task(state: TaskState, targets: tuple[str, ...], bearer: str = "ip") -> TaskView:
    return TaskView(task_id=f"t-{bearer}", bearer=bearer, state=state, targets=targets)


def test_coverage_overall_per_bearer_and_per_township() -> None:
    tasks = [_task(TaskState.SENT, ("a", "b", "c")), _task(TaskState.ACKED, ("d",), "fm")]
    acks = [("a", "played"), ("a", "received"), ("b", "rejected"), ("d", "played"), ("x", "played")]
    regions = {"a": "341523100000", "b": "341523100000", "c": "341523101000", "d": "341523101000"}
    cov = summarise(tasks, acks, region_of=regions)
    assert (cov.overall.targeted, cov.overall.acked) == (4, 2)
    assert cov.overall.coverage == 0.5
    assert cov.by_bearer["ip"].as_dict() == {"targeted": 3, "acked": 1, "coverage": 0.333333}
    assert cov.by_bearer["fm"].coverage == 1.0
    assert cov.by_region["341523100000"].acked == 1
    assert cov.by_region["341523101000"].targeted == 2
    assert cov.not_reached == ("b", "c")
    assert cov.refused == ("b",)


def test_cancelled_tasks_do_not_count_and_targets_count_once() -> None:
    tasks = [
        _task(TaskState.SENT, ("a",)),
        _task(TaskState.CANCELLED, ("z",), "fm"),
        _task(TaskState.SENT, ("a",), "dtmb"),
    ]
    cov = summarise(tasks, [("a", "played")])
    assert cov.overall.targeted == 1 and cov.overall.coverage == 1.0


def test_brd_state_code_follows_the_tasks() -> None:
    sent = _task(TaskState.SENT, ("a",))
    acked = _task(TaskState.ACKED, ("a",))
    timed_out = _task(TaskState.TIMED_OUT, ("a",))
    assert brd_state_code(cancelled=True, waiting=False, tasks=[sent]) is BrdStateCode.CANCELLED
    assert brd_state_code(cancelled=False, waiting=True, tasks=[sent]) is BrdStateCode.WAITING
    assert brd_state_code(cancelled=False, waiting=False, tasks=[]) is BrdStateCode.UNPROCESSED
    assert brd_state_code(cancelled=False, waiting=False, tasks=[sent, acked]) is (
        BrdStateCode.BROADCASTING
    )
    assert brd_state_code(cancelled=False, waiting=False, tasks=[acked, timed_out]) is (
        BrdStateCode.SUCCESS
    )
    assert brd_state_code(cancelled=False, waiting=False, tasks=[timed_out]) is BrdStateCode.FAILURE
