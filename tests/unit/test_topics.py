"""Uplink topics as the broker link reads them: the terminal's EBRID checked, the kind one
of three, anything else refused; and the check stays cached for fleets of 10^5."""

from __future__ import annotations

import pytest

from protocols.errors import CodeError
from protocols.terminal import topics
from protocols.terminal.topics import parse_uplink, terminal_topic, uplink_filter
from simulators.fleet import fleet_ebrids

EBRID = "63415020010010314010401"


@pytest.mark.parametrize("kind", ["ack", "heartbeat", "status"])
def test_an_uplink_names_its_terminal_and_kind(kind: str) -> None:
    assert parse_uplink(terminal_topic(EBRID, kind)) == (EBRID, kind)


@pytest.mark.parametrize(
    "topic",
    [
        f"ebc/v1/terminal/{EBRID}/cmd",  # a downlink
        f"ebc/v1/terminal/{EBRID}/ack/extra",
        f"ebc/v1/terminal/{EBRID}",
        f"ebc/v2/terminal/{EBRID}/ack",
        f"ebc/v1/region/34/15/{EBRID}/ack",
        "ebc/v1/terminal//ack",
        "ebc/v1/terminal/6341502001001031401040/ack",  # 22 digits
        "ebc/v1/terminal/73415020010010314010401/ack",  # level digit 7
        "ebc/v1/terminal/63415020010019999010401/ack",  # unknown resource type
    ],
)
def test_anything_else_is_refused(topic: str) -> None:
    with pytest.raises(CodeError):
        parse_uplink(topic)


def test_a_refused_ebrid_is_not_remembered_as_good() -> None:
    bad = "ebc/v1/terminal/73415020010010314010401/ack"
    for _ in range(2):
        with pytest.raises(CodeError):
            parse_uplink(bad)


def test_acks_and_statuses_of_100k_terminals_stay_cached() -> None:
    # with a cache keyed by topic (131,072 entries) these 200,000 topics missed every time
    ebrids = fleet_ebrids("341500", 100_000)
    uplinks = [terminal_topic(e, kind) for e in ebrids for kind in ("ack", "status")]
    for topic in uplinks:
        parse_uplink(topic)
    before = topics._checked_ebrid.cache_info().misses
    for topic in uplinks:
        parse_uplink(topic)
    assert topics._checked_ebrid.cache_info().misses == before


def test_uplink_filters() -> None:
    assert uplink_filter("ack", shared=False) == "ebc/v1/terminal/+/ack"
    assert uplink_filter("status", shared=True) == "$share/ebc/ebc/v1/terminal/+/status"
    with pytest.raises(CodeError):
        uplink_filter("cmd", shared=False)
