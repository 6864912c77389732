"""CAP 1.2 <-> EBM (GY/T 385) mapping; docs/cap-ebm-mapping.md has the field table.

Neither side can say everything the other can, so each direction returns what it built plus
a ``lost`` list naming every value that did not survive; nothing is dropped silently.
EBM times are wall-clock times with no zone on the wire: they are built and read as naive
datetimes in ``MappingOptions.zone`` (China Standard Time, +08:00, unless configured).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from protocols.cap import (
    Alert,
    Area,
    Category,
    Certainty,
    Circle,
    Info,
    MsgType,
    Polygon,
    Reference,
    Resource,
    Scope,
    Status,
    Urgency,
    ValuePair,
    validate,
)
from protocols.cap import Severity as CapSeverity
from protocols.cap.lexical import format_time
from protocols.codes import EBMID, RegionCode, ResourceCode
from protocols.ebd import (
    Auxiliary,
    AuxiliaryType,
    Ebm,
    MsgBasicInfo,
    MsgContent,
    RelatedInfo,
)
from protocols.ebd import MsgType as EbmMsgType
from protocols.ebd import Severity as EbmSeverity
from protocols.ebd.errors import EbdFieldError
from protocols.errors import CapError, CodeError, Problem

CHINA_STANDARD_TIME = dt.timezone(dt.timedelta(hours=8), "CST")
EVENT_CODE_NAME = "EBEventType"  # CAP eventCode valueName carrying the 5-character EventType
GEOCODE_NAME = "GB2260"  # CAP geocode valueName carrying an administrative region code
UNKNOWN_EVENT_TYPE = "00000"

SEVERITY_TO_EBM = MappingProxyType(
    {
        CapSeverity.EXTREME: EbmSeverity.RED,
        CapSeverity.SEVERE: EbmSeverity.ORANGE,
        CapSeverity.MODERATE: EbmSeverity.YELLOW,
        CapSeverity.MINOR: EbmSeverity.BLUE,
        CapSeverity.UNKNOWN: EbmSeverity.UNKNOWN,
    }
)
SEVERITY_FROM_EBM = MappingProxyType({ebm: cap for cap, ebm in SEVERITY_TO_EBM.items()})

# Only the codes standards.md confirms; anything else is configured per deployment.
DEFAULT_EVENT_TABLE = MappingProxyType(
    {
        "typhoon": "11B01",
        "台风": "11B01",
        "rainstorm": "11B03",
        "暴雨": "11B03",
        "gale": "11B06",
        "大风": "11B06",
        "high temperature": "11B09",
        "高温": "11B09",
        "forest fire": "11B25",
        "森林火险": "11B25",
    }
)
# EventType -> (CAP category, English event, Chinese event), for the EBM -> CAP direction.
DEFAULT_EVENT_NAMES = MappingProxyType(
    {
        "11B01": (Category.MET, "Typhoon", "台风"),
        "11B03": (Category.MET, "Rainstorm", "暴雨"),
        "11B06": (Category.MET, "Gale", "大风"),
        "11B09": (Category.MET, "High temperature", "高温"),
        "11B25": (Category.FIRE, "Forest fire", "森林火险"),
    }
)

LANGUAGE_TO_EBM = MappingProxyType(
    {
        "zh": "zho",
        "en": "eng",
        "bo": "bod",
        "ug": "uig",
        "mn": "mon",
        "ii": "iii",
        "za": "zha",
        "ko": "kor",
        "ru": "rus",
        "ja": "jpn",
        "vi": "vie",
        "es": "spa",
        "fr": "fra",
        "ar": "ara",
    }
)
LANGUAGE_FROM_EBM = MappingProxyType({three: two for two, three in LANGUAGE_TO_EBM.items()})

AUXILIARY_FROM_MIME = MappingProxyType(
    {
        "audio/mpeg": AuxiliaryType.MP3,
        "audio/mp3": AuxiliaryType.MP3,
        "image/png": AuxiliaryType.PNG,
        "image/jpeg": AuxiliaryType.JPEG,
        "image/gif": AuxiliaryType.GIF,
        "application/vnd.apple.mpegurl": AuxiliaryType.AV_STREAM,
        "application/x-mpegurl": AuxiliaryType.AV_STREAM,
        "video/mp2t": AuxiliaryType.AV_STREAM,
    }
)
# DRA has no registered media type: the x- names are our choice (unconfirmed).
MIME_FROM_AUXILIARY = MappingProxyType(
    {
        AuxiliaryType.MPEG_AUDIO: "audio/mpeg",
        AuxiliaryType.MP3: "audio/mpeg",
        AuxiliaryType.DRA: "audio/x-dra",
        AuxiliaryType.DRA_PLUS: "audio/x-dra-plus",
        AuxiliaryType.PNG: "image/png",
        AuxiliaryType.JPEG: "image/jpeg",
        AuxiliaryType.GIF: "image/gif",
        AuxiliaryType.AV_STREAM: "video/mp2t",
    }
)


@dataclass(frozen=True)
class MappingOptions:
    """Deployment choices; the defaults are the ones docs/cap-ebm-mapping.md explains."""

    zone: dt.tzinfo = CHINA_STANDARD_TIME
    exercise_msg_type: EbmMsgType = EbmMsgType.PLATFORM_DRILL
    test_msg_type: EbmMsgType = EbmMsgType.TERMINAL_DRILL
    event_table: Mapping[str, str] = field(default_factory=lambda: DEFAULT_EVENT_TABLE)
    category_table: Mapping[str, str] = field(default_factory=dict)  # "Met" -> EventType
    fallback_event_type: str | None = UNKNOWN_EVENT_TYPE  # None: refuse an unmapped event
    # CAP's own default is en-US, but Chinese senders routinely omit <language>.
    missing_language: str = "zho"
    default_duration: dt.timedelta | None = dt.timedelta(hours=1)  # None: refuse no <expires>
    allow_non_public: bool = False
    ebm_version: str = "1"
    # EBM -> CAP
    drill_status: Mapping[EbmMsgType, Status] = field(
        default_factory=lambda: {
            EbmMsgType.PLATFORM_DRILL: Status.EXERCISE,
            EbmMsgType.FRONTEND_DRILL: Status.EXERCISE,
            EbmMsgType.TERMINAL_DRILL: Status.TEST,
        }
    )
    event_names: Mapping[str, tuple[Category, str, str]] = field(
        default_factory=lambda: DEFAULT_EVENT_NAMES
    )
    urgency: Urgency = Urgency.UNKNOWN
    certainty: Certainty = Certainty.UNKNOWN


@dataclass(frozen=True)
class CapToEbmResult:
    ebm: Ebm
    polygons: tuple[Polygon, ...]  # for the platform to resolve to region codes
    circles: tuple[Circle, ...]
    lost: list[str]


@dataclass(frozen=True)
class EbmToCapResult:
    alert: Alert
    lost: list[str]


def geometry(alert: Alert) -> tuple[tuple[Polygon, ...], tuple[Circle, ...]]:
    areas = [area for info in alert.infos for area in info.areas]
    return (
        tuple(p for area in areas for p in area.polygons),
        tuple(c for area in areas for c in area.circles),
    )


def _wall(value: object, zone: dt.tzinfo) -> dt.datetime:
    assert isinstance(value, dt.datetime)  # validate() has run
    return value.astimezone(zone).replace(tzinfo=None)


def ebm_language(language: str | None, options: MappingOptions) -> str:
    if not language:
        return options.missing_language
    base = language.split("-", 1)[0].lower()
    return LANGUAGE_TO_EBM.get(base, base)


# ------------------------------------------------------------------------- CAP -> EBM


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
    of ``day`` (default: the day of ``sent`` in the mapping zone). ``related_ebmid`` is the
    EBMID the CAP ``references`` resolve to (needed for a Cancel); ``extra_area_codes`` are
    regions the caller resolved from the returned polygons and circles.
    CapError lists every reason the alert cannot become an EBM."""
    opts = options or MappingOptions()
    problems = validate(alert)
    if problems:
        raise CapError(problems)
    lost: list[str] = []
    msg_type = _msg_type(alert, opts, problems, lost)
    if alert.scope != Scope.PUBLIC and not opts.allow_non_public:
        problems.append(
            Problem(
                "alert/scope",
                "ebm-not-public",
                f"scope {alert.scope}: a broadcast reaches everyone",
            )
        )
    cancel = msg_type is EbmMsgType.CANCEL
    if cancel and related_ebmid is None:
        problems.append(
            Problem(
                "alert/references",
                "ebm-related-ebmid-required",
                "a Cancel needs the EBMID of the message it cancels",
            )
        )
    if not alert.infos and not cancel:
        problems.append(Problem("alert/info", "ebm-info-required", "nothing to broadcast"))
    extra = [_region(code, "extra_area_codes", problems) for code in extra_area_codes]
    contents = _contents(alert, [c for c in extra if c], opts, problems, lost)
    if not contents and not cancel and alert.infos:
        problems.append(
            Problem(
                "alert/info[0]/area",
                "ebm-area-required",
                f"no {GEOCODE_NAME} geocode: resolve the polygons/circles to "
                "region codes and pass them as extra_area_codes",
            )
        )
    first = alert.infos[0] if alert.infos else None
    event_type = _event_type(alert, opts, problems, lost) if first else None
    start = end = None
    if first is not None:
        start = _wall(first.effective or alert.sent, opts.zone)
        if first.expires is not None:
            end = _wall(first.expires, opts.zone)
        elif opts.default_duration is not None:
            end = start + opts.default_duration
            lost.append(f"alert/info[0]/expires: absent; EndTime assumed {end:%Y-%m-%d %H:%M:%S}")
        elif not cancel:
            problems.append(
                Problem(
                    "alert/info[0]/expires",
                    "ebm-end-time-required",
                    "EBM needs an EndTime and no default duration is set",
                )
            )
    if problems:
        raise CapError(problems)
    _alert_lost(alert, related_ebmid, lost)
    for index, info in enumerate(alert.infos):
        _info_lost(f"alert/info[{index}]", info, index, first, lost)
    sent_day = day or _wall(alert.sent, opts.zone).date()
    issuer = ebrid if isinstance(ebrid, ResourceCode) else ResourceCode(ebrid)
    try:
        ebm = Ebm(
            ebm_version=opts.ebm_version,
            ebmid=EBMID.build(issuer, sent_day, sequence),
            related_info=RelatedInfo(
                ebiid=alert.identifier,
                ebmid=EBMID(str(related_ebmid)) if related_ebmid is not None else None,
            ),
            msg_basic_info=MsgBasicInfo(
                msg_type=msg_type,
                sender_name=(first.sender_name if first and first.sender_name else alert.sender),
                sender_code=sender_code or alert.sender,
                send_time=_wall(alert.sent, opts.zone),
                event_type=event_type,
                severity=_severity(alert, lost) if first else None,
                start_time=start,
                end_time=end,
            ),
            contents=tuple(contents),
        )
    except (EbdFieldError, CodeError) as exc:
        where = f"EBM/{exc.path}" if isinstance(exc, EbdFieldError) else "EBM"
        raise CapError([Problem(where, "ebm-invalid", exc.message)]) from exc
    polygons, circles = geometry(alert)
    return CapToEbmResult(ebm, polygons, circles, lost)


