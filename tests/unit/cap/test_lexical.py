"""Value forms: times, numbers, coordinate text and quoted lists."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from protocols.cap import Circle, Polygon, parse_references, split_quoted
from protocols.cap.lexical import format_number, format_time, parse_time


def test_time_forms() -> None:
    parsed = parse_time("2003-06-17T14:57:00-07:00")
    assert parsed == dt.datetime(2003, 6, 17, 21, 57, tzinfo=dt.UTC)
    assert parsed is not None and format_time(parsed) == "2003-06-17T14:57:00-07:00"
    assert (
        format_time(dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)) == "2024-01-02T03:04:05-00:00"
    )
    china = dt.timezone(dt.timedelta(hours=8))
    assert (
        format_time(dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=china)) == "2024-01-02T03:04:05+08:00"
    )
    for bad in (
        "2003-06-17T14:57:00Z",
        "2003-06-17T14:57:00",
        "2003-06-17T14:57:00,07:00",
        "2003-06-17T14:57:00-07:60",
        "2003-06-17",
    ):
        assert parse_time(bad) is None


def test_numbers_are_plain_decimals() -> None:
    assert format_number(1e-7) == "0.0000001"
    assert format_number(-0.0) == "0"
    assert format_number(120.0) == "120"
    assert format_number(Decimal("1.500")) == "1.5"


def test_polygon_and_circle_helpers() -> None:
    polygon = Polygon.from_points([(1.0, 2.5), (1.0, 3.0), (2.0, 3.0), (1.0, 2.5)])
    assert polygon.text == "1,2.5 1,3 2,3 1,2.5"
    assert polygon.points[1] == (1.0, 3.0)
    with pytest.raises(ValueError):
        _ = Polygon("1,2 nonsense").points
    circle = Circle.of(32.9525, -115.5527, 0.5)
    assert circle.text == "32.9525,-115.5527 0.5"
    assert circle.center == (32.9525, -115.5527) and circle.radius_km == 0.5
    with pytest.raises(ValueError):
        _ = Circle("1,2").radius_km


def test_quoted_lists_and_references() -> None:
    assert split_quoted('alpha "beta gamma" delta') == ["alpha", "beta gamma", "delta"]
    with pytest.raises(ValueError):
        split_quoted('"open')
    refs = parse_references("a@x,1,2003-06-11T20:30:00-07:00\n  b@y,2,2003-06-11T20:31:00+08:00")
    assert [r.identifier for r in refs] == ["1", "2"]
    with pytest.raises(ValueError):
        parse_references("a@x,1")
