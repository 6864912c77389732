"""Hostile and foreign XML: refused quickly, with bounded memory, and never half-read."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable

import pytest

from protocols.cap import parse_and_validate, parse_cap
from protocols.errors import CapError, XmlSafetyError
from tests.unit.cap._golden import HOMELAND, edit, load

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&lol9;</identifier></alert>
"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE alert [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&xxe;</identifier></alert>
"""

PARSERS: list[Callable[[bytes], object]] = [parse_cap, parse_and_validate]


def _peak_bytes(action: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        with pytest.raises(XmlSafetyError):
            action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("parser", PARSERS)
@pytest.mark.parametrize("document", [BILLION_LAUGHS, XXE], ids=["billion-laughs", "xxe"])
def test_entity_attacks_are_refused_with_little_memory(
    parser: Callable[[bytes], object], document: bytes
) -> None:
    assert _peak_bytes(lambda: parser(document)) < 5 * 1024 * 1024


def test_xxe_never_reads_the_file() -> None:
    with pytest.raises(XmlSafetyError) as caught:
        parse_cap(XXE)
    assert "root:" not in str(caught.value)
    assert not isinstance(caught.value, CapError)


def test_malformed_xml_is_an_xml_safety_error() -> None:
    with pytest.raises(XmlSafetyError) as caught:
        parse_cap(load(HOMELAND)[:-20])
    assert caught.value.code == "malformed-xml"


def test_oversized_document_is_refused_before_parsing() -> None:
    with pytest.raises(XmlSafetyError) as caught:
        parse_cap(b"<alert>" + b" " * (3 * 1024 * 1024) + b"</alert>")
    assert caught.value.code == "payload-too-large"


@pytest.mark.parametrize(
    ("old", "new", "rule", "needle"),
    [
        ("cap:1.2", "cap:1.1", "namespace", "CAP 1.1"),
        (' xmlns="urn:oasis:names:tc:emergency:cap:1.2"', "", "namespace", "no namespace"),
        ("urn:oasis:names:tc:emergency:cap:1.2", "urn:example:other", "namespace", "not CAP 1.2"),
    ],
)
def test_other_namespaces_are_refused(old: str, new: str, rule: str, needle: str) -> None:
    with pytest.raises(CapError) as caught:
        parse_cap(edit(HOMELAND, old, new))
    (problem,) = caught.value.problems
    assert (problem.rule, problem.path) == (rule, "alert")
    assert needle in problem.message


def test_a_non_cap_root_is_a_cap_error() -> None:
    with pytest.raises(CapError) as caught:
        parse_cap(b'<EBD xmlns="urn:oasis:names:tc:emergency:cap:1.2"><EBDID>1</EBDID></EBD>')
    assert [p.rule for p in caught.value.problems] == ["root-element"]


def test_an_enveloped_signature_is_skipped_not_flagged() -> None:
    signature = '<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo/></Signature>'
    data = edit(HOMELAND, "</alert>", f"{signature}</alert>")
    assert parse_and_validate(data) == parse_cap(load(HOMELAND))


def test_elements_of_other_namespaces_inside_info_are_flagged() -> None:
    data = edit(HOMELAND, "<info>", '<info><x:extra xmlns:x="urn:example">1</x:extra>')
    with pytest.raises(CapError) as caught:
        parse_and_validate(data)
    assert [(p.rule, p.path) for p in caught.value.problems] == [
        ("unknown-element", "alert/info[0]/extra")
    ]
