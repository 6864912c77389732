"""What a CAP alert says that an EBM has no place for, as ``path: value (why)`` lines."""

from __future__ import annotations

from protocols.cap.ebm.tables import EVENT_CODE_NAME
from protocols.cap.lexical import format_time
from protocols.cap.model import Alert, Info, Scope


def alert_lost(alert: Alert, references_resolved: bool, lost: list[str]) -> None:
    for name in ("source", "restriction", "addresses", "note", "incidents"):
        value = getattr(alert, name)
        if value is not None:
            lost.append(f"alert/{name}: {value}")
    lost.extend(f"alert/code[{index}]: {code}" for index, code in enumerate(alert.codes))
    if alert.references and not references_resolved:
        lost.append(f"alert/references: {alert.references} (not resolved to an EBMID)")
    if alert.scope != Scope.PUBLIC:
        lost.append(f"alert/scope: {alert.scope} (an EBM is broadcast to everyone)")


def info_lost(path: str, info: Info, first: Info, lost: list[str]) -> None:
    lost.append(f"{path}/urgency: {info.urgency} (the EBM has no urgency)")
    lost.append(f"{path}/certainty: {info.certainty} (the EBM has no certainty)")
    lost.extend(f"{path}/category[{i}]: {c}" for i, c in enumerate(info.categories))
    if info.headline:
        lost.append(f"{path}/event: {info.event} (MsgTitle holds the headline)")
    lost.extend(f"{path}/responseType[{i}]: {r}" for i, r in enumerate(info.response_types))
    lost.extend(
        f"{path}/eventCode[{i}]: {pair.value_name} {pair.value}"
        for i, pair in enumerate(info.event_codes)
        if pair.value_name.strip() != EVENT_CODE_NAME
    )
    if info.onset is not None and not isinstance(info.onset, str):
        lost.append(f"{path}/onset: {format_time(info.onset)}")
    if info.instruction and info.description:
        lost.append(f"{path}/instruction: appended to MsgDesc after the description")
    for name in ("audience", "web", "contact"):
        value = getattr(info, name)
        if value is not None:
            lost.append(f"{path}/{name}: {value}")
    lost.extend(
        f"{path}/parameter[{i}]: {pair.value_name} {pair.value}"
        for i, pair in enumerate(info.parameters)
    )
    if info is not first:
        for name in ("effective", "expires", "sender_name"):
            if getattr(info, name) != getattr(first, name):
                lost.append(f"{path}/{name}: differs from info[0] (the EBM has one value)")
    for index, area in enumerate(info.areas):
        where = f"{path}/area[{index}]"
        lost.append(f"{where}/areaDesc: {area.area_desc}")
        if area.altitude is not None:
            lost.append(f"{where}/altitude: {area.altitude}")
        if area.ceiling is not None:
            lost.append(f"{where}/ceiling: {area.ceiling}")