def _msg_type(
    alert: Alert, opts: MappingOptions, problems: list[Problem], lost: list[str]
) -> EbmMsgType:
    if alert.status in (Status.SYSTEM, Status.DRAFT):
        problems.append(
            Problem(
                "alert/status", "ebm-not-broadcastable", f"status {alert.status} is never broadcast"
            )
        )
    if alert.msg_type in (MsgType.ACK, MsgType.ERROR):
        problems.append(
            Problem(
                "alert/msgType",
                "ebm-not-broadcastable",
                f"msgType {alert.msg_type} answers a message; nothing to air",
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


def _region(code: RegionCode | str, path: str, problems: list[Problem]) -> str | None:
    try:
        return code.value if isinstance(code, RegionCode) else RegionCode.parse(code).value
    except CodeError as exc:
        problems.append(Problem(path, "gb2260-format", exc.message))
        return None


def _contents(
    alert: Alert, extra: list[str], opts: MappingOptions, problems: list[Problem], lost: list[str]
) -> list[MsgContent]:
    """One MsgContent per language: EBM allows no second content in the same language."""
    groups: dict[str, list[tuple[int, Info]]] = {}
    for index, info in enumerate(alert.infos):
        groups.setdefault(ebm_language(info.language, opts), []).append((index, info))
    contents = []
    for language, members in groups.items():
        codes: list[str] = []
        for index, info in members:
            for a, area in enumerate(info.areas):
                for g, geocode in enumerate(area.geocodes):
                    path = f"alert/info[{index}]/area[{a}]/geocode[{g}]"
                    if geocode.value_name.strip().upper() != GEOCODE_NAME:
                        lost.append(
                            f"{path}: {geocode.value_name} {geocode.value} "
                            f"(EBM carries only {GEOCODE_NAME} region codes)"
                        )
                        continue
                    code = _region(geocode.value.strip(), path, problems)
                    if code and code not in codes:
                        codes.append(code)
        codes.extend(code for code in extra if code not in codes)
        index, info = members[0]
        for other, _ in members[1:]:
            lost.append(
                f"alert/info[{other}]: text of a second info in language {language} "
                "(one MsgContent per language; its areas were merged)"
            )
        if not codes:
            continue
        title = info.headline or info.event
        desc = "\n".join(text for text in (info.description, info.instruction) if text)
        contents.append(
            MsgContent(
                language_code=language,
                msg_title=title,
                msg_desc=desc or title,
                area_codes=tuple(codes),
                auxiliaries=_auxiliaries(f"alert/info[{index}]", info.resources, lost),
            )
        )
    return contents


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
            continue
        if resource.uri is None:
            lost.append(
                f"{where}: {resource.resource_desc} (no URI; embedded content must "
                "travel as a package file)"
            )
            continue
        result.append(
            Auxiliary(
                auxiliary_type=kind,
                auxiliary_desc=resource.uri,
                size=resource.size if isinstance(resource.size, int) else None,
                digest=resource.digest,
            )
        )
        lost.append(f"{where}/resourceDesc: {resource.resource_desc} (AuxiliaryDesc holds the URI)")
    return tuple(result)


def _event_type(
    alert: Alert, opts: MappingOptions, problems: list[Problem], lost: list[str]
) -> str | None:
    found: list[tuple[int, str]] = []
    for index, info in enumerate(alert.infos):
        code = _info_event_type(f"alert/info[{index}]", info, opts, problems)
        if code is not None:
            found.append((index, code))
    if not found:
        if opts.fallback_event_type is None:
            problems.append(
                Problem(
                    "alert/info[0]/event",
                    "ebm-event-type-unmapped",
                    f"no {EVENT_CODE_NAME} eventCode and event "
                    f"{alert.infos[0].event!r} is not in the event table",
                )
            )
            return None
        lost.append(
            f"alert/info[0]/event: {alert.infos[0].event} (no EventType mapping; "
            f"sent as {opts.fallback_event_type})"
        )
        return opts.fallback_event_type
    chosen = found[0][1]
    lost.extend(
        f"alert/info[{i}]: EventType {code} (EBM has one EventType; {chosen} used)"
        for i, code in found[1:]
        if code != chosen
    )
    return chosen


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
                        f"{EVENT_CODE_NAME} {value!r} is not 5 characters",
                    )
                )
                return None
            return value
    by_event = opts.event_table.get(info.event.strip().lower())
    if by_event is not None:
        return by_event
    return next((opts.category_table[c] for c in info.categories if c in opts.category_table), None)


