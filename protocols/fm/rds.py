"""FM packets on RDS: an Open Data Application (ODA) in type-A groups, as plain group text.

Each group is four 16-bit blocks: A = PI, B = group type (4 bits) + version (1) + TP (1) +
PTY (5) + 5 free bits, C and D = data. On air every block also carries a 10-bit checkword plus
an offset word; the RDS encoder adds them and the receiver's demodulator strips them, so the text
form here has neither (packet integrity rests on the packet CRC32). One group per line, four
4-digit hex blocks, PI first: ``3456 3510 0000 CD46``, the form RDS Spy and ``redsea -x``
exchange, where ``----`` marks a block the receiver lost.

The application:
- a 3A group announces it: B's free bits = the data group's type code (11A -> 10110), C = the
  mapping version (1), D = the AID (default 0xEBC1: a placeholder, not registered with the RDS
  Forum, so configurable like the data group);
- data groups (default 11A) carry 4 packet bytes each in C and D; B's free bits are
  F (bit 4: first segment), L (bit 3: last segment) and a 3-bit segment counter that starts at 0
  with F and counts modulo 8. The last group is padded with zero bytes.
Receivers are configured with the data group rather than learning it from the 3A: the text form
has no checkwords, and one flipped bit in an announcement would otherwise re-point a receiver at
another group and lose every packet silently. An announcement of this AID in another group is
reported (``bad-field``) and changes nothing.

Packets are sent one after another, never interleaved; a group with F abandons any unfinished
packet. The reassembler refuses a packet with a counter gap, a missing first or last segment,
too few segments for its length field or a non-zero pad, and then the packet CRC decides.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from protocols.fm.errors import BadField, BadLine, FmFormatError, MissingSegment, Truncated
from protocols.fm.packet import MAX_LENGTH, MIN_PACKET, SignedPacket, decode_packet

DEFAULT_AID = 0xEBC1
DEFAULT_GROUP = "11A"
MAPPING_VERSION = 1
#: type-A groups free for ODAs (IEC 62106); 8A is usually TMC and 9A EWS, hence 11A.
ODA_GROUPS = ("5A", "6A", "7A", "8A", "9A", "11A", "12A", "13A")
ANNOUNCE_CODE = 0b00110  # 3A
#: 1187.5 bit/s over 104-bit groups: the most groups a second the whole channel carries.
AIR_GROUPS_PER_SECOND = 1187.5 / 104
LOST_BLOCK = "----"


def group_code(name: str) -> int:
    """``"11A"`` -> 0b10110: the 5-bit type-and-version code of a group type."""
    if name not in ODA_GROUPS:
        raise ValueError(f"ODA data group must be one of {', '.join(ODA_GROUPS)}, got {name!r}")
    return int(name[:-1]) << 1


def group_name(code: int) -> str:
    return f"{code >> 1}{'B' if code & 1 else 'A'}"


@dataclass(frozen=True)
class Group:
    pi: int
    b: int
    c: int
    d: int

    @property
    def code(self) -> int:
        return self.b >> 11

    @property
    def free_bits(self) -> int:
        return self.b & 0x1F

    def line(self) -> str:
        return f"{self.pi:04X} {self.b:04X} {self.c:04X} {self.d:04X}"

    @classmethod
    def parse(cls, line: str) -> Group | None:
        """None for a blank line or a ``#`` comment; BadLine for anything but four hex blocks."""
        text = line.strip()
        if not text or text.startswith("#"):
            return None
        blocks = text.split()
        if len(blocks) != 4:
            raise BadLine(f"a group line has 4 blocks, this one {len(blocks)}: {text[:60]!r}")
        if LOST_BLOCK in blocks:
            raise BadLine(f"the receiver lost a block of this group: {text!r}")
        values = []
        for block in blocks:
            if len(block) != 4 or not all(ch in "0123456789abcdefABCDEF" for ch in block):
                raise BadLine(f"{block[:8]!r} is not a 4-digit hex block: {text[:60]!r}")
            values.append(int(block, 16))
        return cls(*values)


@dataclass(frozen=True)
class RdsProfile:
    """What a station's stream is keyed on: its PI, the ODA's AID and data group, TP and PTY."""

    pi: int
    aid: int = DEFAULT_AID
    group: str = DEFAULT_GROUP
    tp: bool = False
    pty: int = 0

    def __post_init__(self) -> None:
        if not 0 < self.pi <= 0xFFFF:
            raise ValueError(f"PI code must be 0x0001-0xFFFF, got {self.pi!r}")
        if not 0 < self.aid <= 0xFFFF:
            raise ValueError(f"AID must be 0x0001-0xFFFF (0 means no ODA), got {self.aid!r}")
        if not 0 <= self.pty <= 31:
            raise ValueError(f"PTY must be 0-31, got {self.pty!r}")
        group_code(self.group)

    def _b(self, code: int, free: int) -> int:
        return code << 11 | int(self.tp) << 10 | self.pty << 5 | free

    def announcement(self) -> Group:
        return Group(
            self.pi, self._b(ANNOUNCE_CODE, group_code(self.group)), MAPPING_VERSION, self.aid
        )

    def segments(self, packet: bytes) -> list[Group]:
        count = (len(packet) + 3) // 4
        padded = packet.ljust(count * 4, b"\x00")
        groups = []
        for n in range(count):
            free = (n == 0) << 4 | (n == count - 1) << 3 | n % 8
            chunk = padded[4 * n : 4 * n + 4]
            groups.append(
                Group(
                    self.pi,
                    self._b(group_code(self.group), free),
                    int.from_bytes(chunk[:2], "big"),
                    int.from_bytes(chunk[2:], "big"),
                )
            )
        return groups

    def groups(self, packets: Iterable[bytes]) -> list[Group]:
        """One announcement, then each packet's segments in order."""
        out = [self.announcement()]
        for packet in packets:
            out.extend(self.segments(packet))
        return out

    def lines(self, packets: Iterable[bytes]) -> list[str]:
        return [group.line() for group in self.groups(packets)]


