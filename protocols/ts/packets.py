"""Sections into 188-byte TS packets on one PID, and back.

Packetiser: sections are laid end to end; a packet in which a section starts has
payload_unit_start_indicator set and a pointer_field giving the offset of that start; what is
left of the last packet is 0xFF stuffing. The continuity counter runs on across calls, so one
Packetiser per PID per output. A new section never starts where only its pointer byte would
fit: that packet ends in stuffing instead and the section starts in the next one.

Depacketiser: reassembles sections across packets, checks each section's CRC, and reports a
continuity-counter jump (cc-gap) by dropping the partial section: after lost packets the
bytes cannot be trusted to belong together. A repeated counter (an allowed duplicate packet)
is ignored. Errors come back in the result list, never raised, so one bad packet does not
stop the stream.
"""

from __future__ import annotations

from protocols.ts.crc import crc32_mpeg2
from protocols.ts.errors import BadCrc, BadField, BadPacket, CcGap, Truncated, TsError
from protocols.ts.section import MAX_SECTION_BYTES, section_total

PACKET_BYTES = 188
PAYLOAD_BYTES = 184
SYNC = 0x47
STUFFING = 0xFF
MAX_PID = 0x1FFF
DEFAULT_PID = 0x21  # county; 0x22 town/village (one deployment's choice)


def _check_pid(pid: int) -> int:
    if isinstance(pid, bool) or not isinstance(pid, int) or not 0 <= pid < MAX_PID:
        raise BadField(f"PID must be 0..0x1FFE, got {pid!r}")
    return pid


class Packetiser:
    def __init__(self, pid: int = DEFAULT_PID, *, continuity: int = 0) -> None:
        self.pid = _check_pid(pid)
        self.continuity = continuity & 0x0F

    def _packet(self, start: bool, payload: bytes) -> bytes:
        header = bytes(
            [
                SYNC,
                (0x40 if start else 0) | (self.pid >> 8),
                self.pid & 0xFF,
                0x10 | self.continuity,  # no scrambling, payload only
            ]
        )
        self.continuity = (self.continuity + 1) & 0x0F
        return header + payload + bytes([STUFFING]) * (PAYLOAD_BYTES - len(payload))

    def packetise(self, sections: list[bytes]) -> list[bytes]:
        stream = b"".join(sections)
        starts: list[int] = []
        offset = 0
        for section in sections:
            starts.append(offset)
            offset += len(section)
        packets: list[bytes] = []
        pos, index = 0, 0
        while pos < len(stream):  # every pass consumes at least one byte
            while index < len(starts) and starts[index] < pos:
                index += 1
            upcoming = starts[index] if index < len(starts) else None
            if upcoming is not None and upcoming - pos < PAYLOAD_BYTES - 1:
                chunk = stream[pos : pos + PAYLOAD_BYTES - 1]
                packets.append(self._packet(True, bytes([upcoming - pos]) + chunk))
            else:
                end = (
                    pos + PAYLOAD_BYTES if upcoming is None else min(pos + PAYLOAD_BYTES, upcoming)
                )
                chunk = stream[pos:end]
                packets.append(self._packet(False, chunk))
            pos += len(chunk)
        return packets


Reassembled = bytes | TsError


class Depacketiser:
    def __init__(self, pid: int = DEFAULT_PID) -> None:
        self.pid = _check_pid(pid)
        self._buffer = bytearray()
        self._assembling = False
        self._last_cc: int | None = None

    def feed(self, packet: bytes) -> list[Reassembled]:
        """Complete sections (CRC-checked) and errors, in stream order."""
        if len(packet) != PACKET_BYTES:
            return [BadPacket(f"TS packet of {len(packet)} bytes; expected {PACKET_BYTES}")]
        if packet[0] != SYNC:
            return [BadPacket(f"sync byte 0x{packet[0]:02X}; expected 0x47")]
        pid = ((packet[1] & 0x1F) << 8) | packet[2]
        if pid != self.pid:
            return []
        if packet[1] & 0x80:
            self._reset()
            return [BadPacket("transport_error_indicator set")]
        control, cc = (packet[3] >> 4) & 0x03, packet[3] & 0x0F
        payload_at = 4
        discontinuity = False
        if control & 0x02:
            length = packet[4]
            if length > PAYLOAD_BYTES - 1:
                self._reset()
                return [BadPacket(f"adaptation field of {length} bytes")]
            discontinuity = length > 0 and bool(packet[5] & 0x80)
            payload_at = 5 + length
        if not control & 0x01:
            return []  # no payload: the counter does not advance
        out: list[Reassembled] = []
        if self._last_cc is not None and not discontinuity:
            if cc == self._last_cc:
                return []  # duplicate packet
            if cc != (self._last_cc + 1) & 0x0F:
                if self._assembling:
                    out.append(
                        CcGap(
                            f"continuity counter jumped {self._last_cc} -> {cc}; "
                            f"partial section of {len(self._buffer)} bytes dropped"
                        )
                    )
                else:
                    out.append(CcGap(f"continuity counter jumped {self._last_cc} -> {cc}"))
                self._reset()
        self._last_cc = cc
        payload = packet[payload_at:]
        if packet[1] & 0x40:
            if not payload:
                return [*out, BadPacket("payload_unit_start without a pointer field")]
            pointer = payload[0]
            if pointer >= len(payload) - 1:
                self._reset()
                return [*out, BadPacket(f"pointer_field {pointer} points past the packet")]
            if self._assembling:
                self._buffer += payload[1 : 1 + pointer]
                out += self._drain(final=True)
            self._reset()
            if payload[1 + pointer] == STUFFING:
                return [*out, BadField("pointer_field points at stuffing, not a section")]
            self._assembling = True
            self._buffer += payload[1 + pointer :]
        elif self._assembling:
            self._buffer += payload
        out += self._drain(final=False)
        return out

    def _reset(self) -> None:
        self._buffer.clear()
        self._assembling = False

    def _drain(self, *, final: bool) -> list[Reassembled]:
        """Cut complete sections off the front of the buffer; ``final``: nothing more of the
        current section can arrive (a new one starts), so a remainder is a truncated section."""
        out: list[Reassembled] = []
        while self._assembling and self._buffer:  # each pass consumes bytes or stops
            if self._buffer[0] == STUFFING:
                self._reset()  # the rest of this packet is stuffing
                break
            if len(self._buffer) < 3:
                break
            total = section_total(bytes(self._buffer[:3]))
            if total > MAX_SECTION_BYTES or total < 8:
                out.append(BadField(f"section_length gives {total} bytes; dropped"))
                self._reset()
                break
            if len(self._buffer) < total:
                break
            section = bytes(self._buffer[:total])
            del self._buffer[:total]
            found = int.from_bytes(section[-4:], "big")
            expected = crc32_mpeg2(section[:-4])
            if found != expected:
                out.append(
                    BadCrc(
                        f"table 0x{section[0]:02X}: CRC32 0x{found:08X}, computed 0x{expected:08X}"
                    )
                )
            else:
                out.append(section)
        if final and self._assembling and self._buffer:
            out.append(
                Truncated(
                    f"section cut short: {len(self._buffer)} bytes before the next section started"
                )
            )
            self._reset()
        return out


def split_packets(data: bytes) -> tuple[list[bytes], int]:
    """Whole 188-byte packets of ``data`` and how many bytes were left over."""
    whole = len(data) - len(data) % PACKET_BYTES
    return [data[i : i + PACKET_BYTES] for i in range(0, whole, PACKET_BYTES)], len(data) - whole
