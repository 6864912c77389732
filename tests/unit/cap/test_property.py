"""Property: any valid alert survives serialise -> parse unchanged (and stays valid)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocols.cap import (
    Alert,
    Area,
    Category,
    Certainty,
    Circle,
    Info,
    MsgType,
    Polygon,
    Resource,
    ResponseType,
    Scope,
    Severity,
    Status,
    Urgency,
    ValuePair,
    parse_cap,
    serialize_cap,
    validate,
)
from protocols.cap.lexical import format_time

# Any character XML 1.0 can carry, with CR, LF, tab and markup characters well represented.
_CHAR = st.one_of(
    st.characters(exclude_categories=("Cs", "Cc", "Cn")),
    st.sampled_from("\t\n\r <>&\"'"),
)
TEXT = st.text(_CHAR, max_size=30)
SOLID = TEXT.filter(lambda s: s.strip() == s and s != "")
WORD = st.text(
    st.characters(
        exclude_categories=("Cs", "Cc", "Cn", "Zs", "Zl", "Zp"), exclude_characters=",<&\""
    ),
    min_size=1,
    max_size=20,
)
ZONES = st.integers(-14 * 60, 14 * 60).map(lambda m: dt.timezone(dt.timedelta(minutes=m)))
TIMES = st.datetimes(
    min_value=dt.datetime(1900, 1, 2), max_value=dt.datetime(2099, 12, 30), timezones=ZONES
).map(lambda t: t.replace(microsecond=0))
URI = st.from_regex(r"https?://[a-z]{1,10}\.example/[a-z0-9/]{0,10}", fullmatch=True)


def _optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


PAIRS = st.builds(ValuePair, value_name=SOLID, value=SOLID)
PARAMETERS = st.builds(ValuePair, value_name=SOLID, value=TEXT)


@st.composite
def polygons(draw: st.DrawFn) -> Polygon:
    lat = draw(st.floats(-89, 88).map(lambda v: round(v, 4)))
    lon = draw(st.floats(-179, 178).map(lambda v: round(v, 4)))
    dlat = draw(st.floats(0.001, 1).map(lambda v: round(v, 4)))
    dlon = draw(st.floats(0.001, 1).map(lambda v: round(v, 4)))
    corners = [(lat, lon), (lat, lon + dlon), (lat + dlat, lon + dlon), (lat + dlat, lon)]
    return Polygon.from_points([*corners, corners[0]])


CIRCLES = st.builds(
    Circle.of,
    st.floats(-90, 90).map(lambda v: round(v, 5)),
    st.floats(-180, 180).map(lambda v: round(v, 5)),
    st.floats(0, 500).map(lambda v: round(v, 3)),
)
DECIMALS = st.decimals(min_value=-1000, max_value=30000, places=2, allow_nan=False)


@st.composite
def areas(draw: st.DrawFn) -> Area:
    altitude = draw(_optional(DECIMALS))
    ceiling = None
    if altitude is not None and draw(st.booleans()):
        ceiling = altitude + draw(st.decimals(min_value=0, max_value=5000, places=1))
    return Area(
        area_desc=draw(SOLID),
        polygons=tuple(draw(st.lists(polygons(), max_size=2))),
        circles=tuple(draw(st.lists(CIRCLES, max_size=2))),
        geocodes=tuple(draw(st.lists(PAIRS, max_size=2))),
        altitude=altitude,
        ceiling=ceiling,
    )


@st.composite
def resources(draw: st.DrawFn) -> Resource:
    content = draw(st.binary(max_size=40))
    embedded = draw(st.booleans())
    return Resource(
        resource_desc=draw(SOLID),
        mime_type=draw(st.sampled_from(["image/gif", "audio/mpeg", "text/plain; charset=utf-8"])),
        size=draw(_optional(st.integers(0, 10**9))),
        uri=draw(_optional(URI)),
        deref_uri=base64.b64encode(content).decode() if embedded else None,
        digest=draw(st.sampled_from([None, hashlib.sha1(content).hexdigest()])),
    )


INFOS = st.builds(
    Info,
    language=_optional(st.sampled_from(["en-US", "zh-CN", "es-US", "zh"])),
    categories=st.lists(st.sampled_from(Category), min_size=1, max_size=3).map(tuple),
    event=SOLID,
    response_types=st.lists(st.sampled_from(ResponseType), max_size=2).map(tuple),
    urgency=st.sampled_from(Urgency),
    severity=st.sampled_from(Severity),
    certainty=st.sampled_from(Certainty),
    audience=_optional(TEXT),
    event_codes=st.lists(PAIRS, max_size=2).map(tuple),
    effective=_optional(TIMES),
    onset=_optional(TIMES),
    expires=_optional(TIMES),
    sender_name=_optional(TEXT),
    headline=_optional(TEXT),
    description=_optional(TEXT),
    instruction=_optional(TEXT),
    web=_optional(URI),
    contact=_optional(TEXT),
    parameters=st.lists(PARAMETERS, max_size=2).map(tuple),
    resources=st.lists(resources(), max_size=2).map(tuple),
    areas=st.lists(areas(), max_size=2).map(tuple),
)


@st.composite
def alerts(draw: st.DrawFn) -> Alert:
    scope = draw(st.sampled_from(Scope))
    msg_type = draw(st.sampled_from(MsgType))
    triples = draw(st.lists(st.tuples(WORD, WORD, TIMES), max_size=2))
    if msg_type in (MsgType.UPDATE, MsgType.CANCEL, MsgType.ACK, MsgType.ERROR) and not triples:
        triples = [("origin@example", "1", dt.datetime(2020, 1, 1, tzinfo=dt.UTC))]
    references = " ".join(f"{s},{i},{format_time(t)}" for s, i, t in triples) or None
    return Alert(
        identifier=draw(WORD),
        sender=draw(WORD),
        sent=draw(TIMES),
        status=draw(st.sampled_from(Status)),
        msg_type=msg_type,
        source=draw(_optional(TEXT)),
        scope=scope,
        restriction=draw(SOLID if scope is Scope.RESTRICTED else _optional(TEXT)),
        addresses=draw(WORD if scope is Scope.PRIVATE else _optional(WORD)),
        codes=tuple(draw(st.lists(WORD, max_size=2))),
        note=draw(_optional(TEXT)),
        references=references,
        incidents=draw(_optional(WORD)),
        infos=tuple(draw(st.lists(INFOS, max_size=2))),
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(alerts())
def test_valid_alerts_round_trip(alert: Alert) -> None:
    assert validate(alert) == []
    xml = serialize_cap(alert)
    again = parse_cap(xml)
    assert again == alert
    assert validate(again) == []
    assert serialize_cap(again) == xml


@settings(max_examples=60, deadline=None)
@given(st.decimals(min_value=-(10**6), max_value=10**6, places=3, allow_nan=False))
def test_altitudes_keep_their_value(value: Decimal) -> None:
    area = Area(area_desc="x", altitude=value)
    info = Info(
        categories=(Category.MET,),
        event="e",
        urgency=Urgency.PAST,
        severity=Severity.MINOR,
        certainty=Certainty.OBSERVED,
        areas=(area,),
    )
    alert = Alert(
        identifier="i",
        sender="s",
        sent=dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
        status=Status.TEST,
        msg_type=MsgType.ALERT,
        scope=Scope.PUBLIC,
        infos=(info,),
    )
    assert parse_cap(serialize_cap(alert)).infos[0].areas[0].altitude == value
