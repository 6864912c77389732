"""Which certificates a platform trusts, until when, and for what.

The store is a JSON file an operator can read and diff; it holds public keys only. Loading is
strict (unknown fields, naive times, bad codes are all refused, each naming the entry and field)
because a typo in a trust anchor must fail loudly rather than silently widen or narrow trust.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from protocols.codes import CertSN, RegionCode
from protocols.errors import CodeError
from signing.errors import (
    CertificateExpired,
    CertificateRevoked,
    TrustStoreError,
    UnknownCertificate,
)
from signing.sm2 import SM2PublicKey

FORMAT_VERSION = 1
MSG_TYPES = (1, 2, 3, 4, 5)  # real, cancel, platform/front-end/terminal drill (GY/T 385)


def _event_type_ok(code: str) -> bool:
    return code == "*" or (len(code) == 5 and code.isascii() and code.isalnum())


@dataclass
class Rights:
    """What a certificate may send: regions (12-digit codes, containment by significant digits),
    event types (5-character codes, or ``"*"`` for any) and MsgType numbers."""

    regions: tuple[str, ...]
    event_types: tuple[str, ...]
    msg_types: tuple[int, ...]

    def __post_init__(self) -> None:
        self.regions = tuple(self.regions)
        self.event_types = tuple(self.event_types)
        self.msg_types = tuple(self.msg_types)
        for region in self.regions:
            try:
                RegionCode(region)
            except CodeError as exc:
                raise TrustStoreError(f"rights.regions: {exc.message}") from exc
        for code in self.event_types:
            if not isinstance(code, str) or not _event_type_ok(code):
                raise TrustStoreError(
                    f"rights.event_types: {code!r} is neither '*' nor a 5-character event type"
                )
        for number in self.msg_types:
            if isinstance(number, bool) or number not in MSG_TYPES:
                raise TrustStoreError(f"rights.msg_types: {number!r} is not a MsgType 1-5")

    @classmethod
    def unrestricted(cls) -> Rights:
        return cls(("000000000000",), ("*",), MSG_TYPES)

    def allows_event(self, code: str) -> bool:
        return "*" in self.event_types or code in self.event_types

    def allows_msgtype(self, number: int) -> bool:
        return number in self.msg_types

    def allows_region(self, code12: str | RegionCode) -> bool:
        target = code12 if isinstance(code12, RegionCode) else RegionCode(code12)
        return any(RegionCode(region).contains(target) for region in self.regions)

    def allows_regions(self, codes: Iterable[str | RegionCode]) -> bool:
        """Every one of ``codes`` lies inside a granted region (an empty list is not allowed)."""
        targets = list(codes)
        return bool(targets) and all(self.allows_region(code) for code in targets)


@dataclass
class TrustEntry:
    cert_sn: CertSN
    public_key: SM2PublicKey
    name: str
    holder_ebrid: str | None
    not_before: datetime | None
    not_after: datetime | None
    revoked: bool
    rights: Rights

    def __post_init__(self) -> None:
        if not isinstance(self.cert_sn, CertSN):
            self.cert_sn = CertSN(self.cert_sn)
        for name in ("not_before", "not_after"):
            moment = getattr(self, name)
            aware = isinstance(moment, datetime) and moment.utcoffset() is not None
            if moment is not None and not aware:
                raise TrustStoreError(f"{name} must be a timezone-aware datetime or None")
        if self.not_before and self.not_after and self.not_before > self.not_after:
            raise TrustStoreError("not_before is later than not_after")

    def check_valid_at(self, at: datetime) -> None:
        if at.utcoffset() is None:
            raise ValueError("validity is checked against a timezone-aware time")
        sn = self.cert_sn.value
        if self.revoked:
            raise CertificateRevoked(f"certificate {sn} ({self.name}) is revoked")
        if self.not_before is not None and at < self.not_before:
            raise CertificateExpired(
                f"certificate {sn} ({self.name}) is not valid before {self.not_before.isoformat()}"
            )
        if self.not_after is not None and at > self.not_after:
            raise CertificateExpired(
                f"certificate {sn} ({self.name}) expired at {self.not_after.isoformat()}"
            )


class TrustStore:
    def __init__(self, entries: Iterable[TrustEntry] = ()) -> None:
        self._entries: dict[CertSN, TrustEntry] = {}
        for entry in entries:
            self.add(entry)

    def add(self, entry: TrustEntry) -> None:
        """Add, or replace the entry with the same serial."""
        self._entries[entry.cert_sn] = entry

    def revoke(self, cert_sn: CertSN | str) -> None:
        self.get(cert_sn).revoked = True

    def entries(self) -> list[TrustEntry]:
        return [self._entries[key] for key in sorted(self._entries)]

    def get(self, cert_sn: CertSN | str) -> TrustEntry:
        key = cert_sn if isinstance(cert_sn, CertSN) else CertSN(cert_sn)
        try:
            return self._entries[key]
        except KeyError:
            raise UnknownCertificate(f"certificate {key.value} is not in the trust store") from None

    def require_valid(self, cert_sn: CertSN | str, *, at: datetime) -> TrustEntry:
        entry = self.get(cert_sn)
        entry.check_valid_at(at)
        return entry

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, cert_sn: object) -> bool:
        return cert_sn in self._entries

    @classmethod
    def load(cls, path: str | Path) -> TrustStore:
        from signing.trustfile import entries_from_json  # trustfile builds TrustEntry: cycle

        source = Path(path)
        try:
            text = source.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise TrustStoreError(f"cannot read trust store {source}: {exc}") from exc
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise TrustStoreError(f"trust store {source} is not JSON: {exc}") from exc
        try:
            return cls(entries_from_json(document))
        except TrustStoreError as exc:
            raise TrustStoreError(f"trust store {source}: {exc.message}") from exc

    def save(self, path: str | Path) -> None:
        """Write atomically: readers see the old file or the new one, never half of either."""
        from signing.trustfile import entries_to_json

        target = Path(path)
        text = json.dumps(entries_to_json(self.entries()), ensure_ascii=False, indent=2) + "\n"
        fd, temp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temp_name, 0o644)  # public keys only; mkstemp's 0600 would hide it from peers
            os.replace(temp_name, target)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise
