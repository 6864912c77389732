"""CAP 1.2 alert -> EBM, with the geometry and the list of what the EBM cannot carry."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from protocols.cap.ebm.lost import alert_lost, info_lost
from protocols.cap.ebm.tables import (
    AUXILIARY_FROM_MIME,
    EVENT_CODE_NAME,
    GEOCODE_NAME,
    SEVERITY_TO_EBM,
    CapToEbmResult,
    MappingOptions,
    ebm_language,
    geometry,
    wall_clock,
)
from protocols.cap.model import Alert, Info, MsgType, Resource, Scope, Severity, Status
from protocols.cap.rules import validate
from protocols.codes import EBMID, RegionCode, ResourceCode
from protocols.ebd import Auxiliary, Ebm, MsgBasicInfo, MsgContent, RelatedInfo
from protocols.ebd import MsgType as EbmMsgType
from protocols.ebd import Severity as EbmSeverity
from protocols.ebd.errors import EbdFieldError
from protocols.errors import CapError, CodeError, Problem


def cap_to_ebm(
    alert: Alert,
    *,
    ebrid: ResourceCode | str,
    sequence: int,
    day: dt.date | None = None,
    related_ebmid: EBMID | str | None = None,
    extra_area_codes: Iterable[RegionCode | str] = (),
    sender_code: str | None = None,
    options: MappingOptions | None = None,
) -> CapToEbmResult:
    """Map a valid CAP alert to an EBM issued by platform ``ebrid`` as message ``sequence``
    of ``day`` (default: the day of ``sent`` in the mapping zone).

    ``related_ebmid`` is the EBMID the CAP ``references`` resolve to (required for a Cancel);
    ``extra_area_codes`` are regions the caller resolved from the polygons and circles this
    returns. CapError lists every reason the alert cannot become an EBM, all at once.
    """
    opts = options or MappingOptions()
    problems = validate(alert)
    if problems:
        raise CapError(problems)
    lost: list[str] = []
    msg_type = _msg_type(alert, opts, problems, lost)
    cancel = msg_type is EbmMsgType.CANCEL
    if alert.scope != Scope.PUBLIC and not opts.allow_non_public:
        problems.append(
            Problem("alert/scope", "ebm-not-public", f"scope {alert.scope}: a broadcast is public")
        )
    if cancel and related_ebmid is None:
        problems.append(
            Problem(
                "alert/references",
                "ebm-related-ebmid-required",
                "a Cancel needs the EBMID of the message it cancels (related_ebmid)",
            )
        )
    if not alert.infos and not cancel:
        problems.append(Problem("alert/info", "ebm-info-required", "no <info>: nothing to air"))
    extra = [_region(code, "extra_area_codes", problems) for code in extra_area_codes]
    # A content refused for a bad code is reported as such; "no area" would only mislead.
    errors_before = len(problems)
    contents = _contents(alert, [code for code in extra if code], opts, problems, lost)
    if not contents and alert.infos and not cancel and len(problems) == errors_before:
        problems.append(
            Problem(
                "alert/info[0]/area",
                "ebm-area-required",
                f"no {GEOCODE_NAME} geocode: resolve the polygons/circles to region codes "
                "and pass them as extra_area_codes",
            )
        )
    start, end = _times(alert, cancel, opts, problems, lost)
    event_type = _event_type(alert, opts, problems, lost) if alert.infos else None
    if problems:
        raise CapError(problems)
    alert_lost(alert, related_ebmid is not None, lost)
    for index, info in enumerate(alert.infos):
        info_lost(f"alert/info[{index}]", info, alert.infos[0], lost)
    first = alert.infos[0] if alert.infos else None
    sent = wall_clock(alert.sent, opts.zone)
    # A bad ebrid, sequence or related_ebmid is the caller's mistake: its CodeError propagates.
    issuer = ebrid if isinstance(ebrid, ResourceCode) else ResourceCode(ebrid)
    ebmid = EBMID.build(issuer, day or sent.date(), sequence)
    related = None if related_ebmid is None else EBMID(str(related_ebmid))
    try:
        basic = MsgBasicInfo(
            msg_type=msg_type,
            sender_name=first.sender_name if first and first.sender_name else alert.sender,
            sender_code=sender_code or alert.sender,
            send_time=sent,
            event_type=event_type,
            severity=_severity(alert, lost) if first else None,
            start_time=start,
            end_time=end,
        )
    except EbdFieldError as exc:
        where = f"EBM/MsgBasicInfo/{exc.path}"
        raise CapError([Problem(where, "ebm-invalid", exc.problem)]) from exc
    try:
        ebm = Ebm(
            ebm_version=opts.ebm_version,
            ebmid=ebmid,
            related_info=RelatedInfo(ebiid=alert.identifier, ebmid=related),
            msg_basic_info=basic,
            contents=tuple(contents),
        )
    except EbdFieldError as exc:
        raise CapError([Problem(f"EBM/{exc.path}", "ebm-invalid", exc.problem)]) from exc
    polygons, circles = geometry(alert)
    return CapToEbmResult(ebm, polygons, circles, lost)


def _msg_type(
    alert: Alert, opts: MappingOptions, problems: list[Problem], lost: list[str]
) -> EbmMsgType:
    if alert.status in (Status.SYSTEM, Status.DRAFT):
        problems.append(
            Problem("alert/status", "ebm-not-broadcastable", f"status {alert.status} is not aired")
        )
    if alert.msg_type in (MsgType.ACK, MsgType.ERROR):
        problems.append(
            Problem(
                "alert/msgType",
                "ebm-not-broadcastable",
                f"msgType {alert.msg_type} answers a message; there is nothing to air",
            )
        )
    if alert.msg_type == MsgType.CANCEL:
        if alert.status != Status.ACTUAL:
            lost.append(f"alert/status: {alert.status} (an EBM cancel carries no drill flag)")
        return EbmMsgType.CANCEL
    if alert.status == Status.EXERCISE:
        return opts.exercise_msg_type
    if alert.status == Status.TEST:
        return opts.test_msg_type
    return EbmMsgType.REAL


def _times(
    alert: Alert, cancel: bool, opts: MappingOptions, problems: list[Problem], lost: list[str]
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """StartTime from effective (CAP: defaults to sent), EndTime from expires."""
    if not alert.infos:
        return None, None
    first = alert.infos[0]
    start = wall_clock(first.effective or alert.sent, opts.zone)
    if first.expires is not None:
        return start, wall_clock(first.expires, opts.zone)
    if opts.default_duration is not None:
        end = start + opts.default_duration
        lost.append(f"alert/info[0]/expires: absent; EndTime assumed {end:%Y-%m-%d %H:%M:%S}")
        return start, end
    if not cancel:
        problems.append(
            Problem(
                "alert/info[0]/expires",
                "ebm-end-time-required",
                "the EBM needs an EndTime and no default duration is configured",
            )
        )
    return start, None


def _region(code: RegionCode | str, path: str, problems: list[Problem]) -> str | None:
    try:
        return code.value if isinstance(code, RegionCode) else RegionCode.parse(code).value
    except CodeError as exc:
        problems.append(Problem(path, "gb2260-format", exc.message))
        return None


def _contents(
    alert: Alert, extra: list[str], opts: MappingOptions, problems: list[Problem], lost: list[str]
) -> list[MsgContent]:
    """One MsgContent per language, since an EBM allows no second one in the same language."""
    groups: dict[str, list[tuple[int, Info]]] = {}
    for index, info in enumerate(alert.infos):
        groups.setdefault(ebm_language(info.language, opts), []).append((index, info))
        if not info.language:
            lost.append(
                f"alert/info[{index}]/language: absent; taken as "
                f"{opts.missing_language} (CAP would say en-US)"
            )
    contents: list[MsgContent] = []
    for language, members in groups.items():
        codes = _area_codes(members, problems, lost)
        codes.extend(code for code in extra if code not in codes)
        index, info = members[0]
        lost.extend(
            f"alert/info[{other}]: the text of a second info in {language} "
            "(one MsgContent per language; its areas were merged)"
            for other, _ in members[1:]
        )
        if not codes:
            continue
        title = info.headline or info.event
        desc = "\n".join(text for text in (info.description, info.instruction) if text)
        try:
            content = MsgContent(
                language_code=language,
                msg_title=title,
                msg_desc=desc or title,
                area_codes=tuple(codes),
                auxiliaries=_auxiliaries(f"alert/info[{index}]", info.resources, lost),
            )
        except EbdFieldError as exc:
            where = f"EBM/MsgContent[{len(contents)}]/{exc.path}"
            problems.append(Problem(where, "ebm-invalid", exc.problem))
            continue
        contents.append(content)
    return contents


def _area_codes(
    members: list[tuple[int, Info]], problems: list[Problem], lost: list[str]
) -> list[str]:
    codes: list[str] = []
    for index, info in members:
        for a, area in enumerate(info.areas):
            for g, geocode in enumerate(area.geocodes):
                path = f"alert/info[{index}]/area[{a}]/geocode[{g}]"
                if geocode.value_name.strip().upper() != GEOCODE_NAME:
                    lost.append(
                        f"{path}: {geocode.value_name} {geocode.value} "
                        f"(the EBM carries only {GEOCODE_NAME} region codes)"
                    )
                    continue
                code = _region(geocode.value.strip(), path, problems)
                if code and code not in codes:
                    codes.append(code)
    return codes


def _auxiliaries(
    path: str, resources: Sequence[Resource], lost: list[str]
) -> tuple[Auxiliary, ...]:
    result = []
    for index, resource in enumerate(resources):
        where = f"{path}/resource[{index}]"
        media = resource.mime_type.split(";", 1)[0].strip().lower()
        kind = AUXILIARY_FROM_MIME.get(media)
        if kind is None:
            lost.append(f"{where}: {resource.resource_desc} ({media} has no AuxiliaryType)")
        elif resource.uri is None:
            lost.append(
                f"{where}: {resource.resource_desc} (no URI; embedded content must "
                "travel as a file in the EBD package)"
            )
        else:
            lost.append(
                f"{where}/resourceDesc: {resource.resource_desc} (AuxiliaryDesc holds the URI)"
            )
            result.append(
                Auxiliary(
                    auxiliary_type=kind,
                    auxiliary_desc=resource.uri,
                    size=resource.size if isinstance(resource.size, int) else None,
                    digest=resource.digest,
                )
            )
    return tuple(result)


def _event_type(
    alert: Alert, opts: MappingOptions, problems: list[Problem], lost: list[str]
) -> str | None:
    found = [
        (index, code)
        for index, info in enumerate(alert.infos)
        if (code := _info_event_type(f"alert/info[{index}]", info, opts, problems)) is not None
    ]
    if found:
        chosen = found[0][1]
        lost.extend(
            f"alert/info[{index}]: EventType {code} (the EBM has one EventType; {chosen} used)"
            for index, code in found[1:]
            if code != chosen
        )
        return chosen
    event = alert.infos[0].event
    if opts.fallback_event_type is None:
        problems.append(
            Problem(
                "alert/info[0]/event",
                "ebm-event-type-unmapped",
                f"no {EVENT_CODE_NAME} eventCode and event {event!r} is not in the table",
            )
        )
        return None
    lost.append(
        f"alert/info[0]/event: {event} (no EventType mapping; sent as {opts.fallback_event_type})"
    )
    return opts.fallback_event_type


def _info_event_type(
    path: str, info: Info, opts: MappingOptions, problems: list[Problem]
) -> str | None:
    for index, pair in enumerate(info.event_codes):
        if pair.value_name.strip() == EVENT_CODE_NAME:
            value = pair.value.strip()
            if len(value) != 5 or not value.isascii() or not value.isalnum():
                problems.append(
                    Problem(
                        f"{path}/eventCode[{index}]",
                        "ebm-event-type-format",
                        f"{EVENT_CODE_NAME} {value!r} is not 5 letters or digits",
                    )
                )
                return None
            return value
    by_event = opts.event_table.get(info.event.strip().lower())
    if by_event is not None:
        return by_event
    return next((opts.category_table[c] for c in info.categories if c in opts.category_table), None)


def _severity(alert: Alert, lost: list[str]) -> EbmSeverity:
    levels = [SEVERITY_TO_EBM[Severity(info.severity)] for info in alert.infos]
    known = [level for level in levels if level is not EbmSeverity.UNKNOWN]
    chosen = min(known) if known else EbmSeverity.UNKNOWN
    lost.extend(
        f"alert/info[{index}]/severity: {alert.infos[index].severity} "
        f"(the EBM has one Severity; the highest, {int(chosen)}, was used)"
        for index, level in enumerate(levels)
        if level is not chosen
    )
    return chosen
