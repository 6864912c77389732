"""Table 0xFE, emergency broadcast content: the EBM's texts in one or more languages, the
issuing agency's name, and auxiliary data. Section body (layout unconfirmed):

    EBM_id                        144   0xF pad + 35 BCD digits, links the content to the EBIT
    language_count                  8
    per language:
      ISO_639_language_code        24   3 lowercase ASCII letters: zho, uig, bod, mon, ...
      code_character_set            8   0x01 GB2312, 0x02 GB18030, 0x03 UTF-8
      title_length 8, title
      body_length 16, body
      agency_name_length 8, agency_name
    auxiliary_count                 8
    per item:
      auxiliary_data_type           8   EBD AuxiliaryType (2 MP3, 61 stream, ...) or 0xF0-0xF1
      auxiliary_data_length        16
      auxiliary_data

0xF0 carries the platform's alert id (UTF-8) for terminals to echo in acks; 0xF1 the alert id
of the cancel that ended this EBM. Content too long for one section continues in further
sections of the same table, each repeating EBM_id; a text too long for one section continues
in blocks of the same language with an empty title, which ``merge_content`` joins again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from protocols.ts.errors import BadField, BadText
from protocols.ts.fields import (
    EBM_ID_BYTES,
    EBM_ID_DIGITS,
    Reader,
    decode_ascii,
    decode_digits,
    encode_ascii,
    encode_digits,
)
from protocols.ts.section import MAX_BODY_BYTES, Section, SignFn, build_table, split_items

TABLE_ID = 0xFE
CHARSETS = {"GB2312": 0x01, "GB18030": 0x02, "UTF-8": 0x03}
_CODECS = {"GB2312": "gb2312", "GB18030": "gb18030", "UTF-8": "utf-8"}
AUX_MP3 = 2
AUX_STREAM = 61
AUX_ALERT_ID = 0xF0
AUX_CANCELLED_BY = 0xF1
_ROOM = MAX_BODY_BYTES - EBM_ID_BYTES - 2
_LANG = 1
_AUX = 2


@dataclass(frozen=True)
class LanguageText:
    language: str
    title: str
    body: str
    agency: str = ""
    charset: str = "GB18030"

    def to_bytes(self) -> bytes:
        if len(self.language) != 3 or not self.language.isascii() or not self.language.islower():
            raise BadField(f"ISO 639 code must be 3 lowercase letters, got {self.language!r}")
        if self.charset not in CHARSETS:
            raise BadField(f"charset must be one of {sorted(CHARSETS)}, got {self.charset!r}")
        title, body, agency = (
            _encode(text, self.charset, what)
            for text, what in ((self.title, "title"), (self.body, "body"), (self.agency, "agency"))
        )
        for what, data, top in (
            ("title", title, 0xFF),
            ("body", body, 0xFFFF),
            ("agency name", agency, 0xFF),
        ):
            if len(data) > top:
                raise BadField(f"{self.language} {what} is {len(data)} bytes; at most {top}")
        return (
            encode_ascii(self.language, 3, "ISO_639_language_code")
            + bytes([CHARSETS[self.charset], len(title)])
            + title
            + len(body).to_bytes(2, "big")
            + body
            + bytes([len(agency)])
            + agency
        )

    @classmethod
    def read(cls, r: Reader) -> LanguageText:
        language = decode_ascii(r.take(3, "ISO_639_language_code"), "ISO_639_language_code")
        number = r.uint(1, "code_character_set")
        charset = next((name for name, code in CHARSETS.items() if code == number), None)
        if charset is None:
            raise BadField(f"{language}: character set 0x{number:02X} is not defined")
        title = _decode(r.take(r.uint(1, "title_length"), "title"), charset, "title")
        body = _decode(r.take(r.uint(2, "body_length"), "body"), charset, "body")
        agency = _decode(r.take(r.uint(1, "agency_name_length"), "agency_name"), charset, "agency")
        return cls(language, title, body, agency, charset)


@dataclass(frozen=True)
class Auxiliary:
    kind: int
    data: bytes

    def to_bytes(self) -> bytes:
        if not 0 <= self.kind <= 0xFF or len(self.data) > 0xFFFF:
            raise BadField(f"auxiliary type {self.kind} / {len(self.data)} bytes out of range")
        return bytes([self.kind]) + len(self.data).to_bytes(2, "big") + bytes(self.data)

    @classmethod
    def read(cls, r: Reader) -> Auxiliary:
        kind = r.uint(1, "auxiliary_data_type")
        return cls(kind, r.take(r.uint(2, "auxiliary_data_length"), "auxiliary_data"))


@dataclass(frozen=True)
class Content:
    ebm_id: str
    texts: tuple[LanguageText, ...] = ()
    auxiliary: tuple[Auxiliary, ...] = ()

    def aux_text(self, kind: int) -> str | None:
        """The first auxiliary item of ``kind`` as UTF-8 text (alert ids are stored that way)."""
        for item in self.auxiliary:
            if item.kind == kind:
                return item.data.decode("utf-8", errors="replace")
        return None


def _encode(text: str, charset: str, what: str) -> bytes:
    try:
        return text.encode(_CODECS[charset])
    except UnicodeEncodeError as exc:
        raise BadText(f"{what} cannot be written in {charset}: {exc.reason}") from exc


def _decode(data: bytes, charset: str, what: str) -> str:
    try:
        return bytes(data).decode(_CODECS[charset])
    except UnicodeDecodeError as exc:
        raise BadText(f"{what} is not valid {charset}: {exc.reason}") from exc


def _split_text(text: LanguageText) -> list[LanguageText]:
    """``text`` as blocks that each fit a section: the first keeps title and agency, the rest
    carry the body onwards. Cut between characters, never inside a multi-byte one."""
    if len(text.to_bytes()) <= _ROOM - 1:
        return [text]
    parts: list[LanguageText] = []
    current = replace(text, body="")
    rest = text.body
    while rest:  # every pass moves at least one character into a part
        low, high = 1, len(rest)
        while low < high:  # the longest prefix that still fits
            mid = (low + high + 1) // 2
            if len(replace(current, body=rest[:mid]).to_bytes()) <= _ROOM - 1:
                low = mid
            else:
                high = mid - 1
        part = replace(current, body=rest[:low])
        if len(part.to_bytes()) > _ROOM - 1:
            raise BadField(f"{text.language} title and agency alone do not fit one section")
        parts.append(part)
        rest = rest[low:]
        current = replace(text, title="", agency="", body="")
    return parts


def encode_content(
    content: Content, *, version: int, sign: SignFn, extension: int = 0
) -> list[bytes]:
    tagged = [(_LANG, p.to_bytes()) for t in content.texts for p in _split_text(t)]
    tagged += [(_AUX, a.to_bytes()) for a in content.auxiliary]
    # The tag byte keeps languages apart from auxiliary items while packing; it is not sent
    # (packing with it counted is one byte per item conservative).
    groups = split_items([bytes([k]) + data for k, data in tagged], _ROOM, "content item")
    head = encode_digits(content.ebm_id, EBM_ID_DIGITS, "EBM_id")
    bodies = []
    for group in groups:
        langs = [g[1:] for g in group if g[0] == _LANG]
        auxes = [g[1:] for g in group if g[0] == _AUX]
        if len(langs) > 255 or len(auxes) > 255:
            raise BadField("at most 255 languages and 255 auxiliary items per section")
        bodies.append(
            head + bytes([len(langs)]) + b"".join(langs) + bytes([len(auxes)]) + b"".join(auxes)
        )
    return build_table(TABLE_ID, extension, version, bodies, sign)


def decode_content(section: Section) -> Content:
    if section.header.table_id != TABLE_ID:
        raise BadField(f"table 0x{section.header.table_id:02X} is not EB content")
    r = Reader(section.body, "content")
    ebm_id = decode_digits(r.take(EBM_ID_BYTES, "EBM_id"), EBM_ID_DIGITS, "EBM_id")
    texts = tuple(LanguageText.read(r) for _ in range(r.uint(1, "language_count")))
    auxiliary = tuple(Auxiliary.read(r) for _ in range(r.uint(1, "auxiliary_count")))
    r.expect_end()
    return Content(ebm_id, texts, auxiliary)


def merge_content(parts: list[Content]) -> Content:
    """The sections of one content table as one Content (same EBM_id throughout); a block
    with an empty title continuing the previous block's language is joined onto it."""
    if not parts:
        raise BadField("no content sections to merge")
    ids = {p.ebm_id for p in parts}
    if len(ids) != 1:
        raise BadField(f"content sections name different EBMs: {sorted(ids)}")
    texts: list[LanguageText] = []
    for text in (t for p in parts for t in p.texts):
        last = texts[-1] if texts else None
        if last and not text.title and not text.agency and last.language == text.language:
            texts[-1] = replace(last, body=last.body + text.body)
        else:
            texts.append(text)
    return Content(parts[0].ebm_id, tuple(texts), tuple(a for p in parts for a in p.auxiliary))