def _severity(alert: Alert, lost: list[str]) -> EbmSeverity:
    levels = [SEVERITY_TO_EBM[CapSeverity(info.severity)] for info in alert.infos]
    known = [level for level in levels if level is not EbmSeverity.UNKNOWN]
    chosen = min(known) if known else EbmSeverity.UNKNOWN
    lost.extend(
        f"alert/info[{i}]/severity: {alert.infos[i].severity} (EBM has one Severity; "
        f"the highest, {chosen.value}, was used)"
        for i, level in enumerate(levels)
        if level is not chosen
    )
    return chosen


def _alert_lost(alert: Alert, related: object, lost: list[str]) -> None:
    simple = ("source", "restriction", "addresses", "note", "incidents")
    lost.extend(
        f"alert/{name}: {getattr(alert, name)}"
        for name in simple
        if getattr(alert, name) is not None
    )
    lost.extend(f"alert/code[{i}]: {code}" for i, code in enumerate(alert.codes))
    if alert.references and related is None:
        lost.append(f"alert/references: {alert.references} (not resolved to an EBMID)")
    if alert.scope != Scope.PUBLIC:
        lost.append(f"alert/scope: {alert.scope} (an EBM is broadcast to everyone)")


def _info_lost(path: str, info: Info, index: int, first: Info | None, lost: list[str]) -> None:
    lost.append(f"{path}/urgency: {info.urgency} (EBM has no urgency)")
    lost.append(f"{path}/certainty: {info.certainty} (EBM has no certainty)")
    lost.extend(f"{path}/category[{i}]: {c}" for i, c in enumerate(info.categories))
    lost.extend(f"{path}/responseType[{i}]: {r}" for i, r in enumerate(info.response_types))
    lost.extend(
        f"{path}/eventCode[{i}]: {p.value_name} {p.value}"
        for i, p in enumerate(info.event_codes)
        if p.value_name.strip() != EVENT_CODE_NAME
    )
    lost.extend(
        f"{path}/parameter[{i}]: {p.value_name} {p.value}" for i, p in enumerate(info.parameters)
    )
    for name in ("audience", "onset", "web", "contact"):
        value = getattr(info, name)
        if value is not None:
            lost.append(f"{path}/{name}: {format_time(value) if name == 'onset' else value}")
    if index and first is not None:
        for name in ("effective", "expires", "sender_name"):
            if getattr(info, name) != getattr(first, name):
                lost.append(f"{path}/{name}: differs from info[0] (EBM has one value)")
    for a, area in enumerate(info.areas):
        lost.append(f"{path}/area[{a}]/areaDesc: {area.area_desc}")
        if area.altitude is not None:
            lost.append(f"{path}/area[{a}]/altitude: {area.altitude}")
        if area.ceiling is not None:
            lost.append(f"{path}/area[{a}]/ceiling: {area.ceiling}")


