"""Every EBDType survives build -> parse unchanged, and building is deterministic."""

from __future__ import annotations

import pytest

from protocols.ebd import BODY_TYPES, EbdType, build_ebd, parse_ebd
from tests.unit.ebd.samples import sample_bodies, sample_ebd


def test_every_ebd_type_has_a_body_class_and_a_sample() -> None:
    assert set(BODY_TYPES) == set(EbdType)
    assert set(sample_bodies()) == set(EbdType)
    assert len(EbdType) == 16


@pytest.mark.parametrize("ebd_type", list(EbdType), ids=lambda t: t.value)
def test_round_trip(ebd_type: EbdType) -> None:
    ebd = sample_ebd(ebd_type)
    data = build_ebd(ebd)
    parsed = parse_ebd(data)
    assert parsed == ebd
    assert parsed.ebd_type is ebd_type
    assert build_ebd(parsed) == data


@pytest.mark.parametrize("ebd_type", list(EbdType), ids=lambda t: t.value)
def test_build_is_deterministic_utf8_with_declaration(ebd_type: EbdType) -> None:
    first = build_ebd(sample_ebd(ebd_type))
    assert first == build_ebd(sample_ebd(ebd_type))
    assert first.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<EBD>')
    first.decode("utf-8")
    assert f"<EBDType>{ebd_type.value}</EBDType>".encode() in first
