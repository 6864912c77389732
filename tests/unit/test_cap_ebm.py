"""CAP 1.2 <-> EBM mapping: one test per table row, the refusals, and the lost-information list."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

import pytest

from protocols.cap import (
    Alert,
    Category,
    Certainty,
    Info,
    MsgType,
    Reference,
    Resource,
    Scope,
    Severity,
    Status,
    Urgency,
    ValuePair,
    parse_cap,
    validate,
)
from protocols.cap_ebm import (
    CHINA_STANDARD_TIME,
    DEFAULT_EVENT_TABLE,
    MappingOptions,
    cap_to_ebm,
    ebm_to_cap,
)
from protocols.codes import EBDID, EBMID, ResourceCode
from protocols.ebd import (
    Auxiliary,
    AuxiliaryType,
    Ebd,
    Ebm,
    MsgBasicInfo,
    MsgContent,
    RelatedInfo,
    Src,
    build_ebd,
    parse_ebd,
)
from protocols.ebd import MsgType as EbmMsgType
from protocols.ebd import Severity as EbmSeverity
from protocols.errors import CapError
from tests.unit.cap._golden import AMBER, HOMELAND, THUNDERSTORM, edit, load

PLATFORM = "23400000000000101010101"
OLD_EBMID = "23400000000000101010101200306170001"
GB = ValuePair("GB2260", "341523")
T_SENT = dt.datetime(2003, 6, 18, 5, 57)  # 2003-06-17T14:57:00-07:00 in China Standard Time


def _storm(**changes: Any) -> Alert:
    """The OASIS thunderstorm warning aimed at a Chinese county (GB2260 341523)."""
    alert = parse_cap(load(THUNDERSTORM))
    info = alert.infos[0]
    area = replace(info.areas[0], geocodes=(GB,))
    info_changes = {k: changes.pop(k) for k in list(changes) if k in Info.__dataclass_fields__}
    info = replace(info, areas=(area,), **info_changes)
    return replace(alert, infos=(info,), **changes)


def _map(alert: Alert, **kwargs: Any) -> Any:
    kwargs.setdefault("ebrid", PLATFORM)
    kwargs.setdefault("sequence", 1)
    return cap_to_ebm(alert, **kwargs)


def _rules(alert: Alert, **kwargs: Any) -> list[tuple[str, str]]:
    with pytest.raises(CapError) as caught:
        _map(alert, **kwargs)
    return [(p.rule, p.path) for p in caught.value.problems]


# ------------------------------------------------------------------ severity


SEVERITY_ROWS = [
    (Severity.EXTREME, EbmSeverity.RED),
    (Severity.SEVERE, EbmSeverity.ORANGE),
    (Severity.MODERATE, EbmSeverity.YELLOW),
    (Severity.MINOR, EbmSeverity.BLUE),
    (Severity.UNKNOWN, EbmSeverity.UNKNOWN),
]


@pytest.mark.parametrize(("cap", "ebm"), SEVERITY_ROWS)
def test_severity_both_ways(cap: Severity, ebm: EbmSeverity) -> None:
    mapped = _map(_storm(severity=cap)).ebm
    assert mapped.msg_basic_info.severity is ebm
    assert ebm_to_cap(mapped).alert.infos[0].severity == cap


def test_the_highest_severity_of_several_infos_wins() -> None:
    alert = _storm()
    second = replace(alert.infos[0], severity=Severity.EXTREME, language="en-US")
    result = _map(replace(alert, infos=(alert.infos[0], second)))
    assert result.ebm.msg_basic_info.severity is EbmSeverity.RED
    assert (
        "alert/info[0]/severity: Severe (the EBM has one Severity; the highest, 1, was used)"
        in result.lost
    )


# ------------------------------------------------------------------ status / msgType


@pytest.mark.parametrize(
    ("status", "msg_type", "expected"),
    [
        (Status.ACTUAL, MsgType.ALERT, EbmMsgType.REAL),
        (Status.ACTUAL, MsgType.UPDATE, EbmMsgType.REAL),
        (Status.ACTUAL, MsgType.CANCEL, EbmMsgType.CANCEL),
        (Status.EXERCISE, MsgType.ALERT, EbmMsgType.PLATFORM_DRILL),
        (Status.TEST, MsgType.ALERT, EbmMsgType.TERMINAL_DRILL),
        (Status.EXERCISE, MsgType.CANCEL, EbmMsgType.CANCEL),
    ],
)
def test_msg_type_to_ebm(status: Status, msg_type: MsgType, expected: EbmMsgType) -> None:
    refs = (
        "KSTO@NWS.NOAA.GOV,KSTO1,2003-06-17T14:00:00-07:00" if msg_type != MsgType.ALERT else None
    )
    result = _map(
        _storm(status=status, msg_type=msg_type, references=refs), related_ebmid=OLD_EBMID
    )
    assert result.ebm.msg_basic_info.msg_type is expected
    assert result.ebm.related_info.ebmid == EBMID(OLD_EBMID)
    if status is Status.EXERCISE and msg_type == MsgType.CANCEL:
        assert "alert/status: Exercise (an EBM cancel carries no drill flag)" in result.lost


def test_drill_choices_are_configurable() -> None:
    options = MappingOptions(
        exercise_msg_type=EbmMsgType.FRONTEND_DRILL, test_msg_type=EbmMsgType.PLATFORM_DRILL
    )
    assert (
        _map(_storm(status=Status.EXERCISE), options=options).ebm.msg_basic_info.msg_type
        is EbmMsgType.FRONTEND_DRILL
    )
    assert (
        _map(_storm(status=Status.TEST), options=options).ebm.msg_basic_info.msg_type
        is EbmMsgType.PLATFORM_DRILL
    )


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        ({"status": Status.SYSTEM}, "alert/status"),
        ({"status": Status.DRAFT}, "alert/status"),
        ({"msg_type": MsgType.ACK, "references": "a,b,2003-06-17T14:00:00-07:00"}, "alert/msgType"),
        (
            {"msg_type": MsgType.ERROR, "references": "a,b,2003-06-17T14:00:00-07:00"},
            "alert/msgType",
        ),
    ],
)
def test_messages_that_are_never_broadcast(changes: dict[str, Any], path: str) -> None:
    assert _rules(_storm(**changes)) == [("ebm-not-broadcastable", path)]


def test_a_cancel_needs_the_ebmid_it_cancels() -> None:
    cancel = _storm(msg_type=MsgType.CANCEL, references="K,1,2003-06-17T14:00:00-07:00")
    assert _rules(cancel) == [("ebm-related-ebmid-required", "alert/references")]


def test_an_update_without_a_resolved_reference_is_aired_and_says_so() -> None:
    refs = "KSTO@NWS.NOAA.GOV,KSTO1,2003-06-17T14:00:00-07:00"
    result = _map(_storm(msg_type=MsgType.UPDATE, references=refs))
    assert result.ebm.related_info.ebmid is None
    assert f"alert/references: {refs} (not resolved to an EBMID)" in result.lost


@pytest.mark.parametrize(
    ("ebm_type", "references", "status", "msg_type"),
    [
        (EbmMsgType.REAL, False, Status.ACTUAL, MsgType.ALERT),
        (EbmMsgType.REAL, True, Status.ACTUAL, MsgType.UPDATE),
        (EbmMsgType.CANCEL, True, Status.ACTUAL, MsgType.CANCEL),
        (EbmMsgType.PLATFORM_DRILL, False, Status.EXERCISE, MsgType.ALERT),
        (EbmMsgType.FRONTEND_DRILL, False, Status.EXERCISE, MsgType.ALERT),
        (EbmMsgType.TERMINAL_DRILL, False, Status.TEST, MsgType.ALERT),
    ],
)
def test_msg_type_to_cap(
    ebm_type: EbmMsgType, references: bool, status: Status, msg_type: MsgType
) -> None:
    refs = [Reference("platform", OLD_EBMID, dt.datetime(2003, 6, 17, 8, tzinfo=dt.UTC))]
    ebm = _ebm(msg_type=ebm_type)
    result = ebm_to_cap(ebm, references=refs if references else ())
    assert (result.alert.status, result.alert.msg_type) == (status, msg_type)
    if references:
        assert result.alert.references == f"platform,{OLD_EBMID},2003-06-17T08:00:00-00:00"
    shared = "EBM/MsgBasicInfo/MsgType: 4 (CAP status Exercise also stands for MsgType 3, 4)"
    assert (shared in result.lost) == (ebm_type is EbmMsgType.FRONTEND_DRILL)


def test_an_ebm_cancel_without_references_is_not_valid_cap() -> None:
    with pytest.raises(CapError) as caught:
        ebm_to_cap(_ebm(msg_type=EbmMsgType.CANCEL))
    assert [p.rule for p in caught.value.problems] == ["references-required"]


# ------------------------------------------------------------------ event type


@pytest.mark.parametrize(("event", "code"), sorted(DEFAULT_EVENT_TABLE.items()))
def test_default_event_table(event: str, code: str) -> None:
    result = _map(_storm(event=event.upper() if event.isascii() else event, event_codes=()))
    assert result.ebm.msg_basic_info.event_type == code
    back = ebm_to_cap(result.ebm).alert.infos[0]
    assert back.event_codes == (ValuePair("EBEventType", code),)
    assert back.categories[0] in (Category.MET, Category.FIRE)


def test_the_eb_event_type_event_code_wins() -> None:
    codes = (ValuePair("SAME", "SVR"), ValuePair("EBEventType", "11B06"))
    result = _map(_storm(event="typhoon", event_codes=codes))
    assert result.ebm.msg_basic_info.event_type == "11B06"
    assert "alert/info[0]/eventCode[0]: SAME SVR" in result.lost


def test_category_table_and_fallback() -> None:
    options = MappingOptions(category_table={"Met": "11B99"})
    assert _map(_storm(), options=options).ebm.msg_basic_info.event_type == "11B99"
    result = _map(_storm())
    assert result.ebm.msg_basic_info.event_type == "00000"
    assert (
        "alert/info[0]/event: SEVERE THUNDERSTORM (no EventType mapping; sent as 00000)"
        in result.lost
    )
    strict = MappingOptions(fallback_event_type=None)
    assert _rules(_storm(), options=strict) == [("ebm-event-type-unmapped", "alert/info[0]/event")]


def test_a_malformed_eb_event_type_is_refused() -> None:
    bad = _storm(event_codes=(ValuePair("EBEventType", "11B3"),))
    assert _rules(bad) == [("ebm-event-type-format", "alert/info[0]/eventCode[0]")]


# ------------------------------------------------------------------ areas and geometry


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("34", "340000000000"),
        ("341523", "341523000000"),
        ("341523100", "341523100000"),
        ("341523100200", "341523100200"),
    ],
)
def test_gb2260_geocodes_become_12_digit_area_codes(value: str, code: str) -> None:
    alert = _storm()
    area = replace(alert.infos[0].areas[0], geocodes=(ValuePair("GB2260", value),))
    mapped = _map(replace(alert, infos=(replace(alert.infos[0], areas=(area,)),)))
    assert mapped.ebm.contents[0].area_codes == (code,)
    back = ebm_to_cap(mapped.ebm).alert.infos[0].areas[0]
    assert back.geocodes == (ValuePair("GB2260", code),)


def test_a_bad_gb2260_code_is_refused() -> None:
    alert = _storm()
    area = replace(alert.infos[0].areas[0], geocodes=(GB, ValuePair("GB2260", "3415X")))
    problems = _rules(replace(alert, infos=(replace(alert.infos[0], areas=(area,)),)))
    assert problems == [("gb2260-format", "alert/info[0]/area[0]/geocode[1]")]


def test_geometry_is_returned_and_other_geocodes_are_lost() -> None:
    original = parse_cap(load(THUNDERSTORM))
    assert _rules(original) == [("ebm-area-required", "alert/info[0]/area")]
    result = _map(original, extra_area_codes=["341523"])
    assert result.ebm.contents[0].area_codes == ("341523000000",)
    assert [p.points[0] for p in result.polygons] == [(38.47, -120.14)]
    assert result.circles == ()
    assert (
        "alert/info[0]/area[0]/geocode[0]: SAME 006109 (the EBM carries only GB2260 region codes)"
    ) in result.lost
    quake = edit(
        "oasis-example3-earthquake-update.xml",
        "</circle>",
        "</circle><geocode><valueName>GB2260</valueName><value>341523</value></geocode>",
    )
    circles = _map(parse_cap(quake)).circles
    assert [(c.center, c.radius_km) for c in circles] == [((32.9525, -115.5527), 0.0)]


# ------------------------------------------------------------------ times, ids, language


def test_times_are_china_standard_time_wall_clock() -> None:
    basic = _map(_storm()).ebm.msg_basic_info
    assert basic.send_time == T_SENT and basic.send_time.tzinfo is None
    assert basic.start_time == T_SENT  # no <effective>: CAP says it is <sent>
    assert basic.end_time == dt.datetime(2003, 6, 18, 7, 0)
    utc = MappingOptions(zone=dt.UTC)
    assert _map(_storm(), options=utc).ebm.msg_basic_info.send_time == dt.datetime(
        2003, 6, 17, 21, 57
    )


def test_missing_expires_uses_the_default_duration_or_is_refused() -> None:
    result = _map(_storm(expires=None))
    assert result.ebm.msg_basic_info.end_time == T_SENT + dt.timedelta(hours=1)
    assert "alert/info[0]/expires: absent; EndTime assumed 2003-06-18 06:57:00" in result.lost
    strict = MappingOptions(default_duration=None)
    assert _rules(_storm(expires=None), options=strict) == [
        ("ebm-end-time-required", "alert/info[0]/expires")
    ]


def test_ebmid_from_platform_day_and_sequence() -> None:
    assert _map(_storm(), sequence=42).ebm.ebmid == EBMID(f"{PLATFORM}200306180042")
    day = dt.date(2024, 1, 2)
    assert _map(_storm(), day=day).ebm.ebmid.value.endswith("202401020001")
    assert _map(_storm()).ebm.related_info.ebiid == "KSTO1055887203"


def test_languages_become_one_content_each() -> None:
    amber = edit(
        AMBER,
        "<valueName>SAME</valueName>\n        <value>006037</value>",
        "<valueName>GB2260</valueName>\n        <value>341523</value>",
    )
    result = _map(parse_cap(amber))
    assert [c.language_code for c in result.ebm.contents] == ["eng", "spa"]
    assert result.ebm.contents[1].msg_title == "Alerta Amber en el condado de Los Ángeles"
    alert = _storm()
    twice = replace(alert, infos=(alert.infos[0], alert.infos[0]))
    result = _map(twice)
    assert [c.language_code for c in result.ebm.contents] == ["zho"]
    assert "alert/info[0]/language: absent; taken as zho (CAP would say en-US)" in result.lost
    assert (
        "alert/info[1]: the text of a second info in zho (one MsgContent per language; "
        "its areas were merged)"
    ) in result.lost


# ------------------------------------------------------------------ scope, resources, lost


def test_non_public_scope_is_refused_unless_allowed() -> None:
    private = _storm(scope=Scope.PRIVATE, addresses="ops@example")
    assert _rules(private) == [("ebm-not-public", "alert/scope")]
    result = _map(private, options=MappingOptions(allow_non_public=True))
    assert "alert/scope: Private (an EBM is broadcast to everyone)" in result.lost
    assert "alert/addresses: ops@example" in result.lost


def test_resources_become_auxiliaries() -> None:
    resources = (
        Resource(
            resource_desc="siren",
            mime_type="audio/mpeg",
            size=4,
            uri="http://x.example/siren.mp3",
            digest="a9993e364706816aba3e25717850c26c9cd0d89d",
        ),
        Resource(resource_desc="map", mime_type="application/pdf", uri="http://x.example/m.pdf"),
        Resource(resource_desc="inline", mime_type="image/png", deref_uri="AAAA"),
    )
    result = _map(_storm(resources=resources))
    (aux,) = result.ebm.contents[0].auxiliaries
    assert aux == Auxiliary(
        auxiliary_type=AuxiliaryType.MP3,
        auxiliary_desc="http://x.example/siren.mp3",
        size=4,
        digest="a9993e364706816aba3e25717850c26c9cd0d89d",
    )
    assert "alert/info[0]/resource[1]: map (application/pdf has no AuxiliaryType)" in result.lost
    assert any(line.startswith("alert/info[0]/resource[2]: inline (no URI") for line in result.lost)
    back = ebm_to_cap(result.ebm).alert.infos[0].resources[0]
    assert (back.mime_type, back.uri, back.size) == ("audio/mpeg", aux.auxiliary_desc, 4)


def test_lost_list_names_everything_the_ebm_cannot_carry() -> None:
    homeland = edit(
        HOMELAND,
        "<areaDesc>U.S. nationwide and interests worldwide</areaDesc>",
        "<areaDesc>county</areaDesc><geocode><valueName>GB2260</valueName>"
        "<value>341523</value></geocode>",
    )
    lost = _map(parse_cap(homeland)).lost
    assert lost == [
        "alert/info[0]/language: absent; taken as zho (CAP would say en-US)",
        "alert/info[0]/resource[0]/resourceDesc: Image file (GIF) (AuxiliaryDesc holds the URI)",
        "alert/info[0]/expires: absent; EndTime assumed 2003-04-03 04:39:01",
        "alert/info[0]/event: Homeland Security Advisory System Update (no EventType mapping; "
        "sent as 00000)",
        "alert/info[0]/urgency: Immediate (the EBM has no urgency)",
        "alert/info[0]/certainty: Likely (the EBM has no certainty)",
        "alert/info[0]/category[0]: Security",
        "alert/info[0]/event: Homeland Security Advisory System Update "
        "(MsgTitle holds the headline)",
        "alert/info[0]/instruction: appended to MsgDesc after the description",
        "alert/info[0]/web: http://www.dhs.gov/dhspublic/display?theme=29",
        "alert/info[0]/parameter[0]: HSAS ORANGE",
        "alert/info[0]/area[0]/areaDesc: county",
    ]


# ------------------------------------------------------------------ round trips


def _ebm(msg_type: EbmMsgType = EbmMsgType.REAL) -> Ebm:
    t0 = dt.datetime(2023, 6, 1, 8, 0)
    return Ebm(
        ebm_version="1",
        ebmid=EBMID("23400000000000101010101202306010001"),
        related_info=RelatedInfo(ebiid="CAP-1", ebmid=EBMID(OLD_EBMID)),
        msg_basic_info=MsgBasicInfo(
            msg_type=msg_type,
            sender_name="某省应急管理厅",
            sender_code="340000000000",
            send_time=t0,
            event_type="11B03",
            severity=EbmSeverity.YELLOW,
            start_time=t0 + dt.timedelta(minutes=5),
            end_time=t0 + dt.timedelta(hours=6),
        ),
        contents=(
            MsgContent(
                language_code="zho",
                msg_title="暴雨黄色预警",
                msg_desc="注意防范。",
                area_codes=("341523000000", "341524000000"),
                program_num=12,
                auxiliaries=(
                    Auxiliary(auxiliary_type=AuxiliaryType.MP3, auxiliary_desc="rain.mp3"),
                ),
            ),
            MsgContent(
                language_code="eng",
                msg_title="Rainstorm yellow warning",
                area_codes=("341523000000",),
                msg_desc="Take care.",
            ),
        ),
    )


def test_ebm_to_cap_fields_and_lost() -> None:
    result = ebm_to_cap(_ebm())
    alert = result.alert
    assert validate(alert) == []
    assert alert.identifier == "23400000000000101010101202306010001"
    assert alert.sender == "340000000000"
    assert alert.sent == dt.datetime(2023, 6, 1, 8, 0, tzinfo=CHINA_STANDARD_TIME)
    zh, en = alert.infos
    assert (zh.language, zh.event, en.event) == ("zh", "暴雨", "Rainstorm")
    assert (zh.urgency, zh.certainty) == (Urgency.UNKNOWN, Certainty.UNKNOWN)
    assert zh.severity == Severity.MODERATE
    assert zh.effective == dt.datetime(2023, 6, 1, 8, 5, tzinfo=CHINA_STANDARD_TIME)
    assert [g.value for g in zh.areas[0].geocodes] == ["341523000000", "341524000000"]
    assert result.lost == [
        "EBM/RelatedInfo/EBIID: CAP-1",
        f"EBM/RelatedInfo/EBMID: {OLD_EBMID} (no CAP reference was given)",
        "EBM/MsgContent[0]/ProgramNum: 12",
        "EBM/MsgContent[0]/Auxiliary[0]: rain.mp3 (a file in the EBD package; CAP needs a URI "
        "or the content inline)",
    ]


def test_ebm_cap_ebm_keeps_what_both_sides_have() -> None:
    original = _ebm()
    alert = ebm_to_cap(original).alert
    again = cap_to_ebm(alert, ebrid=PLATFORM, sequence=1, day=dt.date(2023, 6, 1)).ebm
    assert again.ebmid == original.ebmid
    assert again.msg_basic_info == replace(original.msg_basic_info)
    for before, after in zip(original.contents, again.contents, strict=True):
        assert (after.language_code, after.msg_title, after.msg_desc, after.area_codes) == (
            before.language_code,
            before.msg_title,
            before.msg_desc,
            before.area_codes,
        )


def test_cap_ebm_cap_keeps_what_both_sides_have() -> None:
    alert = _storm(
        event_codes=(ValuePair("EBEventType", "11B03"),),
        effective=dt.datetime(2003, 6, 17, 15, 0, tzinfo=dt.timezone(dt.timedelta(hours=-7))),
    )
    back = ebm_to_cap(_map(alert).ebm).alert
    assert back.sent == alert.sent and back.status == alert.status
    first, again = alert.infos[0], back.infos[0]
    assert (again.severity, again.effective, again.expires) == (
        first.severity,
        first.effective,
        first.expires,
    )
    assert again.headline == first.headline
    assert again.event_codes == (ValuePair("EBEventType", "11B03"),)
    assert validate(back) == []


def test_the_mapped_ebm_survives_the_ebd_codec() -> None:
    ebm = _map(_storm()).ebm
    source = ResourceCode(PLATFORM)
    ebd = Ebd(
        ebdid=EBDID.build(source, dt.date(2003, 6, 18), 1),
        src=Src(ebrid=source),
        ebd_time=T_SENT,
        body=ebm,
    )
    assert parse_ebd(build_ebd(ebd)).body == ebm


def test_what_the_ebm_model_refuses_is_reported_as_a_cap_error() -> None:
    early = dt.datetime(2003, 6, 17, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=-7)))
    assert _rules(_storm(expires=early)) == [("ebm-invalid", "EBM/MsgBasicInfo/EndTime")]
    klingon = _storm(language="i-klingon")
    assert _rules(klingon) == [("ebm-invalid", "EBM/MsgContent[0]/LanguageCode")]


def test_an_alert_without_info_is_not_broadcast() -> None:
    assert _rules(replace(_storm(), infos=())) == [("ebm-info-required", "alert/info")]
