"""Incoming alert formats -> AlertMessage: CAP 1.2 XML and the EBM as JSON.

CAP choices (docs/cap-ebm-mapping.md has the whole table): Actual is a real broadcast,
Exercise a platform drill (MsgType 3), Test a terminal drill (MsgType 5); System and Draft
messages are not broadcast. The GY/T EventType comes from an ``eventCode`` named
``EBEventType``, else from the mapping's default event table by the CAP ``event`` text, else
``00000`` (unknown). The tables are protocols.cap_ebm's, so both paths agree.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from dispatcher.domain.alert import AlertMessage, AlertText, MsgType, Severity
from dispatcher.errors import IntakeError
from protocols.cap import parse_and_validate
from protocols.cap.ebm.tables import (
    CHINA_STANDARD_TIME,
    DEFAULT_EVENT_TABLE,
    EVENT_CODE_NAME,
    GEOCODE_NAME,
    LANGUAGE_TO_EBM,
    SEVERITY_TO_EBM,
    UNKNOWN_EVENT_TYPE,
)
from protocols.cap.model import Alert, parse_references
from protocols.codes import EBMID, RegionCode
from protocols.ebd import Ebm
from protocols.errors import CapError, CodeError, XmlSafetyError

CAP_TYPES = ("application/cap+xml", "application/xml", "text/xml")
JSON_TYPES = ("application/json",)

DRILL_FROM_CAP_STATUS = {"Exercise": MsgType.PLATFORM_DRILL, "Test": MsgType.TERMINAL_DRILL}
CHINA_TZ = CHINA_STANDARD_TIME


def media_kind(content_type: str) -> str:
    media = content_type.split(";", 1)[0].strip().lower()
    if media in CAP_TYPES:
        return "cap"
    if media in JSON_TYPES:
        return "ebm"
    raise IntakeError(
        "unsupported-media-type",
        f"Content-Type {media or '(none)'!r} is not accepted; send CAP 1.2 as "
        "application/cap+xml (or application/xml) or an EBM as application/json",
    )


def parse_alert(raw: bytes, kind: str) -> AlertMessage:
    return cap_to_message(raw) if kind == "cap" else ebm_json_to_message(raw)


def _language(code: str | None) -> str:
    if not code:
        return "zho"
    base = code.split("-", 1)[0].lower()
    return base if len(base) == 3 else LANGUAGE_TO_EBM.get(base, base)


def _when(value: object) -> dt.datetime | None:
    return value if isinstance(value, dt.datetime) else None


def cap_to_message(raw: bytes) -> AlertMessage:
    try:
        alert: Alert = parse_and_validate(raw)
    except CapError as exc:
        raise IntakeError(
            "invalid-cap",
            str(exc),
            extra={
                "problems": [
                    {"path": p.path, "rule": p.rule, "message": p.message} for p in exc.problems
                ]
            },
        ) from exc
    except XmlSafetyError as exc:
        code = "payload-too-large" if exc.code == "payload-too-large" else "invalid-cap"
        raise IntakeError(code, str(exc)) from exc
    status, kind = str(alert.status), str(alert.msg_type)
    if status not in ("Actual", "Exercise", "Test"):
        raise IntakeError(
            "invalid-cap",
            f"CAP status {status} is not broadcast (only Actual, Exercise and Test are)",
        )
    if kind not in ("Alert", "Update", "Cancel"):
        raise IntakeError("invalid-cap", f"CAP msgType {kind} is not an alert to broadcast")
    drill_type = DRILL_FROM_CAP_STATUS.get(status)
    msg_type = MsgType.CANCEL if kind == "Cancel" else (drill_type or MsgType.REAL)
    infos = alert.infos
    codes: list[RegionCode] = []
    polygons: list[tuple[tuple[float, float], ...]] = []
    circles: list[tuple[float, float, float]] = []
    for info in infos:
        for area in info.areas:
            for geocode in area.geocodes:
                if geocode.value_name.strip().upper() == GEOCODE_NAME:
                    try:
                        codes.append(RegionCode.parse(geocode.value.strip()))
                    except CodeError as exc:
                        raise IntakeError("invalid-cap", f"geocode GB2260: {exc}") from exc
            polygons.extend(p.points for p in area.polygons)
            circles.extend((*c.center, c.radius_km) for c in area.circles)
    event_type = UNKNOWN_EVENT_TYPE
    for info in infos:
        named = [c.value.strip() for c in info.event_codes if c.value_name == EVENT_CODE_NAME]
        if named:
            event_type = named[0]
            break
        event_type = DEFAULT_EVENT_TABLE.get(info.event.strip().lower(), event_type)
    if len(event_type) != 5:
        raise IntakeError("invalid-cap", f"EBEventType must be 5 characters, got {event_type!r}")
    by_text = {str(cap): int(ebm) for cap, ebm in SEVERITY_TO_EBM.items()}
    severities = [Severity(by_text.get(str(i.severity), 0)) for i in infos]
    known = [s for s in severities if s is not Severity.UNKNOWN]
    first = infos[0] if infos else None
    references = tuple(r.identifier for r in parse_references(alert.references or ""))
    return AlertMessage(
        source_format="cap",
        identifier=alert.identifier,
        sender=alert.sender,
        sent=_when(alert.sent) or dt.datetime.now(dt.UTC),
        msg_type=msg_type,
        event_type=event_type,
        severity=min(known) if known else Severity.UNKNOWN,
        texts=tuple(
            AlertText(
                _language(i.language),
                i.headline or i.event,
                "\n".join(x for x in (i.description, i.instruction) if x),
            )
            for i in infos
        ),
        area_codes=tuple(codes),
        polygons=tuple(polygons),
        circles=tuple(circles),
        references=references,
        is_update=kind == "Update",
        start=_when(first.effective or first.onset) if first else None,
        end=_when(first.expires) if first else None,
        drill=drill_type is not None,
    )


def _ebm_time(value: Any, path: str, problems: list[str]) -> dt.datetime | None:
    if value in (None, ""):
        return None
    try:
        parsed = dt.datetime.strptime(str(value), "%Y-%m-%d %H:%M:%S")
    except ValueError:
        problems.append(f"{path}: {value!r} is not 'yyyy-MM-dd HH:mm:ss'")
        return None
    return parsed.replace(tzinfo=CHINA_TZ)


def ebm_json_to_message(raw: bytes) -> AlertMessage:
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IntakeError("invalid-ebm", f"the body is not UTF-8 JSON: {exc}") from exc
    if isinstance(doc, dict) and isinstance(doc.get("EBM"), dict):
        doc = doc["EBM"]
    if not isinstance(doc, dict):
        raise IntakeError("invalid-ebm", "the EBM must be a JSON object")
    problems: list[str] = []
    basic = doc.get("MsgBasicInfo")
    if not isinstance(basic, dict):
        raise IntakeError("invalid-ebm", "EBM/MsgBasicInfo is missing or not an object")
    ebmid_text = str(doc.get("EBMID", ""))
    try:
        EBMID(ebmid_text)
    except CodeError as exc:
        problems.append(f"EBM/EBMID: {exc}")
    try:
        msg_type = MsgType(int(basic.get("MsgType", 0)))
    except (TypeError, ValueError):
        problems.append(f"EBM/MsgBasicInfo/MsgType must be 1-5, got {basic.get('MsgType')!r}")
        msg_type = MsgType.REAL
    try:
        severity = Severity(int(basic.get("Severity", 0)))
    except (TypeError, ValueError):
        problems.append(f"EBM/MsgBasicInfo/Severity must be 0-4, got {basic.get('Severity')!r}")
        severity = Severity.UNKNOWN
    event_type = str(basic.get("EventType") or "")
    if len(event_type) != 5 and msg_type is not MsgType.CANCEL:
        problems.append(f"EBM/MsgBasicInfo/EventType must be 5 characters, got {event_type!r}")
    sender = str(basic.get("SenderCode") or "")
    if not sender:
        problems.append("EBM/MsgBasicInfo/SenderCode is required")
    sent = _ebm_time(basic.get("SendTime"), "EBM/MsgBasicInfo/SendTime", problems)
    start = _ebm_time(basic.get("StartTime"), "EBM/MsgBasicInfo/StartTime", problems)
    end = _ebm_time(basic.get("EndTime"), "EBM/MsgBasicInfo/EndTime", problems)
    contents = doc.get("MsgContent") or []
    contents = [contents] if isinstance(contents, dict) else contents
    texts: list[AlertText] = []
    codes: list[RegionCode] = []
    for i, content in enumerate(contents if isinstance(contents, list) else []):
        if not isinstance(content, dict):
            problems.append(f"EBM/MsgContent[{i}] must be an object")
            continue
        texts.append(
            AlertText(
                str(content.get("LanguageCode") or "zho"),
                str(content.get("MsgTitle") or ""),
                str(content.get("MsgDesc") or ""),
            )
        )
        for code in str(content.get("AreaCode") or "").split(","):
            if code.strip():
                try:
                    codes.append(RegionCode.parse(code.strip()))
                except CodeError as exc:
                    problems.append(f"EBM/MsgContent[{i}]/AreaCode: {exc}")
    if not texts and msg_type is not MsgType.CANCEL:
        problems.append("EBM/MsgContent is required (title and area) for a broadcast")
    related = doc.get("RelatedInfo") if isinstance(doc.get("RelatedInfo"), dict) else {}
    reference = str(related.get("EBMID") or "") if related else ""
    if problems:
        raise IntakeError("invalid-ebm", "; ".join(problems), extra={"problems": problems})
    return AlertMessage(
        source_format="ebm",
        identifier=ebmid_text,
        sender=sender,
        sent=sent or dt.datetime.now(dt.UTC),
        msg_type=msg_type,
        event_type=event_type or UNKNOWN_EVENT_TYPE,
        severity=severity,
        texts=tuple(texts),
        area_codes=tuple(codes),
        references=(reference,) if reference else (),
        is_update=bool(reference) and msg_type is not MsgType.CANCEL,
        start=start,
        end=end,
        drill=msg_type.is_drill,
    )


def _beijing(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=CHINA_TZ)


def ebm_to_message(ebm: Ebm) -> AlertMessage:
    """An EBM from a verified GY/T 384 package -> AlertMessage (times without zone are +08:00)."""
    basic = ebm.msg_basic_info
    msg_type = MsgType(int(basic.msg_type))
    codes = [RegionCode.parse(c) for content in ebm.contents for c in content.area_codes]
    related = ebm.related_info.ebmid.value if ebm.related_info and ebm.related_info.ebmid else ""
    return AlertMessage(
        source_format="ebm",
        identifier=ebm.ebmid.value,
        sender=basic.sender_code,
        sent=_beijing(basic.send_time) or dt.datetime.now(dt.UTC),
        msg_type=msg_type,
        event_type=basic.event_type or UNKNOWN_EVENT_TYPE,
        severity=Severity(int(basic.severity or 0)),
        texts=tuple(
            AlertText(c.language_code, c.msg_title, c.msg_desc or "") for c in ebm.contents
        ),
        area_codes=tuple(codes),
        references=(related,) if related else (),
        is_update=bool(related) and msg_type is not MsgType.CANCEL,
        start=_beijing(basic.start_time),
        end=_beijing(basic.end_time),
        drill=msg_type.is_drill,
    )


def message_fingerprint(message: AlertMessage) -> str:
    """SHA-256 of what an alert says, not of the bytes that carried it: the same EBM reaching
    a platform through its province and directly (越级) is one alert."""
    document = {
        "identifier": message.identifier,
        "sender": message.sender,
        "msg_type": int(message.msg_type),
        "event_type": message.event_type,
        "severity": int(message.severity),
        "texts": [[t.language, t.title, t.description] for t in message.texts],
        "areas": sorted(c.value for c in message.area_codes),
        "start": message.start.isoformat() if message.start else None,
        "end": message.end.isoformat() if message.end else None,
        "references": list(message.references),
    }
    canonical = json.dumps(document, ensure_ascii=False, sort_keys=True).encode()
    return hashlib.sha256(canonical).hexdigest()