Event = bytes | FmFormatError


class Reassembler:
    """Data groups in, whole packet bytes (or the reason a packet was dropped) out.

    ``pi`` None accepts any station, but each packet's segments must share its first's PI.
    """

    def __init__(
        self, *, aid: int = DEFAULT_AID, group: str = DEFAULT_GROUP, pi: int | None = None
    ) -> None:
        self.aid = aid
        self.pi = pi
        self.data_code = group_code(group)
        self.ignored = 0
        self._buffer: bytearray | None = None
        self._packet_pi = 0
        self._next = 0
        # After a drop, the rest of that packet's groups are dropped silently: one broken
        # packet is one refusal, not one per remaining group.
        self._skipping = False

    def feed(self, group: Group) -> list[Event]:
        if group.code == ANNOUNCE_CODE and group.d == self.aid:
            if group.free_bits == self.data_code:
                return []
            return [
                BadField(
                    f"3A announces AID {self.aid:04X} in group "
                    f"{group_name(group.free_bits)}; configured: "
                    f"{group_name(self.data_code)}"
                )
            ]
        if group.code != self.data_code or (self.pi is not None and group.pi != self.pi):
            self.ignored += 1
            return []
        first, last, counter = group.free_bits >> 4, group.free_bits >> 3 & 1, group.free_bits & 7
        out: list[Event] = []
        if first:
            if self._buffer is not None:
                out.append(MissingSegment("a packet was cut short: the next one began"))
            self._buffer, self._packet_pi, self._next = bytearray(), group.pi, 0
            self._skipping = False
        elif self._buffer is None:
            if not self._skipping:
                self._skipping = True
                out.append(MissingSegment("segments arrived without their packet's first one"))
            return out
        if group.pi != self._packet_pi:
            self.ignored += 1
            return out
        if counter != self._next:
            gap = f"segment counter {counter} where {self._next} was due: a segment is missing"
            return [*out, self._drop(MissingSegment(gap))]
        self._buffer += group.c.to_bytes(2, "big") + group.d.to_bytes(2, "big")
        self._next = (counter + 1) % 8
        done = self._check(bool(last))
        return [*out, done] if done is not None else out

    def _check(self, last: bool) -> Event | None:
        buffer = self._buffer
        assert buffer is not None
        total = 2 + (int.from_bytes(buffer[:2], "big") & MAX_LENGTH)
        if total < MIN_PACKET:
            return self._drop(BadField(f"length field says {total} bytes: too short a packet"))
        needed = (total + 3) // 4
        have = len(buffer) // 4
        if not last:
            if have < needed:
                return None
            return self._drop(MissingSegment(f"no last-segment flag after {have} segments"))
        if have < needed:
            self._finish()
            return Truncated(f"last segment after {have} of {needed} segments")
        self._finish()
        if any(buffer[total:]):
            return BadField("non-zero padding after the packet")
        return bytes(buffer[:total])

    def _drop(self, error: FmFormatError) -> FmFormatError:
        self._buffer, self._skipping = None, True
        return error

    def _finish(self) -> None:
        self._buffer, self._skipping = None, False

    def lose(self) -> None:
        """A group was lost before it could be read: whatever was being built is incomplete."""
        if self._buffer is not None:
            self._buffer, self._skipping = None, True

    def finish(self) -> list[Event]:
        """End of stream: an unfinished packet is missing its last segments."""
        if self._buffer is None:
            return []
        self._finish()
        return [MissingSegment("the stream ended inside a packet")]


Decoded = SignedPacket | FmFormatError


class LineDecoder:
    """Group text in, decoded packets (CRC and fields checked, signature not) or errors out."""

    def __init__(
        self, *, aid: int = DEFAULT_AID, group: str = DEFAULT_GROUP, pi: int | None = None
    ) -> None:
        self.reassembler = Reassembler(aid=aid, group=group, pi=pi)
        self.lines = 0

    def feed_line(self, line: str) -> list[Decoded]:
        self.lines += 1
        try:
            group = Group.parse(line)
        except BadLine as exc:
            # The line was one group: its packet is broken, and that is this one refusal.
            self.reassembler.lose()
            return [exc]
        if group is None:
            return []
        return [self._decode(event) for event in self.reassembler.feed(group)]

    def feed_text(self, text: str) -> list[Decoded]:
        out: list[Decoded] = []
        for line in text.splitlines():
            out.extend(self.feed_line(line))
        return out

    def finish(self) -> list[Decoded]:
        return [self._decode(event) for event in self.reassembler.finish()]

    @staticmethod
    def _decode(event: Event) -> Decoded:
        if isinstance(event, FmFormatError):
            return event
        try:
            return decode_packet(event)
        except FmFormatError as exc:
            return exc


def decode_lines(
    lines: Iterable[str],
    *,
    aid: int = DEFAULT_AID,
    group: str = DEFAULT_GROUP,
    pi: int | None = None,
) -> list[Decoded]:
    """Every packet and refusal in a finished stream (tests and offline checks)."""
    decoder = LineDecoder(aid=aid, group=group, pi=pi)
    out: list[Decoded] = []
    for line in lines:
        out.extend(decoder.feed_line(line))
    return [*out, *decoder.finish()]
