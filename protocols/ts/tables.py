"""One entry point for receivers: a section's bytes to its header, signature and table."""

from __future__ import annotations

from collections.abc import Callable

from protocols.ts import certificate, content, ebit, management
from protocols.ts.certificate import Certificates
from protocols.ts.content import Content
from protocols.ts.ebit import Ebit
from protocols.ts.errors import UnknownTable
from protocols.ts.management import Management
from protocols.ts.section import Section, VerifyFn, parse_section

Table = Ebit | Content | Certificates | Management

_DECODERS: dict[int, Callable[[Section], Table]] = {
    ebit.TABLE_ID: ebit.decode_ebit,
    content.TABLE_ID: content.decode_content,
    certificate.TABLE_ID: certificate.decode_certificates,
    management.TABLE_ID: management.decode_management,
}
TABLE_NAMES = {
    ebit.TABLE_ID: "EBIT",
    content.TABLE_ID: "content",
    certificate.TABLE_ID: "certificate",
    management.TABLE_ID: "management",
}


def decode_table(section: Section) -> Table:
    decoder = _DECODERS.get(section.header.table_id)
    if decoder is None:
        raise UnknownTable(f"table_id 0x{section.header.table_id:02X} is not an EB table")
    return decoder(section)


def decode_section(data: bytes, *, verify: VerifyFn | None = None) -> tuple[Section, Table]:
    """CRC, structure, then the body; the signature too when ``verify`` is given."""
    section = parse_section(data)
    if section.header.table_id not in _DECODERS:
        raise UnknownTable(f"table_id 0x{section.header.table_id:02X} is not an EB table")
    table = decode_table(section)
    if verify is not None:
        parse_section(data, verify=verify)
    return section, table
