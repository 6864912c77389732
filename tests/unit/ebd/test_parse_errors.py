"""parse_ebd is strict: every refusal names the element path and carries its ResultCode."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from protocols.ebd import (
    EbdInvalidValueError,
    EbdMissingDataError,
    EbdParseError,
    EbdResultError,
    EbdType,
    MsgBasicInfo,
    MsgType,
    ResultCode,
    build_ebd,
    parse_ebd,
)
from tests.unit.ebd.samples import sample_ebd


def _ebm_xml() -> str:
    return build_ebd(sample_ebd(EbdType.EBM)).decode("utf-8")


def _without(xml: str, element: str, occurrence: int = 0) -> bytes:
    """Drop the ``occurrence``-th <element>...</element> (with its line)."""
    pattern = re.compile(rf"\n\s*<{element}>.*?</{element}>", re.DOTALL)
    matches = list(pattern.finditer(xml))
    match = matches[occurrence]
    return (xml[: match.start()] + xml[match.end() :]).encode("utf-8")


def _replace(xml: str, old: str, new: str) -> bytes:
    assert old in xml
    return xml.replace(old, new, 1).encode("utf-8")


@pytest.mark.parametrize(
    ("element", "path"),
    [
        ("EBDID", "EBD/EBDID"),
        ("EBDTime", "EBD/EBDTime"),
        ("SRC", "EBD/SRC"),
        ("EBMID", "EBD/EBM/EBMID"),
        ("MsgBasicInfo", "EBD/EBM/MsgBasicInfo"),
        ("SenderName", "EBD/EBM/MsgBasicInfo/SenderName"),
        ("AuxiliaryType", "EBD/EBM/MsgContent[0]/Auxiliary[0]/AuxiliaryType"),
        ("LanguageCode", "EBD/EBM/MsgContent[0]/LanguageCode"),
    ],
)
def test_missing_required_element_names_its_path(element: str, path: str) -> None:
    with pytest.raises(EbdMissingDataError) as info:
        parse_ebd(_without(_ebm_xml(), element))
    assert info.value.path == path
    assert path in str(info.value)
    assert info.value.result_code == 3


def test_missing_area_code_in_second_content_names_the_index() -> None:
    with pytest.raises(EbdMissingDataError) as info:
        parse_ebd(_without(_ebm_xml(), "AreaCode", occurrence=1))
    assert info.value.path == "EBD/EBM/MsgContent[1]/AreaCode"


@pytest.mark.parametrize(
    ("old", "new", "path"),
    [
        ("<EBDID>10", "<EBDID>1X", "EBD/EBDID"),
        (
            "<EBMID>23400000000000101010101202306010001</EBMID>",
            "<EBMID>2340000000000010101010120230601000</EBMID>",
            "EBD/EBM/EBMID",
        ),
        (
            "<EBRID>23400000000000101010101</EBRID>",
            "<EBRID>93400000000000101010101</EBRID>",
            "EBD/SRC/EBRID",
        ),
        ("341523000000,341524000000", "341523000000,34152X", "EBD/EBM/MsgContent[0]/AreaCode[1]"),
        ("<Severity>3</Severity>", "<Severity>9</Severity>", "EBD/EBM/MsgBasicInfo/Severity"),
        ("<MsgType>1</MsgType>", "<MsgType>one</MsgType>", "EBD/EBM/MsgBasicInfo/MsgType"),
        (
            "<SendTime>2023-06-01 08:00:00</SendTime>",
            "<SendTime>2023-06-01T08:00:00</SendTime>",
            "EBD/EBM/MsgBasicInfo/SendTime",
        ),
        (
            "<EventType>11B03</EventType>",
            "<EventType>11B3</EventType>",
            "EBD/EBM/MsgBasicInfo/EventType",
        ),
        ("<Size>4</Size>", "<Size>-4</Size>", "EBD/EBM/MsgContent[0]/Auxiliary[0]/Size"),
    ],
)
def test_invalid_value_names_the_field(old: str, new: str, path: str) -> None:
    with pytest.raises(EbdInvalidValueError) as info:
        parse_ebd(_replace(_ebm_xml(), old, new))
    assert info.value.path == path
    assert info.value.result_code == 2


def test_ebd_type_body_mismatch_is_a_parse_failure() -> None:
    xml = _replace(_ebm_xml(), "<EBDType>EBM</EBDType>", "<EBDType>EBMStateRequest</EBDType>")
    with pytest.raises(
        EbdParseError, match="EBDType is EBMStateRequest but the body element is <EBM>"
    ):
        parse_ebd(xml)


def test_unknown_ebd_type_is_refused() -> None:
    xml = _replace(_ebm_xml(), "<EBDType>EBM</EBDType>", "<EBDType>EBMStreamPortRequest</EBDType>")
    with pytest.raises(EbdInvalidValueError) as info:
        parse_ebd(xml)
    assert info.value.path == "EBD/EBDType"


def test_missing_body_is_missing_data() -> None:
    with pytest.raises(EbdMissingDataError) as info:
        parse_ebd(_without(_ebm_xml(), "EBM"))
    assert info.value.path == "EBD/EBM"


def test_two_bodies_are_refused() -> None:
    xml = _ebm_xml().replace(
        "</EBD>", "<ConnectionCheck><RptTime>2023-06-01 08:00:00</RptTime></ConnectionCheck></EBD>"
    )
    with pytest.raises(EbdParseError, match="one body"):
        parse_ebd(xml.encode())


def test_a_repeated_single_element_is_refused() -> None:
    xml = _replace(
        _ebm_xml(),
        "<EBMVersion>1</EBMVersion>",
        "<EBMVersion>1</EBMVersion><EBMVersion>2</EBMVersion>",
    )
    with pytest.raises(EbdInvalidValueError, match="appears 2 times") as info:
        parse_ebd(xml)
    assert info.value.path == "EBD/EBM/EBMVersion"


def test_an_empty_typed_value_is_missing_data() -> None:
    with pytest.raises(EbdMissingDataError) as info:
        parse_ebd(_replace(_ebm_xml(), "<Severity>3</Severity>", "<Severity/>"))
    assert info.value.path == "EBD/EBM/MsgBasicInfo/Severity"


def test_element_names_are_case_sensitive() -> None:
    xml = _ebm_xml().replace("<MsgTitle>", "<msgTitle>").replace("</MsgTitle>", "</msgTitle>")
    with pytest.raises(EbdMissingDataError) as info:
        parse_ebd(xml.encode())
    assert info.value.path.endswith("MsgContent[0]/MsgTitle")


def test_a_real_broadcast_needs_event_type_but_a_cancel_does_not() -> None:
    with pytest.raises(EbdMissingDataError) as info:
        parse_ebd(_without(_ebm_xml(), "EventType"))
    assert info.value.path == "EBD/EBM/MsgBasicInfo/EventType"
    cancel = MsgBasicInfo(
        msg_type=MsgType.CANCEL, sender_name="x", sender_code="1", send_time=dt.datetime(2023, 1, 1)
    )
    assert cancel.event_type is None


def test_root_must_be_ebd() -> None:
    with pytest.raises(EbdParseError, match="expected <EBD>"):
        parse_ebd(b"<Signature/>")


def test_not_xml_is_a_parse_failure() -> None:
    with pytest.raises(EbdParseError) as info:
        parse_ebd(b"\x1f\x8b not xml")
    assert info.value.result_code == 2


def test_xml_bomb_is_refused() -> None:
    bomb = (
        b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>\n'
        b"<EBD><EBDVersion>&lol3;</EBDVersion></EBD>"
    )
    with pytest.raises(EbdParseError) as info:
        parse_ebd(bomb)
    assert info.value.code == "unsafe-xml"
    assert info.value.result_code == ResultCode.PARSE_FAILURE


def test_external_entity_is_refused() -> None:
    xxe = (
        b'<?xml version="1.0"?><!DOCTYPE EBD [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<EBD><EBDVersion>&x;</EBDVersion></EBD>"
    )
    with pytest.raises(EbdParseError):
        parse_ebd(xxe)


def test_oversized_body_is_other_error() -> None:
    from protocols.safexml import XmlLimits

    with pytest.raises(EbdParseError) as info:
        parse_ebd(_ebm_xml().encode(), XmlLimits(max_bytes=100))
    assert info.value.result_code == ResultCode.OTHER_ERROR


def test_legacy_ebe_header_is_refused_with_a_clear_reason() -> None:
    xml = _replace(
        _ebm_xml(),
        "<EBRID>23400000000000101010101</EBRID>\n    <URL>",
        "<EBEID>010334152300000002</EBEID>\n    <URL>",
    )
    with pytest.raises(EbdParseError, match="legacy 2016-17") as info:
        parse_ebd(xml)
    assert info.value.code == "ebd-legacy-format"


def test_all_refusals_share_one_base() -> None:
    assert issubclass(EbdMissingDataError, EbdResultError)
    assert issubclass(EbdInvalidValueError, EbdResultError)
    assert issubclass(EbdParseError, EbdResultError)
    assert issubclass(EbdResultError, ValueError)
