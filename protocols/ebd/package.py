"""``EBDT_<EBDID>.tar`` packages: build deterministically, open defensively, never touch disk.

A package holds ``EBDB_<EBDID>.xml`` (the body), ``EBDS_EBDB_<EBDID>.xml`` (its signature)
and flat resource files. Packages come from peers over HTTP, so opening one assumes hostility:
every header is checked (name, kind, claimed size, count) before any member data is read, and
member data is only ever read into memory.
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass, field

from protocols.codes import EBDID
from protocols.ebd.errors import (
    PackageFormatError,
    PackageLimitError,
    PackageMissingBodyError,
    PackageNameError,
    PackageUnsafeMemberError,
)
from protocols.errors import CodeError

MIB = 1024 * 1024
BODY_PREFIX = "EBDB_"
SIGNATURE_PREFIX = "EBDS_EBDB_"
PACKAGE_PREFIX = "EBDT_"
_MAX_NAME = 255


@dataclass(frozen=True)
class PackageLimits:
    max_package_bytes: int = 100 * MIB
    max_members: int = 32
    max_member_bytes: int = 50 * MIB
    max_total_bytes: int = 100 * MIB
    max_body_bytes: int = 2 * MIB  # matches safexml's XML size limit
    max_signature_bytes: int = 64 * 1024


DEFAULT_PACKAGE_LIMITS = PackageLimits()


@dataclass(frozen=True)
class OpenedPackage:
    ebdid: str
    ebdb: bytes
    ebds: bytes | None
    resources: dict[str, bytes] = field(default_factory=dict)


def package_name(ebdid: str) -> str:
    return f"{PACKAGE_PREFIX}{ebdid}.tar"


def body_name(ebdid: str) -> str:
    return f"{BODY_PREFIX}{ebdid}.xml"


def signature_name(ebdid: str) -> str:
    return f"{SIGNATURE_PREFIX}{ebdid}.xml"


# ---------------------------------------------------------------- building


def build_package(
    ebdb: bytes, ebdid: str, ebds: bytes | None, resources: Mapping[str, bytes]
) -> bytes:
    """The tar bytes; the same inputs always give the same bytes (fixed mtime, owner, order)."""
    ebdid = _checked_ebdid(ebdid)
    members: dict[str, bytes] = {body_name(ebdid): ebdb}
    if ebds is not None:
        members[signature_name(ebdid)] = ebds
    for name, data in resources.items():
        checked = _checked_name(name)
        if checked.startswith((BODY_PREFIX, "EBDS_")):
            raise PackageNameError(f"resource name {name!r} is reserved for the body or signature")
        if checked in members:
            raise PackageNameError(f"resource name {name!r} appears twice")
        members[checked] = data
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT, encoding="utf-8") as tar:
        for name in sorted(members):
            info = tarfile.TarInfo(name)
            info.size = len(members[name])
            info.mtime = 0
            info.mode = 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            try:
                tar.addfile(info, io.BytesIO(members[name]))
            except ValueError as exc:  # USTAR cannot hold the name
                raise PackageNameError(f"member name {name!r} does not fit a tar header") from exc
    return out.getvalue()


def _checked_ebdid(ebdid: str) -> str:
    try:
        return EBDID(ebdid).value
    except CodeError as exc:
        raise PackageNameError(f"package EBDID: {exc.message}") from exc


def _checked_name(raw: str) -> str:
    """A flat member name, or a refusal saying what is wrong with it."""
    name = raw[2:] if raw.startswith("./") else raw
    if "\\" in name:
        raise PackageUnsafeMemberError(f"member {raw!r}: backslashes are refused in names")
    if name.startswith("/"):
        raise PackageUnsafeMemberError(f"member {raw!r}: absolute paths are refused")
    if ".." in name.split("/"):
        raise PackageUnsafeMemberError(f"member {raw!r}: path traversal ('..') is refused")
    if "/" in name:
        raise PackageUnsafeMemberError(f"member {raw!r}: sub-directories are refused")
    if name in ("", "."):
        raise PackageUnsafeMemberError(f"member {raw!r}: an empty name is refused")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in name) or len(name) > _MAX_NAME:
        raise PackageUnsafeMemberError(f"member {raw!r}: control characters or too long")
    return name


# ---------------------------------------------------------------- opening


def open_package(
    data: bytes,
    limits: PackageLimits = DEFAULT_PACKAGE_LIMITS,
    *,
    expected_ebdid: str | None = None,
) -> OpenedPackage:
    """Read a package from memory. ``expected_ebdid`` (e.g. from the upload's file name)
    must match the body's EBDID when given. Refusals are PackageError subclasses."""
    if len(data) > limits.max_package_bytes:
        raise PackageLimitError(
            f"package is {len(data)} bytes; the limit is {limits.max_package_bytes}"
        )
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:", encoding="utf-8") as tar:
            members = _scan(tar, len(data), limits)
            ebdid = _body_ebdid(members, expected_ebdid)
            ebds_name = signature_name(ebdid)
            for name in members:
                if name.startswith("EBDS_") and name != ebds_name:
                    raise PackageNameError(f"signature {name!r} does not match EBDID {ebdid}")
            contents = {name: _read(tar, info) for name, info in members.items()}
    except tarfile.TarError as exc:
        raise PackageFormatError(f"not an uncompressed tar archive: {exc}") from exc
    except RecursionError:  # opening already reads the first header
        raise PackageLimitError("too many chained extended (pax/GNU) tar headers") from None
    ebdb = contents.pop(body_name(ebdid))
    ebds = contents.pop(ebds_name, None)
    return OpenedPackage(
        ebdid=ebdid, ebdb=ebdb, ebds=ebds, resources=dict(sorted(contents.items()))
    )


def _scan(
    tar: tarfile.TarFile, data_size: int, limits: PackageLimits
) -> dict[str, tarfile.TarInfo]:
    """Walk the headers one by one; each is judged before the next one is even read."""
    members: dict[str, tarfile.TarInfo] = {}
    total = 0
    count = 0
    while True:
        try:
            info = tar.next()
        except tarfile.TarError as exc:
            raise PackageFormatError(f"damaged tar header: {exc}") from exc
        except RecursionError:  # tarfile follows chained pax/GNU headers recursively
            raise PackageLimitError("too many chained extended (pax/GNU) tar headers") from None
        if info is None:
            break
        count += 1
        if count > limits.max_members:
            raise PackageLimitError(f"package has more than {limits.max_members} members")
        if info.isdir() and info.name.rstrip("/") in (".", ""):
            continue  # a harmless "./" entry some tar tools add
        name = _checked_name(info.name)
        _check_kind(info)
        _check_size(name, info, limits)
        total += info.size
        if total > limits.max_total_bytes:
            raise PackageLimitError(f"members add up to more than {limits.max_total_bytes} bytes")
        if info.offset_data + info.size > data_size:
            raise PackageFormatError(f"member {name!r} is truncated")
        if name in members:
            raise PackageNameError(f"member {name!r} appears twice")
        members[name] = info
    return members


def _check_kind(info: tarfile.TarInfo) -> None:
    if info.issym() or info.islnk():
        raise PackageUnsafeMemberError(f"member {info.name!r}: links are refused")
    if info.isdir():
        raise PackageUnsafeMemberError(f"member {info.name!r}: directories are refused")
    if not info.isreg() or info.issparse():
        raise PackageUnsafeMemberError(
            f"member {info.name!r}: only regular files are allowed (device, fifo or sparse refused)"
        )


def _check_size(name: str, info: tarfile.TarInfo, limits: PackageLimits) -> None:
    limit = limits.max_member_bytes
    if name.startswith(BODY_PREFIX):
        limit = limits.max_body_bytes
    elif name.startswith("EBDS_"):
        limit = limits.max_signature_bytes
    if info.size > limit:
        raise PackageLimitError(f"member {name!r} claims {info.size} bytes; the limit is {limit}")


def _body_ebdid(members: Mapping[str, tarfile.TarInfo], expected: str | None) -> str:
    bodies = [n for n in members if n.startswith(BODY_PREFIX)]
    if not bodies:
        raise PackageMissingBodyError("package holds no EBDB_<EBDID>.xml body")
    if len(bodies) > 1:
        raise PackageNameError(f"package holds several bodies: {', '.join(sorted(bodies))}")
    if not bodies[0].endswith(".xml"):
        raise PackageNameError(f"body {bodies[0]!r} is not named EBDB_<EBDID>.xml")
    ebdid = _checked_ebdid(bodies[0][len(BODY_PREFIX) : -len(".xml")])
    if expected is not None and expected != ebdid:
        raise PackageNameError(f"body is for EBDID {ebdid}, the package name says {expected}")
    return ebdid


def _read(tar: tarfile.TarFile, info: tarfile.TarInfo) -> bytes:
    handle = tar.extractfile(info)
    if handle is None:  # pragma: no cover - regular files always have a handle
        raise PackageFormatError(f"member {info.name!r} has no data")
    data = handle.read(info.size + 1)
    if len(data) != info.size:
        raise PackageFormatError(f"member {info.name!r} is truncated")
    return data
