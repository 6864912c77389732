"""Planning: adapters x targets -> tasks, narrowed, ordered and timed."""

from __future__ import annotations

import datetime as dt

from dispatcher.domain.alert import Severity
from dispatcher.domain.planning import (
    AdapterInfo,
    Bearer,
    TerminalInfo,
    minimal,
    narrow_to_jurisdiction,
    plan,
    priority_of,
)
from protocols.codes import RegionCode

NOW = dt.datetime(2026, 11, 27, 8, 0, tzinfo=dt.UTC)
SHUCHENG = RegionCode.parse("341523")
TOWN_A = RegionCode.parse("341523100")
TOWN_B = RegionCode.parse("341523101")
OTHER_COUNTY = RegionCode.parse("341522")


def _terminal(n: int, town: RegionCode, bearer: Bearer = Bearer.IP) -> TerminalInfo:
    return TerminalInfo(f"6{town.value}03140104{n:02d}", bearer, town)


def test_narrow_keeps_inside_and_clips_wider_targets() -> None:
    kept, dropped = narrow_to_jurisdiction([RegionCode.parse("34"), OTHER_COUNTY], SHUCHENG)
    assert kept == (SHUCHENG,)
    assert dropped == (OTHER_COUNTY,)
    kept, dropped = narrow_to_jurisdiction([TOWN_A], SHUCHENG)
    assert kept == (TOWN_A,) and dropped == ()


def test_minimal_drops_nested_and_duplicate_codes() -> None:
    assert minimal([TOWN_A, SHUCHENG, TOWN_A, OTHER_COUNTY]) == (OTHER_COUNTY, SHUCHENG)


def test_one_task_per_adapter_with_its_terminals_only() -> None:
    ip = AdapterInfo("43415230000000314010201", Bearer.IP, (SHUCHENG,))
    fm = AdapterInfo("43415230000000301010201", Bearer.FM, (TOWN_B,))
    terminals = [_terminal(1, TOWN_A), _terminal(2, TOWN_B), _terminal(3, OTHER_COUNTY)]
    result = plan(
        targets=[TOWN_A, TOWN_B],
        adapters=[ip, fm],
        terminals=terminals,
        severity=Severity.RED,
        drill=False,
        start=None,
        end=None,
        now=NOW,
    )
    by_bearer = {t.bearer: t for t in result.tasks}
    assert set(by_bearer) == {Bearer.IP, Bearer.FM}
    assert by_bearer[Bearer.IP].targets == (terminals[0].ebrid, terminals[1].ebrid)
    assert by_bearer[Bearer.IP].regions == (TOWN_A, TOWN_B)
    # no FM terminal is known, so the FM task targets its regions
    assert by_bearer[Bearer.FM].targets == (TOWN_B.value,)
    assert result.uncovered == ()
    assert not result.waiting


def test_disabled_or_unhealthy_adapters_are_skipped_and_gaps_reported() -> None:
    off = AdapterInfo("43415230000000314010201", Bearer.IP, (SHUCHENG,), enabled=False)
    sick = AdapterInfo("43415230000000314010202", Bearer.IP, (SHUCHENG,), healthy=False)
    result = plan(
        targets=[SHUCHENG],
        adapters=[off, sick],
        terminals=[],
        severity=Severity.BLUE,
        drill=False,
        start=None,
        end=None,
        now=NOW,
    )
    assert result.tasks == ()
    assert result.uncovered == (SHUCHENG,)


def test_future_start_waits_and_end_sets_deadline() -> None:
    ip = AdapterInfo("43415230000000314010201", Bearer.IP, (SHUCHENG,))
    start = NOW + dt.timedelta(minutes=10)
    end = NOW + dt.timedelta(hours=2)
    result = plan(
        targets=[SHUCHENG],
        adapters=[ip],
        terminals=[_terminal(1, TOWN_A)],
        severity=Severity.YELLOW,
        drill=True,
        start=start,
        end=end,
        now=NOW,
    )
    assert result.waiting
    (task,) = result.tasks
    assert task.not_before == start and task.deadline == end


def test_a_terminal_is_targeted_once_when_adapters_overlap() -> None:
    a = AdapterInfo("43415230000000314010201", Bearer.IP, (SHUCHENG,))
    b = AdapterInfo("43415230000000314010202", Bearer.IP, (TOWN_A,))
    terminal = _terminal(1, TOWN_A)
    result = plan(
        targets=[SHUCHENG],
        adapters=[a, b],
        terminals=[terminal],
        severity=Severity.RED,
        drill=False,
        start=None,
        end=None,
        now=NOW,
    )
    assert [t.targets for t in result.tasks] == [(terminal.ebrid,)]


def test_red_before_blue_and_real_before_drill() -> None:
    assert priority_of(Severity.RED, drill=False) < priority_of(Severity.BLUE, drill=False)
    assert priority_of(Severity.BLUE, drill=False) < priority_of(Severity.UNKNOWN, drill=False)
    assert priority_of(Severity.UNKNOWN, drill=False) < priority_of(Severity.RED, drill=True)


def test_ip_adapter_without_known_terminals_plans_nothing() -> None:
    ip = AdapterInfo("43415230000000314010201", Bearer.IP, (SHUCHENG,))
    result = plan(
        targets=[SHUCHENG],
        adapters=[ip],
        terminals=[],
        severity=Severity.RED,
        drill=False,
        start=None,
        end=None,
        now=NOW,
    )
    assert result.tasks == ()


def test_fallback_adapters_only_answer_for_areas_whose_regular_adapter_is_down() -> None:
    anhui = AdapterInfo("23400000000000101010101", Bearer.PLATFORM, (RegionCode.parse("34"),))
    jiangsu = AdapterInfo(
        "23200000000000101010101", Bearer.PLATFORM, (RegionCode.parse("32"),), healthy=False
    )
    direct_js = AdapterInfo(
        "43201150000000101010101", Bearer.PLATFORM, (RegionCode.parse("320115"),), fallback=True
    )
    direct_ah = AdapterInfo("43415230000000101010101", Bearer.PLATFORM, (SHUCHENG,), fallback=True)
    targets = [RegionCode.parse("34"), RegionCode.parse("32")]
    result = plan(
        targets=targets,
        adapters=[anhui, jiangsu, direct_js, direct_ah],
        terminals=[],
        severity=Severity.RED,
        drill=False,
        start=None,
        end=None,
        now=NOW,
    )
    used = {t.adapter_ebrid: t for t in result.tasks}
    assert set(used) == {anhui.ebrid, direct_js.ebrid}
    assert used[direct_js.ebrid].fallback and not used[anhui.ebrid].fallback
    assert used[direct_js.ebrid].targets == ("320115000000",)
    healthy = plan(
        targets=targets,
        adapters=[
            anhui,
            AdapterInfo(jiangsu.ebrid, Bearer.PLATFORM, jiangsu.regions),
            direct_js,
            direct_ah,
        ],
        terminals=[],
        severity=Severity.RED,
        drill=False,
        start=None,
        end=None,
        now=NOW,
    )
    assert {t.adapter_ebrid for t in healthy.tasks} == {anhui.ebrid, jiangsu.ebrid}
