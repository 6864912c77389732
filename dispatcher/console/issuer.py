"""The platform as the issuer of console alerts: its own trust entry, and the signed
document that becomes the alert's stored body.

The body is an envelope holding the canonical document as a string plus its SM2 signature,
so the exact signed bytes survive inside the stored body and anyone with the platform's
public key can check it later (``verify_envelope``) without re-serialising anything.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from dispatcher.config import Settings
from signing import sm2
from signing.block import signed_message
from signing.signer import Signer
from signing.trust import MSG_TYPES, Rights, TrustEntry

CONTENT_TYPE = "application/vnd.ebc.console-alert+json"
DOCUMENT_FORMAT = "ebc-console-alert/1"
ALGORITHM = "SM2-SM3"


def platform_issuer(settings: Settings, signer: Signer) -> TrustEntry:
    """Everything inside the platform's jurisdiction, any event, any MsgType: the console
    narrows further per account before anything reaches here."""
    return TrustEntry(
        cert_sn=signer.cert_sn,
        public_key=signer.public_key,
        name=f"{settings.name} (console)",
        holder_ebrid=settings.ebrid,
        not_before=None,
        not_after=None,
        revoked=False,
        rights=Rights(regions=(settings.region,), event_types=("*",), msg_types=MSG_TYPES),
    )


def canonical(document: Mapping[str, Any]) -> bytes:
    return json.dumps(
        {"format": DOCUMENT_FORMAT, **document},
        ensure_ascii=False, sort_keys=True, separators=(",", ":"),
    ).encode("utf-8")


def sign_document(
    document: Mapping[str, Any], signer: Signer, *, now: dt.datetime
) -> tuple[bytes, int]:
    """(envelope bytes, signed-at): the signature covers the document bytes followed by the
    4-byte signed-at, the same model as the HTTP and bearer signatures."""
    body = canonical(document)
    signed_at = int(now.timestamp())
    signature = signer.sign(signed_message(body, signed_at))
    envelope = {
        "document": body.decode("utf-8"),
        "cert_sn": signer.cert_sn.value,
        "signed_at": signed_at,
        "algorithm": ALGORITHM,
        "signature": signature.hex(),
    }
    return json.dumps(envelope, ensure_ascii=False, sort_keys=True).encode("utf-8"), signed_at


def verify_envelope(raw: bytes, public_key: sm2.SM2PublicKey) -> dict[str, Any] | None:
    """The signed document when the envelope's signature holds, else None."""
    try:
        envelope = json.loads(raw)
        body = str(envelope["document"]).encode("utf-8")
        signature = bytes.fromhex(str(envelope["signature"]))
        signed_at = int(envelope["signed_at"])
    except (ValueError, KeyError, TypeError):
        return None
    if not sm2.verify(public_key, signed_message(body, signed_at), signature):
        return None
    document = json.loads(body)
    return document if isinstance(document, dict) else None