# ------------------------------------------------------------------------- EBM -> CAP


def ebm_to_cap(
    ebm: Ebm,
    *,
    sender: str | None = None,
    references: Sequence[Reference] = (),
    options: MappingOptions | None = None,
) -> EbmToCapResult:
    """Map an EBM to a CAP alert identified by its EBMID, sent by ``sender`` (default: the
    SenderCode). ``references`` name the CAP messages an update or cancel refers to;
    CapError when the result would not be valid CAP 1.2."""
    opts = options or MappingOptions()
    basic = ebm.msg_basic_info
    lost: list[str] = []
    status, msg_type = Status.ACTUAL, MsgType.ALERT
    if basic.msg_type is EbmMsgType.CANCEL:
        msg_type = MsgType.CANCEL
    elif basic.msg_type is EbmMsgType.REAL:
        if references:
            msg_type = MsgType.UPDATE
    else:
        status = opts.drill_status.get(basic.msg_type, Status.EXERCISE)
        sharing = [int(t) for t, s in opts.drill_status.items() if s == status]
        if len(sharing) > 1:
            lost.append(
                f"EBM/MsgBasicInfo/MsgType: {int(basic.msg_type)} (CAP status {status} "
                f"also stands for MsgType {', '.join(map(str, sharing))})"
            )
    related = ebm.related_info
    if related is not None and related.ebiid:
        lost.append(f"EBM/RelatedInfo/EBIID: {related.ebiid}")
    if related is not None and related.ebmid and not references:
        lost.append(f"EBM/RelatedInfo/EBMID: {related.ebmid} (no CAP reference given)")
    for index, content in enumerate(ebm.contents):
        if content.program_num is not None:
            lost.append(f"EBM/MsgContent[{index}]/ProgramNum: {content.program_num}")
    lost.extend(f"EBM/Dispatch[{i}]: (CAP has no dispatch)" for i in range(len(ebm.dispatches)))
    alert = Alert(
        identifier=str(ebm.ebmid),
        sender=sender or basic.sender_code,
        sent=basic.send_time
        if basic.send_time.tzinfo
        else basic.send_time.replace(tzinfo=opts.zone),
        status=status,
        msg_type=msg_type,
        scope=Scope.PUBLIC,
        references=" ".join(f"{r.sender},{r.identifier},{format_time(r.sent)}" for r in references)
        or None,
        infos=tuple(
            _info_from(content, basic, opts, index, lost)
            for index, content in enumerate(ebm.contents)
        ),
    )
    problems = validate(alert)
    if problems:
        raise CapError(problems)
    return EbmToCapResult(alert, lost)


