"""POST /ebd: signed GY/T 384 packages in, signed EBDResponse packages out."""

from __future__ import annotations

import datetime as dt
import io
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from protocols.codes import EBDID, EBMID, ResourceCode
from protocols.ebd import (
    ConnectionCheck,
    Dest,
    Ebd,
    EbdResponse,
    Ebm,
    MsgBasicInfo,
    MsgContent,
    MsgType,
    Severity,
    Src,
    build_package,
    open_package,
    parse_ebd,
)
from signing.ebds import verify_signature_file
from signing.package import seal
from signing.sm2 import SM2PublicKey
from signing.trust import TrustStore
from tests.api.support import (
    PLATFORM_EBRID,
    client_for,
    make_issuer,
    trust,
    wait_for,
    write_platform,
)

PROVINCE = ResourceCode("23400000000000101010101")
UPPER = make_issuer("800000000001", "安徽省应急广播平台")
STRANGER = make_issuer("800000000099", "不认识的平台")
NOW = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).replace(tzinfo=None, microsecond=0)


def _ebm(seq: int, msg_type: MsgType = MsgType.PLATFORM_DRILL) -> Ebm:
    return Ebm(
        ebm_version="1",
        ebmid=EBMID.build(PROVINCE, NOW.date(), seq),
        msg_basic_info=MsgBasicInfo(
            msg_type=msg_type,
            sender_name="安徽省应急广播平台",
            sender_code=PROVINCE.value,
            send_time=NOW,
            event_type="11B03",
            severity=Severity.ORANGE,
            start_time=NOW,
            end_time=NOW + dt.timedelta(hours=1),
        ),
        contents=(
            MsgContent(
                language_code="zho",
                msg_title="暴雨橙色预警演练",
                msg_desc="演练",
                area_codes=("341523000000",),
            ),
        ),
    )


def _package(body: object, counter: int, issuer: object = UPPER) -> bytes:
    ebd = Ebd(
        ebdid=EBDID.build(PROVINCE, NOW.date(), counter),
        src=Src(ebrid=PROVINCE),
        dest=Dest(ebrid=ResourceCode(PLATFORM_EBRID)),
        ebd_time=NOW,
        body=body,
    )  # type: ignore[arg-type]
    return seal(ebd, issuer.signer)  # type: ignore[attr-defined]


@pytest.fixture
def platform(tmp_path: Path, database_url: str | None) -> Iterator[tuple[TestClient, Path]]:
    directory = write_platform(tmp_path / "county", database_url=database_url)
    store = TrustStore()
    trust(store, UPPER, regions=("340000000000",))
    store.save(directory / "trust.json")
    for client in client_for(directory):
        yield client, directory


def _answer(client: TestClient, directory: Path, package: bytes) -> tuple[int, EbdResponse]:
    response = client.post("/ebd", files={"file": ("EBDT.tar", package, "application/x-tar")})
    assert response.status_code == 200, response.text
    opened = open_package(response.content)
    platform_key = SM2PublicKey.from_pem((directory / "keys" / "public.pem").read_bytes())
    responder = TrustStore()
    from protocols.codes import CertSN
    from signing.trust import Rights, TrustEntry

    responder.add(
        TrustEntry(
            cert_sn=CertSN("100000000001"),
            public_key=platform_key,
            name="county",
            holder_ebrid=None,
            not_before=None,
            not_after=None,
            revoked=False,
            rights=Rights.unrestricted(),
        )
    )
    assert opened.ebds is not None
    verify_signature_file(opened.ebdb, opened.ebds, responder, at=dt.datetime.now(dt.UTC))
    ebd = parse_ebd(opened.ebdb)
    assert isinstance(ebd.body, EbdResponse)
    assert ebd.src.ebrid.value == PLATFORM_EBRID
    assert int(response.headers["EBC-Result-Code"]) == int(ebd.body.result_code)
    return int(ebd.body.result_code), ebd.body


def _alerts(client: TestClient) -> int:
    return int(client.get("/api/v1/alerts").json()["total"])


def test_signed_ebm_package_is_accepted_and_dispatched(
    platform: tuple[TestClient, Path],
) -> None:
    client, directory = platform
    package = _package(_ebm(1), 1)
    code, body = _answer(client, directory, package)
    assert code == 1, body.result_desc
    listing = client.get("/api/v1/alerts").json()["items"]
    assert len(listing) == 1 and listing[0]["drill"] is True
    status = wait_for(client, listing[0]["id"], lambda s: s["state"] == "completed")
    assert status["coverage"] == 1.0
    again, _ = _answer(client, directory, package)
    assert again == 1 and _alerts(client) == 1


def test_connection_check_is_answered(platform: tuple[TestClient, Path]) -> None:
    client, directory = platform
    code, _ = _answer(client, directory, _package(ConnectionCheck(rpt_time=NOW), 2))
    assert code == 1


@pytest.mark.parametrize(
    ("case", "expected"),
    [("tampered", 4), ("unknown-certificate", 4), ("traversal", 5), ("garbage", 2)],
)
def test_refused_packages_store_nothing(
    platform: tuple[TestClient, Path], case: str, expected: int
) -> None:
    client, directory = platform
    good = _package(_ebm(10), 10)
    if case == "tampered":
        opened = open_package(good)
        body = opened.ebdb.replace("演练".encode(), "实况".encode())
        package = build_package(body, opened.ebdid, opened.ebds, {})
    elif case == "unknown-certificate":
        package = _package(_ebm(11), 11, STRANGER)
    elif case == "traversal":
        opened = open_package(good)
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            for name, data in ((f"EBDB_{opened.ebdid}.xml", opened.ebdb), ("../../etc/evil", b"x")):
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        package = buffer.getvalue()
    else:
        package = b"not a tar at all" * 10
    code, body = _answer(client, directory, package)
    assert code == expected, body.result_desc
    assert _alerts(client) == 0


def test_missing_file_field_is_a_problem(platform: tuple[TestClient, Path]) -> None:
    client, _ = platform
    response = client.post("/ebd", data={"other": "x"})
    assert response.status_code == 400 and response.json()["code"] == "invalid-ebd"
