"""A GY/T 384 peer written from standards.md section 4 alone (string XML, tarfile, the SM2
primitive), not from protocols.ebd: its EBM package is accepted, dispatched and answered with
a signed EBDResponse that it can read and verify by itself."""

from __future__ import annotations

import base64
import datetime as dt
import io
import tarfile
import xml.etree.ElementTree as ET
from pathlib import Path

from protocols.codes import CertSN
from signing import sm2
from signing.trust import Rights, TrustEntry, TrustStore
from tests.api.support import client_for, wait_for, write_platform

PEER_EBRID = "23400000000000101010101"  # a provincial platform
PEER_SN = "850000000001"
PEER_KEY = sm2.SM2PrivateKey.generate()


def _package(ebdid: str, ebmid: str, now: dt.datetime) -> bytes:
    stamp = now.strftime("%Y-%m-%d %H:%M:%S")
    end = (now + dt.timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S")
    body = f"""<?xml version="1.0" encoding="UTF-8"?>
<EBD>
<EBDVersion>1</EBDVersion>
<EBDID>{ebdid}</EBDID>
<EBDType>EBM</EBDType>
<SRC><EBRID>{PEER_EBRID}</EBRID><URL>http://127.0.0.1:9/ebd</URL></SRC>
<DEST><EBRID>43415230000000103010101</EBRID></DEST>
<EBDTime>{stamp}</EBDTime>
<EBM>
<EBMVersion>1</EBMVersion>
<EBMID>{ebmid}</EBMID>
<MsgBasicInfo>
<MsgType>3</MsgType><SenderName>安徽省应急广播平台</SenderName><SenderCode>{PEER_EBRID}</SenderCode>
<SendTime>{stamp}</SendTime><EventType>11B03</EventType><Severity>2</Severity>
<StartTime>{stamp}</StartTime><EndTime>{end}</EndTime>
</MsgBasicInfo>
<MsgContent>
<LanguageCode>zho</LanguageCode><MsgTitle>暴雨橙色预警演练</MsgTitle>
<MsgDesc>这是一次演练。</MsgDesc><AreaCode>341523000000</AreaCode>
</MsgContent>
</EBM>
</EBD>
""".encode()
    signature = sm2.sign(PEER_KEY, body)
    signature_file = f"""<?xml version="1.0" encoding="UTF-8"?>
<Signature>
<Version>1</Version>
<RelatedEBD><EBDID>{ebdid}</EBDID></RelatedEBD>
<CertSN>{PEER_SN}</CertSN>
<SignatureAlgorithm>SM2-SM3</SignatureAlgorithm>
<SignatureValue>{base64.b64encode(signature).decode()}</SignatureValue>
</Signature>
""".encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in ((f"EBDB_{ebdid}.xml", body), (f"EBDS_EBDB_{ebdid}.xml", signature_file)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _read_answer(data: bytes, platform_key: sm2.SM2PublicKey) -> tuple[str, str, str]:
    files: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for member in tar.getmembers():
            extracted = tar.extractfile(member)
            assert extracted is not None
            files[member.name] = extracted.read()
    (body_name,) = [n for n in files if n.startswith("EBDB_")]
    body = files[body_name]
    signature = ET.fromstring(files[f"EBDS_{body_name}"])
    value = base64.b64decode(signature.findtext("SignatureValue") or "")
    assert sm2.verify(platform_key, body, value), "the answer's signature does not verify"
    root = ET.fromstring(body)
    return (
        root.findtext("EBDType") or "",
        root.findtext("EBDResponse/ResultCode") or "",
        root.findtext("RelatedEBD/EBDID") or "",
    )


def test_an_independent_peer_is_accepted_and_answered(tmp_path: Path) -> None:
    directory = write_platform(tmp_path / "county")
    store = TrustStore()
    store.add(
        TrustEntry(
            cert_sn=CertSN(PEER_SN),
            public_key=PEER_KEY.public_key(),
            name="安徽省应急广播平台",
            holder_ebrid=PEER_EBRID,
            not_before=None,
            not_after=None,
            revoked=False,
            rights=Rights(regions=("340000000000",), event_types=("*",), msg_types=(1, 2, 3, 4, 5)),
        )
    )
    store.save(directory / "trust.json")
    platform_key = sm2.SM2PublicKey.from_pem((directory / "keys" / "public.pem").read_bytes())
    now = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).replace(tzinfo=None, microsecond=0)
    ebdid = f"10{PEER_EBRID}{now:%Y%m%d}00000001"
    ebmid = f"{PEER_EBRID}{now:%Y%m%d}0001"
    for client in client_for(directory):
        response = client.post(
            "/ebd",
            files={"file": (f"EBDT_{ebdid}.tar", _package(ebdid, ebmid, now), "application/x-tar")},
        )
        assert response.status_code == 200
        kind, code, related = _read_answer(response.content, platform_key)
        assert (kind, code, related) == ("EBDResponse", "1", ebdid)
        alert = client.get("/api/v1/alerts").json()["items"][0]
        assert alert["identifier"] == ebmid and alert["drill"] is True
        assert wait_for(client, alert["id"], lambda s: s["state"] == "completed")["coverage"] == 1.0

        tampered = _package(ebdid.replace("00000001", "00000002"), ebmid, now).replace(
            "演练".encode(), "实况".encode(), 1
        )
        answer = client.post("/ebd", files={"file": ("x.tar", tampered, "application/x-tar")})
        assert _read_answer(answer.content, platform_key)[1] == "4"
