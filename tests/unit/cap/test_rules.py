"""One broken message per rule, each one edit away from a valid OASIS example, gets exactly
that rule's problem at the right path; several problems at once are all reported."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import replace

import pytest

from protocols.cap import (
    Alert,
    Area,
    Info,
    Polygon,
    ValidationOptions,
    parse_and_validate,
    parse_cap,
    serialize_cap,
    validate,
)
from protocols.errors import CapError, Problem
from tests.unit.cap._golden import AMBER, EARTHQUAKE, HOMELAND, THUNDERSTORM, edit, load

H, T, E, A = HOMELAND, THUNDERSTORM, EARTHQUAKE, AMBER
POLY = "38.47,-120.14 38.34,-119.95 38.52,-119.74 38.62,-119.89 38.47,-120.14"
AREA0 = "alert/info[0]/area[0]"

# (example, old text, new text, rule, path)
CASES: list[tuple[str, str, str, str, str]] = [
    (H, "<identifier>43b080713727</identifier>", "", "required", "alert/identifier"),
    (H, "<sender>hsas@dhs.gov</sender>", "", "required", "alert/sender"),
    (H, "<sent>2003-04-02T14:39:01-05:00</sent>", "", "required", "alert/sent"),
    (H, "<status>Actual</status>", "", "required", "alert/status"),
    (H, "<msgType>Alert</msgType>", "", "required", "alert/msgType"),
    (H, "<scope>Public</scope>", "", "required", "alert/scope"),
    (
        H,
        "<event>Homeland Security Advisory System Update</event>",
        "",
        "required",
        "alert/info[0]/event",
    ),
    (H, "<urgency>Immediate</urgency>", "", "required", "alert/info[0]/urgency"),
    (H, "<severity>Severe</severity>", "", "required", "alert/info[0]/severity"),
    (H, "<certainty>Likely</certainty>", "", "required", "alert/info[0]/certainty"),
    (
        H,
        "<resourceDesc>Image file (GIF)</resourceDesc>",
        "",
        "required",
        "alert/info[0]/resource[0]/resourceDesc",
    ),
    (H, "<mimeType>image/gif</mimeType>", "", "required", "alert/info[0]/resource[0]/mimeType"),
    (
        H,
        "<areaDesc>U.S. nationwide and interests worldwide</areaDesc>",
        "<areaDesc> </areaDesc>",
        "required",
        "alert/info[0]/area[0]/areaDesc",
    ),
    (H, "<category>Security</category>", "", "category-required", "alert/info[0]/category"),
    (H, "<status>Actual</status>", "<status>Real</status>", "enum", "alert/status"),
    (H, "<msgType>Alert</msgType>", "<msgType>Warning</msgType>", "enum", "alert/msgType"),
    (H, "<scope>Public</scope>", "<scope>Everyone</scope>", "enum", "alert/scope"),
    (
        H,
        "<category>Security</category>",
        "<category>Terror</category>",
        "enum",
        "alert/info[0]/category[0]",
    ),
    (
        T,
        "<responseType>Shelter</responseType>",
        "<responseType>Hide</responseType>",
        "enum",
        "alert/info[0]/responseType[0]",
    ),
    (H, "<urgency>Immediate</urgency>", "<urgency>Now</urgency>", "enum", "alert/info[0]/urgency"),
    (
        H,
        "<severity>Severe</severity>",
        "<severity>High</severity>",
        "enum",
        "alert/info[0]/severity",
    ),
    (
        H,
        "<certainty>Likely</certainty>",
        "<certainty>Very Likely</certainty>",
        "enum",
        "alert/info[0]/certainty",
    ),
    (H, "2003-04-02T14:39:01-05:00", "2003-04-02T19:39:01Z", "datetime-offset", "alert/sent"),
    (H, "2003-04-02T14:39:01-05:00", "2003-04-02T14:39:01", "datetime-offset", "alert/sent"),
    (H, "2003-04-02T14:39:01-05:00", "2003-04-02T14:39-05:00", "datetime-format", "alert/sent"),
    (
        H,
        "2003-04-02T14:39:01-05:00",
        "2003-04-02T14:39:01.250-05:00",
        "datetime-format",
        "alert/sent",
    ),
    (H, "2003-04-02T14:39:01-05:00", "2003-02-30T14:39:01-05:00", "datetime-format", "alert/sent"),
    (
        T,
        "2003-06-17T16:00:00-07:00",
        "2003-06-17 16:00:00",
        "datetime-format",
        "alert/info[0]/expires",
    ),
    (
        E,
        "<references>trinet@caltech.edu,TRI13970876.1,2003-06-11T20:30:00-07:00</references>",
        "",
        "references-required",
        "alert/references",
    ),
    (
        H,
        "<msgType>Alert</msgType>",
        "<msgType>Cancel</msgType>",
        "references-required",
        "alert/references",
    ),
    (
        E,
        "trinet@caltech.edu,TRI13970876.1,2003-06-11T20:30:00-07:00",
        "trinet@caltech.edu TRI13970876.1 2003-06-11T20:30:00-07:00",
        "references-format",
        "alert/references",
    ),
    (
        E,
        "TRI13970876.1,2003-06-11T20:30:00-07:00",
        "TRI13970876.1,2003-06-12T03:30:00Z",
        "references-format",
        "alert/references",
    ),
    (
        H,
        "<scope>Public</scope>",
        "<scope>Private</scope>",
        "private-needs-addresses",
        "alert/addresses",
    ),
    (
        H,
        "<scope>Public</scope>",
        "<scope>Restricted</scope>",
        "restricted-needs-restriction",
        "alert/restriction",
    ),
    (H, "43b080713727", "43b 080713727", "restricted-characters", "alert/identifier"),
    (
        H,
        "<sender>hsas@dhs.gov</sender>",
        "<sender>hsas&amp;dhs.gov</sender>",
        "restricted-characters",
        "alert/sender",
    ),
    (
        H,
        "<sender>hsas@dhs.gov</sender>",
        "<sender>hsas,dhs.gov</sender>",
        "restricted-characters",
        "alert/sender",
    ),
    (
        T,
        POLY,
        "38.47,-120.14 38.34,-119.95 38.47,-120.14",
        "polygon-min-points",
        f"{AREA0}/polygon[0]",
    ),
    (
        T,
        POLY,
        "38.47,-120.14 38.34,-119.95 38.52,-119.74 38.62,-119.89",
        "polygon-not-closed",
        f"{AREA0}/polygon[0]",
    ),
    (
        T,
        POLY,
        "38.47,-120.14 38.52,-119.74 38.34,-119.95 38.62,-119.89 38.47,-120.14",
        "polygon-self-intersects",
        f"{AREA0}/polygon[0]",
    ),
    (T, "38.47,-120.14", "98.47,-120.14", "coordinate-range", f"{AREA0}/polygon[0]"),
    (T, "38.52,-119.74", "38.52,-189.74", "coordinate-range", f"{AREA0}/polygon[0]"),
    (E, "32.9525,-115.5527 0", "-92.9525,-115.5527 0", "coordinate-range", f"{AREA0}/circle[0]"),
    (T, "38.34,-119.95", "38.34;-119.95", "coordinate-format", f"{AREA0}/polygon[0]"),
    (T, "38.34,-119.95", "38.34,1e2", "coordinate-format", f"{AREA0}/polygon[0]"),
    (E, "32.9525,-115.5527 0", "32.9525,-115.5527", "circle-format", f"{AREA0}/circle[0]"),
    (E, "32.9525,-115.5527 0", "32.9525,-115.5527 -1", "circle-format", f"{AREA0}/circle[0]"),
    (T, POLY, POLY.replace(",", ", "), "whitespace-in-value", f"{AREA0}/polygon[0]"),
    (T, POLY, f"\n        {POLY}\n      ", "whitespace-in-value", f"{AREA0}/polygon[0]"),
    (E, "32.9525,-115.5527 0", "32.9525,-115.5527  0", "whitespace-in-value", f"{AREA0}/circle[0]"),
    (
        H,
        "<scope>Public</scope>",
        "<scope>Public</scope><code>IPAWS v1.0</code>",
        "whitespace-in-value",
        "alert/code[0]",
    ),
    (
        T,
        "<value>006109</value>",
        "<value> 006109</value>",
        "whitespace-in-value",
        f"{AREA0}/geocode[0]",
    ),
    (T, "<value>006109</value>", "", "geocode-pair", f"{AREA0}/geocode[0]"),
    (
        T,
        "<valueName>SAME</valueName>\n        <value>006003</value>",
        "<value>006003</value>",
        "geocode-pair",
        f"{AREA0}/geocode[2]",
    ),
    (T, "<value>SVR</value>", "", "value-pair", "alert/info[0]/eventCode[0]"),
    (H, "<valueName>HSAS</valueName>", "", "value-pair", "alert/info[0]/parameter[0]"),
    (
        A,
        "<language>en-US</language>",
        "<language>en_US</language>",
        "language-format",
        "alert/info[0]/language",
    ),
    (
        H,
        "<web>http://www.dhs.gov/dhspublic/display?theme=29</web>",
        "<web>www.dhs.gov</web>",
        "uri-format",
        "alert/info[0]/web",
    ),
    (
        H,
        "<uri>http://www.dhs.gov/dhspublic/getAdvisoryImage</uri>",
        "<uri>advisory.gif</uri>",
        "uri-format",
        "alert/info[0]/resource[0]/uri",
    ),
    (
        H,
        "<mimeType>image/gif</mimeType>",
        "<mimeType>gif</mimeType>",
        "mime-format",
        "alert/info[0]/resource[0]/mimeType",
    ),
    (
        H,
        "<mimeType>image/gif</mimeType>",
        "<mimeType>image/gif</mimeType><size>1.5k</size>",
        "number-format",
        "alert/info[0]/resource[0]/size",
    ),
    (
        H,
        "</uri>",
        "</uri><derefUri>not base64!</derefUri>",
        "base64-format",
        "alert/info[0]/resource[0]/derefUri",
    ),
    (
        H,
        "</uri>",
        "</uri><digest>abc123</digest>",
        "digest-format",
        "alert/info[0]/resource[0]/digest",
    ),
    (
        H,
        "worldwide</areaDesc>",
        "worldwide</areaDesc><altitude>high</altitude>",
        "number-format",
        f"{AREA0}/altitude",
    ),
    (
        H,
        "worldwide</areaDesc>",
        "worldwide</areaDesc><ceiling>1000</ceiling>",
        "ceiling-needs-altitude",
        f"{AREA0}/ceiling",
    ),
    (
        H,
        "worldwide</areaDesc>",
        "worldwide</areaDesc><altitude>900</altitude><ceiling>10</ceiling>",
        "ceiling-below-altitude",
        f"{AREA0}/ceiling",
    ),
    (
        H,
        "<scope>Public</scope>",
        '<scope>Public</scope><incidents>"a b</incidents>',
        "quoted-list-format",
        "alert/incidents",
    ),
    (
        H,
        "<scope>Public</scope>",
        "<scope>Public</scope><colour>orange</colour>",
        "unknown-element",
        "alert/colour",
    ),
    (
        H,
        "<status>Actual</status>",
        "<status>Actual</status><status>Actual</status>",
        "duplicate-element",
        "alert/status",
    ),
    (
        H,
        "<status>Actual</status>\n  <msgType>Alert</msgType>",
        "<msgType>Alert</msgType>\n  <status>Actual</status>",
        "element-order",
        "alert/status",
    ),
    (
        H,
        "<event>Homeland Security Advisory System Update</event>",
        "<event>Homeland Security Advisory System Update<b>!</b></event>",
        "unexpected-content",
        "alert/info[0]/event",
    ),
    (H, "<info>", "<info>stray words", "unexpected-content", "alert/info[0]"),
]


@pytest.mark.parametrize(
    ("example", "old", "new", "rule", "path"),
    CASES,
    ids=[f"{case[3]}:{case[4]}:{index}" for index, case in enumerate(CASES)],
)
def test_one_edit_gives_exactly_that_rule(
    example: str, old: str, new: str, rule: str, path: str
) -> None:
    data = edit(example, old, new)
    problems = validate(parse_cap(data))
    assert [(p.rule, p.path) for p in problems] == [(rule, path)], problems
    with pytest.raises(CapError) as caught:
        parse_and_validate(data)
    assert caught.value.problems == problems
    assert caught.value.code == "invalid-cap"


def test_every_rule_has_a_case() -> None:
    covered = {case[3] for case in CASES}
    documented = {
        "required",
        "category-required",
        "enum",
        "datetime-offset",
        "datetime-format",
        "references-required",
        "references-format",
        "private-needs-addresses",
        "restricted-needs-restriction",
        "restricted-characters",
        "polygon-min-points",
        "polygon-not-closed",
        "polygon-self-intersects",
        "coordinate-range",
        "coordinate-format",
        "circle-format",
        "whitespace-in-value",
        "geocode-pair",
        "value-pair",
        "language-format",
        "uri-format",
        "mime-format",
        "number-format",
        "base64-format",
        "digest-format",
        "ceiling-needs-altitude",
        "ceiling-below-altitude",
        "quoted-list-format",
        "unknown-element",
        "duplicate-element",
        "element-order",
        "unexpected-content",
    }
    assert documented <= covered


def test_whitespace_polygon_is_still_read() -> None:
    data = edit(THUNDERSTORM, POLY, POLY.replace(" ", "\n   ").replace(",", " , "))
    polygon = parse_cap(data).infos[0].areas[0].polygons[0]
    assert polygon.points == parse_cap(load(THUNDERSTORM)).infos[0].areas[0].polygons[0].points


def _ring(count: int) -> Polygon:
    step = 2 * math.pi / count
    ring = [
        (round(30 + math.sin(i * step), 6), round(110 + math.cos(i * step), 6))
        for i in range(count)
    ]
    return Polygon.from_points([*ring, ring[0]])


def _with_polygon(polygon: Polygon) -> Alert:
    alert = parse_cap(load(THUNDERSTORM))
    info = alert.infos[0]
    area = replace(info.areas[0], polygons=(polygon,))
    return replace(alert, infos=(replace(info, areas=(area,)),))


def test_vertex_limit_default_and_configurable() -> None:
    assert validate(_with_polygon(_ring(900))) == []
    problems = validate(_with_polygon(_ring(1200)))
    assert [(p.rule, p.path) for p in problems] == [
        ("polygon-too-many-vertices", f"{AREA0}/polygon[0]")
    ]
    tight = ValidationOptions(max_polygon_vertices=4)
    problems = validate(parse_cap(load(THUNDERSTORM)), tight)
    assert [p.rule for p in problems] == ["polygon-too-many-vertices"]
    with pytest.raises(CapError):
        parse_and_validate(load(THUNDERSTORM), tight)


def test_characters_xml_cannot_carry() -> None:
    alert = replace(parse_cap(load(HOMELAND)), note="bell\x07")
    assert validate(alert) == [Problem("alert/note", "xml-characters", validate(alert)[0].message)]
    with pytest.raises(CapError) as caught:
        serialize_cap(alert)
    assert [p.rule for p in caught.value.problems] == ["xml-characters"]


def test_model_built_in_code_is_checked_too() -> None:
    alert = parse_cap(load(HOMELAND))
    assert isinstance(alert.sent, dt.datetime)
    naive = replace(alert, sent=alert.sent.replace(tzinfo=None))
    assert [p.rule for p in validate(naive)] == ["datetime-offset"]
    info = Info(
        categories=(), event="", urgency="", severity="", certainty="", areas=(Area(area_desc=""),)
    )
    problems = validate(replace(alert, infos=(info,)))
    assert [(p.rule, p.path) for p in problems] == [
        ("category-required", "alert/info[0]/category"),
        ("required", "alert/info[0]/event"),
        ("required", "alert/info[0]/urgency"),
        ("required", "alert/info[0]/severity"),
        ("required", "alert/info[0]/certainty"),
        ("required", "alert/info[0]/area[0]/areaDesc"),
    ]


def test_many_problems_are_reported_at_once() -> None:
    text = load(THUNDERSTORM).decode()
    for old, new in [
        ("<sent>2003-06-17T14:57:00-07:00</sent>", "<sent>2003-06-17T21:57:00Z</sent>"),
        ("<scope>Public</scope>", "<scope>Private</scope>"),
        ("<category>Met</category>", ""),
        ("<urgency>Immediate</urgency>", "<urgency>ASAP</urgency>"),
        (POLY, "38.47,-120.14 38.34,-119.95 38.52,-119.74 38.62,-119.89"),
        ("<value>006009</value>", ""),
    ]:
        text = text.replace(old, new)
    with pytest.raises(CapError) as caught:
        parse_and_validate(text.encode())
    assert [(p.rule, p.path) for p in caught.value.problems] == [
        ("datetime-offset", "alert/sent"),
        ("private-needs-addresses", "alert/addresses"),
        ("category-required", "alert/info[0]/category"),
        ("enum", "alert/info[0]/urgency"),
        ("polygon-not-closed", f"{AREA0}/polygon[0]"),
        ("geocode-pair", f"{AREA0}/geocode[1]"),
    ]
    assert "6 rule(s)" in str(caught.value)


def test_second_info_and_area_paths() -> None:
    data = edit(AMBER, "<areaDesc>condado de Los Ángeles</areaDesc>", "")
    problems = validate(parse_cap(data))
    assert [(p.rule, p.path) for p in problems] == [("required", "alert/info[1]/area[0]/areaDesc")]


@pytest.mark.parametrize(
    ("example", "old", "new"),
    [
        (HOMELAND, "<status>Actual</status>", "<status>\n    Actual\n  </status>"),
        (AMBER, "<language>en-US</language>", "<language> en-US </language>"),
        (
            HOMELAND,
            "<sent>2003-04-02T14:39:01-05:00</sent>",
            "<sent> 2003-04-02T14:39:01-05:00\n</sent>",
        ),
    ],
)
def test_whitespace_the_schema_collapses_is_accepted(example: str, old: str, new: str) -> None:
    """xs:token, xs:language and xs:dateTime collapse whitespace, so this is valid CAP."""
    alert = parse_and_validate(edit(example, old, new))
    assert alert == parse_cap(load(example))
