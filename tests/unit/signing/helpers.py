"""Values and helpers the signing tests share."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from protocols.codes import CertSN
from signing.sm2 import SM2PrivateKey
from signing.trust import Rights, TrustEntry

CERT_SN = CertSN("123456789012")
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
EBDID = "10" + "23400000000000101010101" + "20250601" + "00000001"


def make_entry(key: SM2PrivateKey, cert_sn: CertSN = CERT_SN, **changes: Any) -> TrustEntry:
    fields: dict[str, Any] = {
        "cert_sn": cert_sn,
        "public_key": key.public_key(),
        "name": "Test province platform",
        "holder_ebrid": "23400000000000101010101",
        "not_before": datetime(2025, 1, 1, tzinfo=UTC),
        "not_after": datetime(2026, 1, 1, tzinfo=UTC),
        "revoked": False,
        "rights": Rights(("340000000000",), ("*",), (1, 2, 3)),
    }
    fields.update(changes)
    return TrustEntry(**fields)


def run(args: Sequence[str | Path], *, check: bool = True) -> subprocess.CompletedProcess[bytes]:
    done = subprocess.run([str(a) for a in args], capture_output=True, timeout=60, check=False)
    if check and done.returncode != 0:
        raise AssertionError(f"{args} failed: {done.stderr.decode(errors='replace')}")
    return done