def _aware(value: dt.datetime | None, zone: dt.tzinfo) -> dt.datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=zone)


def _info_from(
    content: MsgContent, basic: MsgBasicInfo, opts: MappingOptions, index: int, lost: list[str]
) -> Info:
    event_type = basic.event_type or UNKNOWN_EVENT_TYPE
    known = opts.event_names.get(event_type)
    category, english, chinese = known or (Category.OTHER, content.msg_title, content.msg_title)
    language = LANGUAGE_FROM_EBM.get(content.language_code, content.language_code)
    path = f"EBM/MsgContent[{index}]"
    resources = []
    for a, aux in enumerate(content.auxiliaries):
        is_url = "://" in aux.auxiliary_desc
        if not is_url:
            lost.append(
                f"{path}/Auxiliary[{a}]: {aux.auxiliary_desc} (a package file; CAP needs a URI)"
            )
        resources.append(
            Resource(
                resource_desc=aux.auxiliary_desc,
                mime_type=MIME_FROM_AUXILIARY[aux.auxiliary_type],
                size=aux.size,
                uri=aux.auxiliary_desc if is_url else None,
                digest=aux.digest,
            )
        )
    area = Area(
        area_desc=f"{GEOCODE_NAME} " + ", ".join(content.area_codes),
        geocodes=tuple(ValuePair(GEOCODE_NAME, code) for code in content.area_codes),
    )
    return Info(
        language=language,
        categories=(category,),
        event=chinese if content.language_code == "zho" else english,
        urgency=opts.urgency,
        severity=SEVERITY_FROM_EBM[basic.severity or EbmSeverity.UNKNOWN],
        certainty=opts.certainty,
        event_codes=(ValuePair(EVENT_CODE_NAME, event_type),) if basic.event_type else (),
        effective=_aware(basic.start_time, opts.zone),
        expires=_aware(basic.end_time, opts.zone),
        sender_name=basic.sender_name or None,
        headline=content.msg_title,
        description=content.msg_desc,
        resources=tuple(resources),
        areas=(area,) if content.area_codes else (),
    )
