"""DTMB (GB 20600) transmitters: EB sections in the terrestrial TS (docs/ts-signalling.md).

Delivery configuration: ``frequency_hz`` (or ``frequency_mhz``), and the DTMB mode as
``bandwidth_mhz`` (8), ``frame_header`` (PN945), ``carrier`` (multi), ``constellation``
(16QAM), ``code_rate`` (0.6), ``interleaving`` (720).
"""

from __future__ import annotations

from typing import Any

from adapters.ts_common import TsAdapter, frequency_hz
from protocols.ts import Descriptor, DtmbDelivery


class DtmbAdapter(TsAdapter):
    bearer = "dtmb"
    resource_type = "0303"

    @classmethod
    def delivery(cls, config: dict[str, Any]) -> Descriptor:
        return DtmbDelivery(
            frequency_hz=frequency_hz(config),
            bandwidth_mhz=int(config.get("bandwidth_mhz", 8)),
            frame_header=str(config.get("frame_header", "PN945")),
            carrier=str(config.get("carrier", "multi")),
            constellation=str(config.get("constellation", "16QAM")),
            code_rate=str(config.get("code_rate", "0.6")),
            interleaving=int(config.get("interleaving", 720)),
        )

    @classmethod
    def example_delivery(cls) -> dict[str, Any]:
        return {"frequency_hz": 474_000_000}
