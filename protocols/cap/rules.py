"""CAP 1.2 rules for <alert>, <info> and <resource>, and the validating entry points."""

from __future__ import annotations

import base64
import binascii
import re

from protocols.cap.area_rules import check_area
from protocols.cap.checks import (
    Findings,
    ValidationOptions,
    enum_value,
    required_text,
    time_value,
    trimmed,
)
from protocols.cap.lexical import split_quoted
from protocols.cap.model import (
    Alert,
    Category,
    Certainty,
    Info,
    MsgType,
    Resource,
    ResponseType,
    Scope,
    Severity,
    Status,
    Urgency,
    ValuePair,
    parse_references,
)
from protocols.cap.reader import parse_cap
from protocols.cap.writer import character_problems
from protocols.errors import CapError, Problem
from protocols.safexml import DEFAULT_LIMITS, XmlLimits

# CAP 1.2 3.2.1: identifier and sender "MUST NOT include spaces, commas or restricted
# characters (< and &)"; any whitespace counts, since it breaks the references triple.
_RESTRICTED = re.compile(r"[\s,<&]")
_LANGUAGE = re.compile(r"[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*")
_ABSOLUTE_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S+")
_MIME_TOKEN = r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*"
_MIME = re.compile(rf"{_MIME_TOKEN}/{_MIME_TOKEN}(\s*;.*)?")
_SHA1_HEX = re.compile(r"[0-9A-Fa-f]{40}")
# Ack and Error name what they answer in <references> just as Update and Cancel do.
_NEEDS_REFERENCES = {MsgType.UPDATE, MsgType.CANCEL, MsgType.ACK, MsgType.ERROR}


def validate(alert: Alert, options: ValidationOptions | None = None) -> list[Problem]:
    """Every rule ``alert`` breaks, in document order; an empty list means valid CAP 1.2."""
    opts = options or ValidationOptions()
    out = Findings(list(alert.parse_problems))
    _alert(out, alert)
    for index, info in enumerate(alert.infos):
        _info(out, f"alert/info[{index}]", info, opts)
    out.problems.extend(character_problems(alert))
    return out.problems


def parse_and_validate(
    data: bytes | str,
    options: ValidationOptions | None = None,
    limits: XmlLimits = DEFAULT_LIMITS,
) -> Alert:
    """Parse and check; CapError carrying every problem at once when anything is wrong."""
    alert = parse_cap(data, limits)
    problems = validate(alert, options)
    if problems:
        raise CapError(problems)
    return alert


def _identifier(out: Findings, path: str, value: str) -> None:
    if required_text(out, path, value) and _RESTRICTED.search(value):
        tag = path.rsplit("/", 1)[-1]
        out.add(
            path,
            "restricted-characters",
            f"<{tag}> {value!r} must not contain spaces, commas, '<' or '&'",
        )


def _quoted_list(out: Findings, path: str, value: str | None) -> None:
    if value is None:
        return
    try:
        split_quoted(value)
    except ValueError:
        tag = path.rsplit("/", 1)[-1]
        out.add(path, "quoted-list-format", f"<{tag}> has an unbalanced double quote")


def _alert(out: Findings, alert: Alert) -> None:
    _identifier(out, "alert/identifier", alert.identifier)
    _identifier(out, "alert/sender", alert.sender)
    if alert.sent == "":
        out.add("alert/sent", "required", "<sent> is required")
    else:
        time_value(out, "alert/sent", alert.sent)
    enum_value(out, "alert/status", alert.status, Status)
    enum_value(out, "alert/msgType", alert.msg_type, MsgType)
    enum_value(out, "alert/scope", alert.scope, Scope)
    if alert.scope == Scope.RESTRICTED and not (alert.restriction or "").strip():
        out.add(
            "alert/restriction",
            "restricted-needs-restriction",
            "scope Restricted needs a <restriction> saying who may see the alert",
        )
    if alert.scope == Scope.PRIVATE and not (alert.addresses or "").strip():
        out.add(
            "alert/addresses",
            "private-needs-addresses",
            "scope Private needs <addresses> naming the recipients",
        )
    _quoted_list(out, "alert/addresses", alert.addresses)
    for index, code in enumerate(alert.codes):
        if any(char.isspace() for char in code):
            message = f"<code> {code!r} holds whitespace"
            out.add(f"alert/code[{index}]", "whitespace-in-value", message)
    _references(out, alert)
    _quoted_list(out, "alert/incidents", alert.incidents)


