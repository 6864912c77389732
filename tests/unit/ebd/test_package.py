"""EBDT_<EBDID>.tar packages: deterministic to build, defensive to open."""

from __future__ import annotations

import gzip
import io
import tarfile

import pytest

from protocols.ebd import (
    EbdType,
    PackageFormatError,
    PackageLimitError,
    PackageLimits,
    PackageMissingBodyError,
    PackageNameError,
    PackageUnsafeMemberError,
    ResultCode,
    build_ebd,
    build_package,
    open_package,
    package_name,
)
from tests.unit.ebd.samples import sample_ebd

EBDID = sample_ebd().ebdid.value
BODY = f"EBDB_{EBDID}.xml"
SIG = f"EBDS_EBDB_{EBDID}.xml"


def _ebdb() -> bytes:
    return build_ebd(sample_ebd(EbdType.EBM))


def _tar(*members: tuple[tarfile.TarInfo, bytes | None], fmt: int = tarfile.GNU_FORMAT) -> bytes:
    """A hand-made tar, for shapes build_package would never produce."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=fmt) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return out.getvalue()


def _file(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def _body() -> tuple[tarfile.TarInfo, bytes]:
    return _file(BODY, _ebdb())


def test_built_package_opens_with_every_part() -> None:
    data = build_package(
        _ebdb(), EBDID, b"<Signature/>", {"rain.mp3": b"ID3\x00", "a.png": b"\x89PNG"}
    )
    opened = open_package(data)
    assert opened.ebdid == EBDID
    assert opened.ebdb == _ebdb()
    assert opened.ebds == b"<Signature/>"
    assert opened.resources == {"a.png": b"\x89PNG", "rain.mp3": b"ID3\x00"}


def test_build_is_deterministic_and_sorted() -> None:
    first = build_package(_ebdb(), EBDID, b"s", {"b.mp3": b"2", "a.mp3": b"1"})
    second = build_package(_ebdb(), EBDID, b"s", {"a.mp3": b"1", "b.mp3": b"2"})
    assert first == second
    with tarfile.open(fileobj=io.BytesIO(first)) as tar:
        infos = tar.getmembers()
    assert [i.name for i in infos] == sorted([BODY, SIG, "a.mp3", "b.mp3"])
    assert {(i.mtime, i.uid, i.gid, i.uname, i.gname, i.mode) for i in infos} == {
        (0, 0, 0, "", "", 0o644)
    }


def test_package_without_signature_and_resources() -> None:
    opened = open_package(build_package(_ebdb(), EBDID, None, {}))
    assert opened.ebds is None
    assert opened.resources == {}


def test_package_name() -> None:
    assert package_name(EBDID) == f"EBDT_{EBDID}.tar"


def test_build_refuses_bad_resource_names_and_ids() -> None:
    with pytest.raises(PackageUnsafeMemberError):
        build_package(_ebdb(), EBDID, None, {"../x.mp3": b""})
    with pytest.raises(PackageNameError):
        build_package(_ebdb(), EBDID, None, {BODY: b""})
    with pytest.raises(PackageNameError):
        build_package(_ebdb(), "123", None, {})


def test_a_leading_dot_slash_is_accepted() -> None:
    dot = tarfile.TarInfo("./")
    dot.type = tarfile.DIRTYPE
    data = _tar((dot, None), _file(f"./{BODY}", _ebdb()), _file("./a.mp3", b"1"))
    opened = open_package(data)
    assert opened.resources == {"a.mp3": b"1"}


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("../evil.mp3", "traversal"),
        ("a/../../evil.mp3", "traversal"),
        ("/etc/passwd", "absolute"),
        ("..\\evil.mp3", "backslash"),
        ("sub/evil.mp3", "sub-directories"),
        ("evil\x01.mp3", "control"),
    ],
)
def test_unsafe_member_names_are_refused(name: str, reason: str) -> None:
    with pytest.raises(PackageUnsafeMemberError, match=reason) as info:
        open_package(_tar(_body(), _file(name, b"x")))
    assert info.value.result_code == 5


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        (tarfile.SYMTYPE, "links"),
        (tarfile.LNKTYPE, "links"),
        (tarfile.CHRTYPE, "regular files"),
        (tarfile.BLKTYPE, "regular files"),
        (tarfile.FIFOTYPE, "regular files"),
        (tarfile.DIRTYPE, "directories"),
    ],
)
def test_non_regular_members_are_refused(kind: bytes, reason: str) -> None:
    info = tarfile.TarInfo("audio.mp3")
    info.type = kind
    info.linkname = "/etc/passwd" if kind in (tarfile.SYMTYPE, tarfile.LNKTYPE) else ""
    with pytest.raises(PackageUnsafeMemberError, match=reason) as err:
        open_package(_tar(_body(), (info, None)))
    assert err.value.result_code == 5


def test_symlink_posing_as_the_body_is_refused() -> None:
    info = tarfile.TarInfo(BODY)
    info.type = tarfile.SYMTYPE
    info.linkname = "/etc/passwd"
    with pytest.raises(PackageUnsafeMemberError, match="links"):
        open_package(_tar((info, None)))


def test_a_header_claiming_a_huge_size_is_refused_before_reading() -> None:
    # Only the header exists: the claimed 8 GiB was never written, so any attempt to read
    # it (rather than judge the header) would fail differently.
    huge = tarfile.TarInfo("huge.mp3")
    huge.size = 8 * 1024**3 - 1
    header = huge.tobuf(tarfile.USTAR_FORMAT, "utf-8", "surrogateescape")
    body_end = 512 + -(-len(_ebdb()) // 512) * 512  # header + data padded to a block
    data = _tar(_body(), fmt=tarfile.USTAR_FORMAT)[:body_end] + header + b"\x00" * 1024
    with pytest.raises(PackageLimitError, match="claims 8589934591 bytes") as info:
        open_package(data)
    assert info.value.result_code == 5


def test_a_member_over_the_limit_is_refused() -> None:
    limits = PackageLimits(max_member_bytes=1000)
    with pytest.raises(PackageLimitError, match="limit is 1000"):
        open_package(build_package(_ebdb(), EBDID, None, {"big.mp3": b"\x00" * 1001}), limits)


def test_an_oversized_body_is_refused() -> None:
    with pytest.raises(PackageLimitError):
        open_package(build_package(_ebdb(), EBDID, None, {}), PackageLimits(max_body_bytes=100))


def test_total_size_limit() -> None:
    limits = PackageLimits(max_total_bytes=len(_ebdb()) + 10)
    data = build_package(_ebdb(), EBDID, None, {"a": b"x" * 6, "b": b"y" * 6})
    with pytest.raises(PackageLimitError, match="add up"):
        open_package(data, limits)


def test_package_size_limit() -> None:
    data = build_package(_ebdb(), EBDID, None, {})
    with pytest.raises(PackageLimitError):
        open_package(data, PackageLimits(max_package_bytes=len(data) - 1))


def test_too_many_members_are_refused() -> None:
    resources = {f"r{i:02d}.mp3": b"x" for i in range(10)}
    data = build_package(_ebdb(), EBDID, None, resources)
    with pytest.raises(PackageLimitError, match="more than 8 members") as info:
        open_package(data, PackageLimits(max_members=8))
    assert info.value.result_code == 5


def test_duplicate_names_are_refused() -> None:
    with pytest.raises(PackageNameError, match="appears twice"):
        open_package(_tar(_body(), _file("a.mp3", b"1"), _file("a.mp3", b"2")))
    with pytest.raises(PackageNameError, match="appears twice"):
        open_package(_tar(_body(), _file(f"./{BODY}", b"<EBD/>")))


def test_missing_body_is_missing_data() -> None:
    with pytest.raises(PackageMissingBodyError) as info:
        open_package(_tar(_file(SIG, b"<Signature/>")))
    assert info.value.result_code == 3


def test_two_bodies_are_refused() -> None:
    other = f"EBDB_{EBDID[:-1]}8.xml"
    with pytest.raises(PackageNameError, match="several bodies"):
        open_package(_tar(_body(), _file(other, b"<EBD/>")))


def test_signature_for_another_ebdid_is_refused() -> None:
    with pytest.raises(PackageNameError, match="does not match"):
        open_package(_tar(_body(), _file(f"EBDS_EBDB_{EBDID[:-1]}8.xml", b"<Signature/>")))


def test_body_name_with_a_malformed_ebdid_is_refused() -> None:
    with pytest.raises(PackageNameError, match="EBDID"):
        open_package(_tar(_file("EBDB_12345.xml", b"<EBD/>")))


def test_expected_ebdid_must_match() -> None:
    data = build_package(_ebdb(), EBDID, None, {})
    assert open_package(data, expected_ebdid=EBDID).ebdid == EBDID
    with pytest.raises(PackageNameError, match="package name says"):
        open_package(data, expected_ebdid=EBDID[:-1] + "8")


@pytest.mark.parametrize(
    "data",
    [b"", b"not a tar at all", b"\x00" * 100],
    ids=["empty", "text", "short"],
)
def test_not_a_tar_is_a_parse_failure(data: bytes) -> None:
    with pytest.raises((PackageFormatError, PackageMissingBodyError)) as info:
        open_package(data)
    assert info.value.result_code in (2, 3)


def test_garbage_is_a_parse_failure() -> None:
    with pytest.raises(PackageFormatError) as info:
        open_package(b"garbage" * 200)
    assert info.value.result_code == ResultCode.PARSE_FAILURE


def test_compressed_tar_is_refused() -> None:
    data = gzip.compress(build_package(_ebdb(), EBDID, None, {}))
    with pytest.raises(PackageFormatError, match="uncompressed"):
        open_package(data)


def test_truncated_member_is_refused() -> None:
    data = build_package(_ebdb(), EBDID, None, {})
    with pytest.raises(PackageFormatError):
        open_package(data[: 512 + 100])


def test_chained_extended_headers_are_refused_not_crashing() -> None:
    record = b"19 comment=aaaaaaa\n"
    pax = tarfile.TarInfo("././@PaxHeader")
    pax.type = tarfile.XHDTYPE
    pax.size = len(record)
    block = pax.tobuf(tarfile.USTAR_FORMAT, "utf-8", "strict") + record.ljust(512, b"\x00")
    data = block * 3000 + _tar(_body(), fmt=tarfile.USTAR_FORMAT)
    with pytest.raises(PackageLimitError, match="chained"):
        open_package(data)


def test_a_body_not_ending_in_xml_is_refused() -> None:
    with pytest.raises(PackageNameError, match=r"EBDB_<EBDID>\.xml"):
        open_package(_tar(_file(f"EBDB_{EBDID}.txt", b"<EBD/>")))
