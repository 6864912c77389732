"""MQTT topic names of the terminal protocol (docs/terminal-protocol.md).

Downlink: ``ebc/v1/region/<pp>/<cc>/<xx>/<ttt>/<vvv>`` for a region node (a terminal
subscribes to its own village node and every ancestor, so one publish reaches a whole county)
and ``ebc/v1/terminal/<ebrid>/cmd`` for one terminal. Uplink: ``ebc/v1/terminal/<ebrid>/ack``,
``.../heartbeat`` and ``.../status`` (retained, with an offline last will).
"""

from __future__ import annotations

from functools import lru_cache

from protocols.codes import RegionCode, RegionLevel, ResourceCode
from protocols.errors import CodeError

PREFIX = "ebc/v1"
SHARE_GROUP = "ebc"
UPLINK_KINDS = ("ack", "heartbeat", "status")
_TERMINAL_TOPICS = f"{PREFIX}/terminal/"

_PARTS = ((0, 2), (2, 4), (4, 6), (6, 9), (9, 12))


def region_topic(code: RegionCode) -> str:
    """The topic of one region node: only its significant parts, e.g. ebc/v1/region/34/15/23."""
    depth = {
        RegionLevel.NATIONAL: 0,
        RegionLevel.PROVINCE: 1,
        RegionLevel.CITY: 2,
        RegionLevel.COUNTY: 3,
        RegionLevel.TOWNSHIP: 4,
        RegionLevel.VILLAGE: 5,
    }[code.level]
    parts = [code.value[a:b] for a, b in _PARTS[:depth]]
    return "/".join([PREFIX, "region", *parts])


def region_topics_for(code: RegionCode) -> list[str]:
    """Every topic a terminal in ``code`` subscribes to: its node and all ancestors."""
    return [region_topic(c) for c in [*reversed(code.ancestors()), code]]


def terminal_topic(ebrid: ResourceCode | str, kind: str) -> str:
    value = ebrid.value if isinstance(ebrid, ResourceCode) else ResourceCode(ebrid).value
    if kind not in ("cmd", *UPLINK_KINDS):
        raise CodeError(f"unknown terminal topic kind {kind!r}")
    return f"{PREFIX}/terminal/{value}/{kind}"


def uplink_filter(kind: str, *, shared: bool) -> str:
    """Subscription filter for one uplink kind; shared subscriptions split load (MQTT 5)."""
    if kind not in UPLINK_KINDS:
        raise CodeError(f"unknown uplink kind {kind!r}")
    plain = f"{PREFIX}/terminal/+/{kind}"
    return f"$share/{SHARE_GROUP}/{plain}" if shared else plain


def parse_uplink(topic: str) -> tuple[str, str]:
    """(terminal EBRID, kind) of an uplink topic; CodeError for anything else."""
    if topic.startswith(_TERMINAL_TOPICS):
        ebrid, slash, kind = topic[len(_TERMINAL_TOPICS) :].partition("/")
        if slash and kind in UPLINK_KINDS:
            return _checked_ebrid(ebrid), kind
    raise CodeError(f"not an uplink topic: {topic!r}")


# A platform receives three uplinks per terminal per alert, and statuses and heartbeats
# besides, from a fleet of 10^4-10^5: checking the EBRID of each was a third of the broker
# link's time. Cached by EBRID, not by topic: with 100,000 terminals the ack and status
# topics outnumbered a topic cache of 131,072, whose LRU then missed on every uplink.
# Refusals are not cached.
@lru_cache(maxsize=1 << 18)
def _checked_ebrid(ebrid: str) -> str:
    return ResourceCode(ebrid).value