def _references(out: Findings, alert: Alert) -> None:
    if alert.references is None or not alert.references.strip():
        if alert.msg_type in _NEEDS_REFERENCES:
            out.add(
                "alert/references",
                "references-required",
                f"msgType {alert.msg_type} must name the message(s) it refers to in <references>",
            )
        elif alert.references is not None:
            out.add("alert/references", "references-format", "<references> is empty")
        return
    try:
        triples = parse_references(alert.references)
    except ValueError as exc:
        out.add("alert/references", "references-format", f"<references>: {exc}")
        return
    for triple in triples:
        if _RESTRICTED.search(triple.sender) or _RESTRICTED.search(triple.identifier):
            out.add(
                "alert/references",
                "references-format",
                f"<references>: {triple.sender},{triple.identifier} holds '<' or '&'",
            )
            return


def _pair(out: Findings, path: str, pair: ValuePair, *, value_needed: bool) -> None:
    tag = path.rsplit("/", 1)[-1].split("[", 1)[0]
    if not pair.value_name.strip() or (value_needed and not pair.value.strip()):
        out.add(path, "value-pair", f"<{tag}> needs a <valueName> and a <value>")
        return
    trimmed(out, path, pair.value_name, f"{tag} valueName")
    if value_needed:
        trimmed(out, path, pair.value, f"{tag} value")


def _info(out: Findings, path: str, info: Info, options: ValidationOptions) -> None:
    if info.language is not None and not _LANGUAGE.fullmatch(info.language):
        out.add(
            f"{path}/language",
            "language-format",
            f"<language> {info.language!r} is not an RFC 3066 tag such as en-US",
        )
    if not info.categories:
        out.add(f"{path}/category", "category-required", "<info> needs at least one <category>")
    for index, category in enumerate(info.categories):
        enum_value(out, f"{path}/category[{index}]", category, Category, required=False)
    required_text(out, f"{path}/event", info.event)
    for index, response in enumerate(info.response_types):
        enum_value(out, f"{path}/responseType[{index}]", response, ResponseType, required=False)
    enum_value(out, f"{path}/urgency", info.urgency, Urgency)
    enum_value(out, f"{path}/severity", info.severity, Severity)
    enum_value(out, f"{path}/certainty", info.certainty, Certainty)
    for index, code in enumerate(info.event_codes):
        _pair(out, f"{path}/eventCode[{index}]", code, value_needed=True)
    for name in ("effective", "onset", "expires"):
        time_value(out, f"{path}/{name}", getattr(info, name))
    if info.web is not None and not _ABSOLUTE_URI.fullmatch(info.web):
        out.add(f"{path}/web", "uri-format", f"<web> {info.web!r} is not an absolute URI")
    for index, parameter in enumerate(info.parameters):
        _pair(out, f"{path}/parameter[{index}]", parameter, value_needed=False)
    for index, resource in enumerate(info.resources):
        _resource(out, f"{path}/resource[{index}]", resource)
    for index, area in enumerate(info.areas):
        check_area(out, f"{path}/area[{index}]", area, options)


def _resource(out: Findings, path: str, resource: Resource) -> None:
    required_text(out, f"{path}/resourceDesc", resource.resource_desc)
    if required_text(out, f"{path}/mimeType", resource.mime_type) and not _MIME.fullmatch(
        resource.mime_type
    ):
        out.add(
            f"{path}/mimeType",
            "mime-format",
            f"<mimeType> {resource.mime_type!r} is not type/subtype",
        )
    if isinstance(resource.size, str) or (resource.size is not None and resource.size < 0):
        out.add(
            f"{path}/size",
            "number-format",
            f"<size> {resource.size!r} is not a whole number of bytes",
        )
    # A relative uri is allowed only to name the content carried in derefUri.
    if (
        resource.uri is not None
        and resource.deref_uri is None
        and not _ABSOLUTE_URI.fullmatch(resource.uri)
    ):
        out.add(f"{path}/uri", "uri-format", f"<uri> {resource.uri!r} is not an absolute URI")
    if resource.deref_uri is not None:
        try:
            base64.b64decode("".join(resource.deref_uri.split()), validate=True)
        except (binascii.Error, ValueError):
            out.add(f"{path}/derefUri", "base64-format", "<derefUri> is not valid base64")
    if resource.digest is not None and not _SHA1_HEX.fullmatch(resource.digest.strip()):
        out.add(
            f"{path}/digest",
            "digest-format",
            "<digest> must be a SHA-1 digest in hexadecimal (40 digits)",
        )
