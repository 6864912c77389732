"""Cable digital TV head-ends: EB sections in the cable TS (docs/ts-signalling.md).

Delivery configuration: ``frequency_hz`` (or ``frequency_mhz``), ``modulation`` (64QAM),
``symbol_rate`` (6875000 symbols/s), ``fec_outer`` (RS(204/188)), ``fec_inner`` (none).
"""

from __future__ import annotations

from typing import Any

from adapters.ts_common import TsAdapter, frequency_hz
from protocols.ts import CableDelivery, Descriptor


class CableAdapter(TsAdapter):
    bearer = "cable"
    resource_type = "0302"

    @classmethod
    def delivery(cls, config: dict[str, Any]) -> Descriptor:
        return CableDelivery(
            frequency_hz=frequency_hz(config),
            modulation=str(config.get("modulation", "64QAM")),
            symbol_rate=int(config.get("symbol_rate", 6_875_000)),
            fec_outer=str(config.get("fec_outer", "RS(204/188)")),
            fec_inner=str(config.get("fec_inner", "none")),
        )

    @classmethod
    def example_delivery(cls) -> dict[str, Any]:
        return {"frequency_hz": 259_000_000, "modulation": "64QAM"}
