"""The EBDS signature file of a GY/T 384 package (``EBDS_EBDB_<EBDID>.xml``).

    <Signature>
      <Version>1</Version>
      <RelatedEBD><EBDID>...</EBDID></RelatedEBD>
      <CertSN>12 digits</CertSN>
      <SignatureAlgorithm>SM2-SM3</SignatureAlgorithm>
      <SignatureValue>base64 of the 64-byte r||s</SignatureValue>
    </Signature>

It signs the exact bytes of the EBDB file, so the body must never be re-serialised in between.
We write base64 of raw r||s (the form the bearer block uses, so one signature serves both).
Peers are known to differ, so reading also accepts 128 hex digits and base64 of DER.
Mapping to errors: nothing to read or no SignatureValue -> SignatureMissing; any other defect,
and a signature that does not match -> SignatureInvalid (EBDResponse ResultCode 4).
"""

from __future__ import annotations

import base64
import binascii
import io
import string
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime
from xml.sax.saxutils import escape

import defusedxml.ElementTree as DET

from protocols.codes import EBDID, CertSN
from protocols.errors import CodeError, ProtocolError
from protocols.safexml import local_name, parse_xml
from signing.errors import SignatureInvalid, SignatureMissing
from signing.signer import Signer
from signing.sm2 import der_to_raw, verify
from signing.trust import TrustEntry, TrustStore

ALGORITHM = "SM2-SM3"
_HEADER_SCAN_BYTES = 64 * 1024  # the header comes first; never walk a whole large body here
_FIELDS = ("Version", "RelatedEBD", "CertSN", "SignatureAlgorithm", "SignatureValue")


@dataclass(frozen=True)
class EbdsSignature:
    version: str
    related_ebdid: str
    cert_sn: CertSN
    algorithm: str
    signature: bytes  # raw r||s, 64 bytes


def build_signature_file(ebdb: bytes, ebdid: str, signer: Signer, *, version: str = "1") -> bytes:
    related = EBDID(ebdid).value
    value = base64.b64encode(signer.sign(bytes(ebdb))).decode("ascii")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        "<Signature>\n"
        f"  <Version>{escape(version)}</Version>\n"
        f"  <RelatedEBD>\n    <EBDID>{related}</EBDID>\n  </RelatedEBD>\n"
        f"  <CertSN>{signer.cert_sn.value}</CertSN>\n"
        f"  <SignatureAlgorithm>{ALGORITHM}</SignatureAlgorithm>\n"
        f"  <SignatureValue>{value}</SignatureValue>\n"
        "</Signature>\n"
    ).encode()


def _decode_value(text: str) -> bytes:
    compact = "".join(text.split())
    if len(compact) == 128 and all(c in string.hexdigits for c in compact):
        return bytes.fromhex(compact)
    try:
        raw = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SignatureInvalid("SignatureValue is neither base64 nor 128 hex digits") from exc
    if len(raw) == 64:
        return raw
    if raw[:1] == b"\x30":
        return der_to_raw(raw)
    raise SignatureInvalid(f"SignatureValue decodes to {len(raw)} bytes; expected 64 (r||s)")


def _child(parent: ET.Element, name: str, path: str) -> ET.Element:
    found = [node for node in parent if local_name(node.tag) == name]
    if not found:
        error = SignatureMissing if name == "SignatureValue" else SignatureInvalid
        raise error(f"signature file has no {path}")
    if len(found) > 1:
        raise SignatureInvalid(f"signature file has {len(found)} {path} elements; expected one")
    return found[0]


def _text(node: ET.Element, path: str) -> str:
    text = (node.text or "").strip()
    if not text:
        error = SignatureMissing if path == "Signature/SignatureValue" else SignatureInvalid
        raise error(f"signature file {path} is empty")
    return text


def parse_signature_file(data: bytes) -> EbdsSignature:
    if not data or not data.strip():
        raise SignatureMissing("signature file is empty")
    try:
        root = parse_xml(data)
    except ProtocolError as exc:
        raise SignatureInvalid(f"signature file is not readable XML: {exc.message}") from exc
    if local_name(root.tag) != "Signature":
        raise SignatureInvalid(f"signature file root is <{local_name(root.tag)}>, not <Signature>")
    nodes = {name: _child(root, name, f"Signature/{name}") for name in _FIELDS}
    related = _text(_child(nodes["RelatedEBD"], "EBDID", "RelatedEBD/EBDID"), "RelatedEBD/EBDID")
    if not related.isascii() or not related.isdigit():
        raise SignatureInvalid(f"signature file RelatedEBD/EBDID {related!r} is not digits")
    try:
        cert_sn = CertSN(_text(nodes["CertSN"], "Signature/CertSN"))
    except CodeError as exc:
        raise SignatureInvalid(f"signature file CertSN: {exc.message}") from exc
    algorithm = _text(nodes["SignatureAlgorithm"], "Signature/SignatureAlgorithm")
    if algorithm.upper() != ALGORITHM:
        raise SignatureInvalid(
            f"SignatureAlgorithm {algorithm!r} is not supported (only {ALGORITHM})"
        )
    return EbdsSignature(
        version=_text(nodes["Version"], "Signature/Version"),
        related_ebdid=related,
        cert_sn=cert_sn,
        algorithm=ALGORITHM,
        signature=_decode_value(_text(nodes["SignatureValue"], "Signature/SignatureValue")),
    )


def ebdb_header_id(ebdb: bytes) -> str | None:
    """The EBD header's EBDID, reading only as far as it (it comes first), or None if unreadable.

    Cheap on purpose: the package reader parses the body fully later and reports its defects.
    """
    depth = 0
    head = io.BytesIO(bytes(ebdb[:_HEADER_SCAN_BYTES]))
    try:
        for event, node in DET.iterparse(head, events=("start", "end"), forbid_dtd=True):
            if event == "start":
                depth += 1
                continue
            if depth == 2 and local_name(node.tag) == "EBDID":
                return (node.text or "").strip() or None
            depth -= 1
    except (ET.ParseError, ValueError):
        return None
    return None


def verify_signature_file(
    ebdb: bytes,
    ebds: bytes,
    trust: TrustStore,
    *,
    at: datetime,
    expected_ebdid: str | None = None,
) -> TrustEntry:
    """The trusted signer's entry, or a SignatureError saying why the package is refused."""
    parsed = parse_signature_file(ebds)
    for claimed, source in ((expected_ebdid, "the package"), (ebdb_header_id(ebdb), "the EBDB")):
        if claimed is not None and claimed != parsed.related_ebdid:
            raise SignatureInvalid(
                f"signature file is for EBD {parsed.related_ebdid}, but {source} is {claimed}"
            )
    entry = trust.require_valid(parsed.cert_sn, at=at)
    if not verify(entry.public_key, bytes(ebdb), parsed.signature):
        raise SignatureInvalid(
            f"EBDB signature does not verify with certificate {parsed.cert_sn.value} ({entry.name})"
        )
    return entry
