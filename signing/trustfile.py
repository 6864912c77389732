"""The trust store's JSON shape, validated field by field.

{"format": "ebc-trust-store", "version": 1, "entries": [
  {"cert_sn": "123456789012", "name": "Province platform", "holder_ebrid": "234...",
   "not_before": "2025-01-01T00:00:00+00:00", "not_after": null, "revoked": false,
   "rights": {"regions": ["340000000000"], "event_types": ["*"], "msg_types": [1, 2]},
   "public_key": "-----BEGIN PUBLIC KEY-----\\n..."}]}
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from protocols.codes import CertSN, ResourceCode
from protocols.errors import CodeError
from signing.errors import KeyFormatError, TrustStoreError
from signing.sm2 import SM2PublicKey
from signing.trust import Rights, TrustEntry

FORMAT_NAME = "ebc-trust-store"
FORMAT_VERSION = 1
_REQUIRED = ("cert_sn", "public_key", "name", "rights")
_OPTIONAL = ("holder_ebrid", "not_before", "not_after", "revoked")
_RIGHTS_FIELDS = ("regions", "event_types", "msg_types")
T = TypeVar("T")


def _time_to_json(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def entries_to_json(entries: list[TrustEntry]) -> dict[str, Any]:
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "entries": [
            {
                "cert_sn": entry.cert_sn.value,
                "name": entry.name,
                "holder_ebrid": entry.holder_ebrid,
                "not_before": _time_to_json(entry.not_before),
                "not_after": _time_to_json(entry.not_after),
                "revoked": entry.revoked,
                "rights": {
                    "regions": list(entry.rights.regions),
                    "event_types": list(entry.rights.event_types),
                    "msg_types": list(entry.rights.msg_types),
                },
                "public_key": entry.public_key.to_pem().decode("ascii"),
            }
            for entry in entries
        ],
    }


def entries_from_json(document: Any) -> list[TrustEntry]:
    if not isinstance(document, dict):
        raise TrustStoreError("top level must be a JSON object with an 'entries' list")
    if document.get("format", FORMAT_NAME) != FORMAT_NAME:
        raise TrustStoreError(f"field 'format' must be {FORMAT_NAME!r}")
    if document.get("version", FORMAT_VERSION) != FORMAT_VERSION:
        raise TrustStoreError(f"field 'version' must be {FORMAT_VERSION}")
    items = document.get("entries")
    if not isinstance(items, list):
        raise TrustStoreError("field 'entries' must be a list")
    entries: list[TrustEntry] = []
    seen: set[CertSN] = set()
    for index, item in enumerate(items):
        entry = _entry(item, index)
        if entry.cert_sn in seen:
            raise TrustStoreError(f"entries[{index}]: cert_sn {entry.cert_sn.value} appears twice")
        seen.add(entry.cert_sn)
        entries.append(entry)
    return entries


class _Reader:
    """Reads one entry's fields, prefixing every problem with where it is."""

    def __init__(self, item: dict[str, Any], index: int) -> None:
        self.item = item
        sn = item.get("cert_sn")
        self.where = f"entries[{index}]" + (f" (cert_sn {sn})" if isinstance(sn, str) else "")

    def fail(self, field: str, problem: str) -> TrustStoreError:
        return TrustStoreError(f"{self.where}: field {field!r}: {problem}")

    def get(self, field: str, kind: type, convert: Callable[[Any], T], *, optional: bool) -> T:
        value = self.item.get(field)
        if value is None and optional:
            return convert(None)
        if value is None:
            raise self.fail(field, "is required")
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.fail(field, f"must be a {kind.__name__}, got {type(value).__name__}")
        try:
            return convert(value)
        except (CodeError, KeyFormatError, TrustStoreError) as exc:
            raise self.fail(field, exc.message) from exc
        except ValueError as exc:
            raise self.fail(field, str(exc)) from exc


def _time(value: str | None) -> datetime | None:
    if value is None:
        return None
    moment = datetime.fromisoformat(value)
    if moment.utcoffset() is None:
        raise ValueError(f"{value!r} has no UTC offset (write e.g. 2025-01-01T00:00:00+08:00)")
    return moment


def _ebrid(value: str | None) -> str | None:
    return None if value is None else ResourceCode(value).value


def _name(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


def _rights(value: dict[str, Any]) -> Rights:
    unknown = sorted(set(value) - set(_RIGHTS_FIELDS))
    missing = [name for name in _RIGHTS_FIELDS if not isinstance(value.get(name), list)]
    if unknown:
        raise ValueError(f"unknown field(s) {', '.join(unknown)}")
    if missing:
        raise ValueError(f"{', '.join(missing)} must be list(s)")
    return Rights(tuple(value["regions"]), tuple(value["event_types"]), tuple(value["msg_types"]))


def _entry(item: Any, index: int) -> TrustEntry:
    if not isinstance(item, dict):
        raise TrustStoreError(f"entries[{index}]: must be a JSON object")
    read = _Reader(item, index)
    unknown = sorted(set(item) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown:
        raise read.fail(unknown[0], "is not a known field (a typo?)")
    revoked = read.get("revoked", bool, lambda v: bool(v), optional=True)
    try:
        return TrustEntry(
            cert_sn=read.get("cert_sn", str, CertSN, optional=False),
            public_key=read.get("public_key", str, SM2PublicKey.from_pem, optional=False),
            name=read.get("name", str, _name, optional=False),
            holder_ebrid=read.get("holder_ebrid", str, _ebrid, optional=True),
            not_before=read.get("not_before", str, _time, optional=True),
            not_after=read.get("not_after", str, _time, optional=True),
            revoked=revoked,
            rights=read.get("rights", dict, _rights, optional=False),
        )
    except TrustStoreError as exc:
        if exc.message.startswith(read.where):
            raise
        raise TrustStoreError(f"{read.where}: {exc.message}") from exc
