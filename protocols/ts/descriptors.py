"""Delivery descriptors of the EBIT details channel: where a terminal tunes for the programme.

Cable (tag 0x44) and satellite (tag 0x43) use the DVB layouts of EN 300 468 (BCD frequency and
symbol rate), which Chinese cable and DTH SI follow. DTMB (tag 0x5A) has no public EB layout:
ours is below and unconfirmed (docs/ts-signalling.md). Unknown tags survive as RawDescriptor.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from protocols.ts.errors import BadField
from protocols.ts.fields import Reader, bcd_number, from_bcd_number

TAG_SATELLITE = 0x43
TAG_CABLE = 0x44
TAG_DTMB = 0x5A

CABLE_MODULATIONS = {"16QAM": 1, "32QAM": 2, "64QAM": 3, "128QAM": 4, "256QAM": 5}
FEC_OUTER = {"none": 1, "RS(204/188)": 2}
FEC_INNER = {
    "1/2": 1,
    "2/3": 2,
    "3/4": 3,
    "5/6": 4,
    "7/8": 5,
    "8/9": 6,
    "3/5": 7,
    "4/5": 8,
    "9/10": 9,
    "none": 15,
}
POLARIZATIONS = {"H": 0, "V": 1, "L": 2, "R": 3}
ROLL_OFFS = {"0.35": 0, "0.25": 1, "0.20": 2}
SAT_SYSTEMS = {"DVB-S": 0, "DVB-S2": 1}
SAT_MODULATIONS = {"auto": 0, "QPSK": 1, "8PSK": 2, "16QAM": 3}
DTMB_BANDWIDTHS = {8: 0, 7: 1, 6: 2}
DTMB_FRAME_HEADERS = {"PN420": 1, "PN595": 2, "PN945": 3}
DTMB_CARRIERS = {"single": 1, "multi": 2}
DTMB_CONSTELLATIONS = {"4QAM-NR": 1, "4QAM": 2, "16QAM": 3, "32QAM": 4, "64QAM": 5}
DTMB_CODE_RATES = {"0.4": 1, "0.6": 2, "0.8": 3}
DTMB_INTERLEAVINGS = {240: 1, 720: 2}

K = TypeVar("K", str, int)


def _code(table: dict[K, int], value: K, what: str) -> int:
    try:
        return table[value]
    except (KeyError, TypeError):
        raise BadField(f"{what} must be one of {sorted(map(str, table))}, got {value!r}") from None


def _name(table: dict[K, int], code: int, what: str) -> K:
    for name, number in table.items():
        if number == code:
            return name
    raise BadField(f"{what} code {code} is not defined")


def _multiple(value: int, unit: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0 or value % unit:
        raise BadField(f"{what} must be a non-negative multiple of {unit}, got {value!r}")
    return value // unit


@dataclass(frozen=True)
class CableDelivery:
    frequency_hz: int  # carried in 100 Hz steps, 8 BCD digits
    modulation: str = "64QAM"
    symbol_rate: int = 6_875_000  # symbols per second, 100-symbol steps, 7 BCD digits
    fec_outer: str = "RS(204/188)"
    fec_inner: str = "none"

    def to_bytes(self) -> bytes:
        frequency = bcd_number(_multiple(self.frequency_hz, 100, "frequency_hz"), 8, "frequency")
        rate = bcd_number(_multiple(self.symbol_rate, 100, "symbol_rate"), 7, "symbol_rate")
        body = frequency.to_bytes(4, "big")
        body += (0xFFF0 | _code(FEC_OUTER, self.fec_outer, "fec_outer")).to_bytes(2, "big")
        body += bytes([_code(CABLE_MODULATIONS, self.modulation, "modulation")])
        body += ((rate << 4) | _code(FEC_INNER, self.fec_inner, "fec_inner")).to_bytes(4, "big")
        return bytes([TAG_CABLE, len(body)]) + body

    @classmethod
    def parse(cls, data: bytes) -> CableDelivery:
        r = Reader(data, "cable delivery descriptor")
        frequency = from_bcd_number(r.uint(4, "frequency"), 8, "cable frequency")
        fec_outer = r.uint(2, "FEC_outer") & 0x0F
        modulation = r.uint(1, "modulation")
        tail = r.uint(4, "symbol_rate")
        r.expect_end()
        return cls(
            frequency_hz=frequency * 100,
            modulation=_name(CABLE_MODULATIONS, modulation, "modulation"),
            symbol_rate=from_bcd_number(tail >> 4, 7, "symbol_rate") * 100,
            fec_outer=_name(FEC_OUTER, fec_outer, "fec_outer"),
            fec_inner=_name(FEC_INNER, tail & 0x0F, "fec_inner"),
        )


@dataclass(frozen=True)
class SatelliteDelivery:
    frequency_hz: int  # 10 kHz steps, 8 BCD digits
    orbital_position: int  # tenths of a degree, 4 BCD digits: 1340 is 134.0
    east: bool = True
    polarization: str = "H"
    symbol_rate: int = 27_500_000
    system: str = "DVB-S2"
    modulation: str = "8PSK"
    roll_off: str = "0.35"
    fec_inner: str = "3/4"

    def to_bytes(self) -> bytes:
        frequency = bcd_number(_multiple(self.frequency_hz, 10_000, "frequency_hz"), 8, "frequency")
        orbit = bcd_number(self.orbital_position, 4, "orbital_position")
        rate = bcd_number(_multiple(self.symbol_rate, 100, "symbol_rate"), 7, "symbol_rate")
        s2 = _code(SAT_SYSTEMS, self.system, "system")
        flags = (
            (int(bool(self.east)) << 7)
            | (_code(POLARIZATIONS, self.polarization, "polarization") << 5)
            | ((_code(ROLL_OFFS, self.roll_off, "roll_off") if s2 else 0) << 3)
            | (s2 << 2)
            | _code(SAT_MODULATIONS, self.modulation, "modulation")
        )
        body = frequency.to_bytes(4, "big") + orbit.to_bytes(2, "big") + bytes([flags])
        body += ((rate << 4) | _code(FEC_INNER, self.fec_inner, "fec_inner")).to_bytes(4, "big")
        return bytes([TAG_SATELLITE, len(body)]) + body

    @classmethod
    def parse(cls, data: bytes) -> SatelliteDelivery:
        r = Reader(data, "satellite delivery descriptor")
        frequency = from_bcd_number(r.uint(4, "frequency"), 8, "satellite frequency")
        orbit = from_bcd_number(r.uint(2, "orbital_position"), 4, "orbital_position")
        flags = r.uint(1, "flags")
        tail = r.uint(4, "symbol_rate")
        r.expect_end()
        s2 = (flags >> 2) & 1
        return cls(
            frequency_hz=frequency * 10_000,
            orbital_position=orbit,
            east=bool(flags >> 7),
            polarization=_name(POLARIZATIONS, (flags >> 5) & 3, "polarization"),
            symbol_rate=from_bcd_number(tail >> 4, 7, "symbol_rate") * 100,
            system=_name(SAT_SYSTEMS, s2, "system"),
            modulation=_name(SAT_MODULATIONS, flags & 3, "modulation"),
            roll_off=_name(ROLL_OFFS, (flags >> 3) & 3, "roll_off") if s2 else "0.35",
            fec_inner=_name(FEC_INNER, tail & 0x0F, "fec_inner"),
        )


@dataclass(frozen=True)
class DtmbDelivery:
    """GB 20600 parameters. Layout (unconfirmed): centre frequency 32 bits in 10 Hz units,
    then three bytes of nibble pairs: bandwidth|frame header, carrier|constellation,
    code rate|interleaving."""

    frequency_hz: int
    bandwidth_mhz: int = 8
    frame_header: str = "PN945"
    carrier: str = "multi"
    constellation: str = "16QAM"
    code_rate: str = "0.6"
    interleaving: int = 720

    def to_bytes(self) -> bytes:
        frequency = _multiple(self.frequency_hz, 10, "frequency_hz")
        if frequency > 0xFFFFFFFF:
            raise BadField(f"DTMB frequency {self.frequency_hz} Hz does not fit 32 bits")
        body = frequency.to_bytes(4, "big") + bytes(
            [
                (_code(DTMB_BANDWIDTHS, self.bandwidth_mhz, "bandwidth_mhz") << 4)
                | _code(DTMB_FRAME_HEADERS, self.frame_header, "frame_header"),
                (_code(DTMB_CARRIERS, self.carrier, "carrier") << 4)
                | _code(DTMB_CONSTELLATIONS, self.constellation, "constellation"),
                (_code(DTMB_CODE_RATES, self.code_rate, "code_rate") << 4)
                | _code(DTMB_INTERLEAVINGS, self.interleaving, "interleaving"),
            ]
        )
        return bytes([TAG_DTMB, len(body)]) + body

    @classmethod
    def parse(cls, data: bytes) -> DtmbDelivery:
        r = Reader(data, "DTMB delivery descriptor")
        frequency = r.uint(4, "centre_frequency")
        a, b, c = r.take(3, "modes")
        r.expect_end()
        return cls(
            frequency_hz=frequency * 10,
            bandwidth_mhz=_name(DTMB_BANDWIDTHS, a >> 4, "bandwidth"),
            frame_header=_name(DTMB_FRAME_HEADERS, a & 0x0F, "frame_header"),
            carrier=_name(DTMB_CARRIERS, b >> 4, "carrier"),
            constellation=_name(DTMB_CONSTELLATIONS, b & 0x0F, "constellation"),
            code_rate=_name(DTMB_CODE_RATES, c >> 4, "code_rate"),
            interleaving=_name(DTMB_INTERLEAVINGS, c & 0x0F, "interleaving"),
        )


@dataclass(frozen=True)
class RawDescriptor:
    tag: int
    data: bytes

    def to_bytes(self) -> bytes:
        if not 0 <= self.tag <= 0xFF or len(self.data) > 0xFF:
            raise BadField(f"descriptor tag {self.tag} or its {len(self.data)} bytes do not fit")
        return bytes([self.tag, len(self.data)]) + bytes(self.data)


Descriptor = CableDelivery | SatelliteDelivery | DtmbDelivery | RawDescriptor
_PARSERS: dict[int, Callable[[bytes], Descriptor]] = {
    TAG_CABLE: CableDelivery.parse,
    TAG_SATELLITE: SatelliteDelivery.parse,
    TAG_DTMB: DtmbDelivery.parse,
}


def decode_descriptors(data: bytes, what: str) -> tuple[Descriptor, ...]:
    r = Reader(data, what)
    found: list[Descriptor] = []
    while r.remaining:
        tag = r.uint(1, "descriptor_tag")
        body = r.take(r.uint(1, "descriptor_length"), f"descriptor 0x{tag:02X}")
        parse = _PARSERS.get(tag)
        found.append(parse(body) if parse else RawDescriptor(tag, body))
    return tuple(found)
