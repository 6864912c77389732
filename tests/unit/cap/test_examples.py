"""The OASIS examples parse, validate clean and round-trip, both as models and as XML."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import pytest

from protocols.cap import (
    Category,
    MsgType,
    Scope,
    Severity,
    Status,
    parse_and_validate,
    parse_cap,
    parse_references,
    serialize_cap,
    validate,
)
from protocols.safexml import parse_xml
from tests.unit.cap._golden import AMBER, EARTHQUAKE, EXAMPLES, HOMELAND, THUNDERSTORM, load


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_is_valid(name: str) -> None:
    alert = parse_cap(load(name))
    assert validate(alert) == []
    assert parse_and_validate(load(name)) == alert


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_round_trips_as_a_model(name: str) -> None:
    alert = parse_cap(load(name))
    assert parse_cap(serialize_cap(alert)) == alert


def _same_tree(left: ET.Element, right: ET.Element, path: str = "") -> None:
    here = f"{path}/{left.tag}"
    assert left.tag == right.tag, here
    assert len(left) == len(right), here
    if len(left):
        for a, b in zip(left, right, strict=True):
            _same_tree(a, b, here)
    else:
        assert (left.text or "") == (right.text or ""), here


@pytest.mark.parametrize("name", EXAMPLES)
def test_serialised_xml_equals_the_original(name: str) -> None:
    original = load(name)
    written = serialize_cap(parse_cap(original))
    _same_tree(parse_xml(original), parse_xml(written))


def test_serialisation_is_canonical_and_stable() -> None:
    written = serialize_cap(parse_cap(load(THUNDERSTORM)))
    assert written.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<alert xmlns="urn:oasis')
    assert serialize_cap(parse_cap(written)) == written


def test_homeland_fields() -> None:
    alert = parse_cap(load(HOMELAND))
    assert alert.identifier == "43b080713727"
    assert alert.sent == dt.datetime(2003, 4, 2, 19, 39, 1, tzinfo=dt.UTC)
    assert alert.sent.utcoffset() == dt.timedelta(hours=-5)  # type: ignore[union-attr]
    assert (alert.status, alert.msg_type, alert.scope) == (
        Status.ACTUAL,
        MsgType.ALERT,
        Scope.PUBLIC,
    )
    info = alert.infos[0]
    assert info.categories == (Category.SECURITY,)
    assert info.severity is Severity.SEVERE
    assert info.instruction is not None and info.instruction.startswith(" A High")
    assert info.parameters[0].value_name == "HSAS" and info.parameters[0].value == "ORANGE"
    assert info.resources[0].mime_type == "image/gif"
    assert info.effective_language == "en-US"


def test_thunderstorm_geometry() -> None:
    area = parse_cap(load(THUNDERSTORM)).infos[0].areas[0]
    points = area.polygons[0].points
    assert len(points) == 5 and points[0] == points[-1] == (38.47, -120.14)
    assert [g.value for g in area.geocodes] == ["006109", "006009", "006003"]


def test_earthquake_references_and_circle() -> None:
    alert = parse_cap(load(EARTHQUAKE))
    assert alert.references is not None
    (ref,) = parse_references(alert.references)
    assert (ref.sender, ref.identifier) == ("trinet@caltech.edu", "TRI13970876.1")
    assert ref.sent == dt.datetime(2003, 6, 12, 3, 30, tzinfo=dt.UTC)
    circle = alert.infos[0].areas[0].circles[0]
    assert circle.center == (32.9525, -115.5527) and circle.radius_km == 0


def test_amber_has_two_languages() -> None:
    alert = parse_cap(load(AMBER))
    assert [i.language for i in alert.infos] == ["en-US", "es-US"]
    assert alert.infos[1].event == "Abducción de Niño"
    assert alert.source == "SW"
