"""EBM -> CAP 1.2 alert, with the list of what CAP cannot carry."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from protocols.cap.ebm.tables import (
    EVENT_CODE_NAME,
    GEOCODE_NAME,
    LANGUAGE_FROM_EBM,
    MIME_FROM_AUXILIARY,
    SEVERITY_FROM_EBM,
    UNKNOWN_EVENT_TYPE,
    EbmToCapResult,
    MappingOptions,
)
from protocols.cap.lexical import format_time
from protocols.cap.model import (
    Alert,
    Area,
    Category,
    Info,
    MsgType,
    Reference,
    Resource,
    Scope,
    Status,
    ValuePair,
)
from protocols.cap.rules import validate
from protocols.ebd import Ebm, MsgBasicInfo, MsgContent
from protocols.ebd import MsgType as EbmMsgType
from protocols.ebd import Severity as EbmSeverity
from protocols.errors import CapError


def ebm_to_cap(
    ebm: Ebm,
    *,
    sender: str | None = None,
    references: Sequence[Reference] = (),
    options: MappingOptions | None = None,
) -> EbmToCapResult:
    """Map an EBM to a CAP alert whose identifier is the EBMID, sent by ``sender``
    (default: the SenderCode). ``references`` name the CAP messages an update or a cancel
    refers to (an EBM only knows their EBMID). CapError when the result would not be valid
    CAP 1.2, e.g. a cancel without ``references``."""
    opts = options or MappingOptions()
    basic = ebm.msg_basic_info
    lost: list[str] = []
    status, msg_type = _status(basic.msg_type, bool(references), opts, lost)
    related = ebm.related_info
    if related is not None and related.ebiid:
        lost.append(f"EBM/RelatedInfo/EBIID: {related.ebiid}")
    if related is not None and related.ebmid and not references:
        lost.append(f"EBM/RelatedInfo/EBMID: {related.ebmid} (no CAP reference was given)")
    lost.extend(
        f"EBM/MsgContent[{index}]/ProgramNum: {content.program_num}"
        for index, content in enumerate(ebm.contents)
        if content.program_num is not None
    )
    lost.extend(
        f"EBM/Dispatch[{index}]: (CAP names no dispatch)" for index in range(len(ebm.dispatches))
    )
    alert = Alert(
        identifier=str(ebm.ebmid),
        sender=sender or basic.sender_code,
        sent=_aware(basic.send_time, opts.zone),
        status=status,
        msg_type=msg_type,
        scope=Scope.PUBLIC,
        references=" ".join(f"{r.sender},{r.identifier},{format_time(r.sent)}" for r in references)
        or None,
        infos=tuple(
            _info(content, basic, opts, f"EBM/MsgContent[{index}]", lost)
            for index, content in enumerate(ebm.contents)
        ),
    )
    problems = validate(alert)
    if problems:
        raise CapError(problems)
    return EbmToCapResult(alert, lost)


def _status(
    msg_type: EbmMsgType, has_references: bool, opts: MappingOptions, lost: list[str]
) -> tuple[Status, MsgType]:
    if msg_type is EbmMsgType.CANCEL:
        return Status.ACTUAL, MsgType.CANCEL
    kind = MsgType.UPDATE if has_references else MsgType.ALERT
    if msg_type is EbmMsgType.REAL:
        return Status.ACTUAL, kind
    status = opts.drill_status.get(msg_type, Status.EXERCISE)
    sharing = sorted(int(t) for t, s in opts.drill_status.items() if s == status)
    if len(sharing) > 1:
        lost.append(
            f"EBM/MsgBasicInfo/MsgType: {int(msg_type)} (CAP status {status} also stands for "
            f"MsgType {', '.join(map(str, sharing))})"
        )
    return status, kind


def _aware(value: dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=zone)


def _info(
    content: MsgContent, basic: MsgBasicInfo, opts: MappingOptions, path: str, lost: list[str]
) -> Info:
    event_type = basic.event_type or UNKNOWN_EVENT_TYPE
    known = opts.event_names.get(event_type)
    category, english, chinese = known or (Category.OTHER, content.msg_title, content.msg_title)
    resources = []
    for index, aux in enumerate(content.auxiliaries):
        is_url = "://" in aux.auxiliary_desc
        if not is_url:
            lost.append(
                f"{path}/Auxiliary[{index}]: {aux.auxiliary_desc} (a file in the EBD package; "
                "CAP needs a URI or the content inline)"
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
        language=LANGUAGE_FROM_EBM.get(content.language_code, content.language_code),
        categories=(category,),
        event=chinese if content.language_code == "zho" else english,
        urgency=opts.urgency,
        severity=SEVERITY_FROM_EBM[basic.severity or EbmSeverity.UNKNOWN],
        certainty=opts.certainty,
        event_codes=(ValuePair(EVENT_CODE_NAME, event_type),) if basic.event_type else (),
        effective=None if basic.start_time is None else _aware(basic.start_time, opts.zone),
        expires=None if basic.end_time is None else _aware(basic.end_time, opts.zone),
        sender_name=basic.sender_name or None,
        headline=content.msg_title,
        description=content.msg_desc,
        resources=tuple(resources),
        areas=(area,) if content.area_codes else (),
    )
