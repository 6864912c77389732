"""Direct-to-home satellite uplinks: EB sections in the satellite TS (docs/ts-signalling.md).

Delivery configuration: ``frequency_hz`` (or ``frequency_mhz``; the downlink frequency),
``orbital_position`` in degrees (134.0), ``east`` (true), ``polarization`` (H, V, L or R),
``symbol_rate`` (27500000), ``system`` (DVB-S2), ``modulation`` (8PSK), ``roll_off`` (0.35),
``fec_inner`` (3/4).
"""

from __future__ import annotations

from typing import Any

from adapters.ts_common import TsAdapter, frequency_hz
from protocols.ts import Descriptor, SatelliteDelivery


class DthAdapter(TsAdapter):
    bearer = "dth"
    resource_type = "0308"

    @classmethod
    def delivery(cls, config: dict[str, Any]) -> Descriptor:
        return SatelliteDelivery(
            frequency_hz=frequency_hz(config),
            orbital_position=round(float(config.get("orbital_position", 134.0)) * 10),
            east=bool(config.get("east", True)),
            polarization=str(config.get("polarization", "H")),
            symbol_rate=int(config.get("symbol_rate", 27_500_000)),
            system=str(config.get("system", "DVB-S2")),
            modulation=str(config.get("modulation", "8PSK")),
            roll_off=str(config.get("roll_off", "0.35")),
            fec_inner=str(config.get("fec_inner", "3/4")),
        )

    @classmethod
    def example_delivery(cls) -> dict[str, Any]:
        return {"frequency_hz": 12_020_000_000, "orbital_position": 134.0, "polarization": "H"}
