"""The broker link answers a read's worth of QoS 1 uplinks with one write of PUBACKs, in
order, instead of one send() per uplink (a third of its time in a 10k fan-out's ack burst).
A scripted broker on loopback sends every PUBLISH in one write and reads the replies."""

from __future__ import annotations

import asyncio
import struct

from terminals.link import TerminalLink

EBRID = "63415231000010314010401"
COUNT = 200


def _packet(first: int, body: bytes) -> bytes:
    length, size = bytearray(), len(body)
    while True:
        byte, size = size % 128, size // 128
        length.append(byte | (0x80 if size else 0))
        if not size:
            return bytes([first]) + bytes(length) + body


async def _read_packet(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    first = (await reader.readexactly(1))[0]
    size, shift = 0, 0
    while True:
        byte = (await reader.readexactly(1))[0]
        size |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return first, await reader.readexactly(size)


class ScriptedBroker:
    def __init__(self) -> None:
        self.pubacks: list[int] = []
        self.done = asyncio.Event()

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        subscribed = 0
        while not self.done.is_set():
            kind, body = await _read_packet(reader)
            if kind >> 4 == 1:  # CONNECT
                writer.write(b"\x20\x02\x00\x00")
            elif kind >> 4 == 8:  # SUBSCRIBE: grant QoS 1, then the burst after the last one
                writer.write(_packet(0x90, body[:2] + b"\x01"))
                subscribed += 1
                if subscribed == 3:
                    writer.write(b"".join(self._publish(mid) for mid in range(1, COUNT + 1)))
            elif kind >> 4 == 4:  # PUBACK
                self.pubacks.append(struct.unpack("!H", body[:2])[0])
                if len(self.pubacks) == COUNT:
                    self.done.set()
            await writer.drain()
        writer.close()

    @staticmethod
    def _publish(mid: int) -> bytes:
        topic = f"ebc/v1/terminal/{EBRID}/ack".encode()
        body = struct.pack("!H", len(topic)) + topic + struct.pack("!H", mid) + b"ack-%d" % mid
        return _packet(0x32, body)


async def test_a_burst_of_uplinks_is_acknowledged_in_order_with_few_writes() -> None:
    broker = ScriptedBroker()
    server = await asyncio.start_server(broker.serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    received: list[bytes] = []
    writes = 0

    def on_uplink(kind: str, ebrid: str, payload: bytes, retained: bool) -> None:
        nonlocal writes
        if not received:  # the burst has begun: count the link's writes from here on
            transport = link._client._connection._protocol._transport  # type: ignore[union-attr]
            write = transport.write

            def counted(data: bytes) -> None:
                nonlocal writes
                writes += 1
                write(data)

            transport.write = counted
        received.append(payload)

    link = TerminalLink(f"mqtt://127.0.0.1:{port}", client_id="platform", on_uplink=on_uplink)
    try:
        await link.start(wait=5)
        await asyncio.wait_for(broker.done.wait(), 10)
    finally:
        broker.done.set()
        await link.stop()
        server.close()
    assert received == [b"ack-%d" % mid for mid in range(1, COUNT + 1)]
    assert broker.pubacks == list(range(1, COUNT + 1))
    # one write per socket read: a few at most for 200 packets sent in one write
    assert 1 <= writes <= 10, writes
