"""Hypothesis strategies for every TS table."""

from __future__ import annotations

import datetime as dt

from hypothesis import strategies as st

from protocols.ts import (
    Addressed,
    Auxiliary,
    CableDelivery,
    CertificateItem,
    Certificates,
    Clock,
    Content,
    DefaultVolume,
    DetailsChannel,
    DtmbDelivery,
    Ebit,
    EbmEntry,
    ElementaryStream,
    LanguageText,
    LockFrequency,
    Management,
    RawCommand,
    RawDescriptor,
    ReturnPath,
    ReturnPeriod,
    SatelliteDelivery,
    SetResourceCode,
    StatusQuery,
)
from protocols.ts import descriptors as d

digits = lambda n: st.text("0123456789", min_size=n, max_size=n)  # noqa: E731
times = st.datetimes(
    min_value=dt.datetime(1970, 1, 1),
    max_value=dt.datetime(2038, 4, 22, 23, 59, 59),
    timezones=st.just(dt.UTC),
).map(lambda t: t.replace(microsecond=0))
maybe_time = st.none() | times
u16 = st.integers(0, 0xFFFF)
pid = st.integers(0, 0x1FFF)

deliveries = st.one_of(
    st.builds(
        CableDelivery,
        st.integers(0, 99_999_999).map(lambda f: f * 100),
        st.sampled_from(sorted(d.CABLE_MODULATIONS)),
        st.integers(0, 9_999_999).map(lambda r: r * 100),
        st.sampled_from(sorted(d.FEC_OUTER)),
        st.sampled_from(sorted(d.FEC_INNER)),
    ),
    st.builds(
        SatelliteDelivery,
        st.integers(0, 99_999_999).map(lambda f: f * 10_000),
        st.integers(0, 9999),
        st.booleans(),
        st.sampled_from(sorted(d.POLARIZATIONS)),
        st.integers(0, 9_999_999).map(lambda r: r * 100),
        st.just("DVB-S2"),
        st.sampled_from(sorted(d.SAT_MODULATIONS)),
        st.sampled_from(sorted(d.ROLL_OFFS)),
        st.sampled_from(sorted(d.FEC_INNER)),
    ),
    st.builds(
        DtmbDelivery,
        st.integers(0, 0xFFFFFFFF).map(lambda f: f * 10),
        st.sampled_from(sorted(d.DTMB_BANDWIDTHS)),
        st.sampled_from(sorted(d.DTMB_FRAME_HEADERS)),
        st.sampled_from(sorted(d.DTMB_CARRIERS)),
        st.sampled_from(sorted(d.DTMB_CONSTELLATIONS)),
        st.sampled_from(sorted(d.DTMB_CODE_RATES)),
        st.sampled_from(sorted(d.DTMB_INTERLEAVINGS)),
    ),
    st.builds(RawDescriptor, st.integers(0x80, 0xFE), st.binary(max_size=40)),
)
details = st.builds(
    DetailsChannel,
    u16,
    u16,
    pid,
    st.lists(deliveries, max_size=2).map(tuple),
    st.lists(st.builds(ElementaryStream, st.integers(0, 255), pid), max_size=4).map(tuple),
)
entries = st.builds(
    EbmEntry,
    ebm_id=digits(35),
    ebm_type=st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=5, max_size=5),
    ebm_class=st.integers(0, 15),
    ebm_level=st.integers(0, 15),
    resource_codes=st.lists(digits(23), max_size=8, unique=True).map(tuple),
    start=maybe_time,
    end=maybe_time,
    details=details,
    original_network_id=u16,
)
ebits = st.lists(entries, max_size=5, unique_by=lambda e: e.ebm_id).map(lambda e: Ebit(tuple(e)))

# GB18030 encodes every scalar value except surrogates; keep texts short so they fit.
texts = st.text(st.characters(exclude_categories=["Cs"]), max_size=60)
languages = st.builds(
    LanguageText,
    language=st.text("abcdefghijklmnopqrstuvwxyz", min_size=3, max_size=3),
    title=texts.filter(lambda t: len(t.encode("gb18030")) <= 255).filter(bool),
    body=texts,
    agency=texts.filter(lambda t: len(t.encode("gb18030")) <= 255),
    charset=st.sampled_from(["GB18030", "UTF-8"]),
)
contents = st.builds(
    Content,
    ebm_id=digits(35),
    texts=st.lists(languages, max_size=4, unique_by=lambda t: t.language).map(tuple),
    auxiliary=st.lists(
        st.builds(Auxiliary, st.integers(0, 255), st.binary(max_size=64)), max_size=3
    ).map(tuple),
)
certificates = st.lists(
    st.builds(
        CertificateItem, digits(12), st.binary(min_size=64, max_size=64), maybe_time, st.booleans()
    ),
    max_size=5,
).map(lambda items: Certificates(tuple(items)))
commands = st.one_of(
    st.builds(Clock, times),
    st.builds(SetResourceCode, st.binary(min_size=1, max_size=16), digits(23)),
    st.builds(LockFrequency, deliveries.filter(lambda x: not isinstance(x, RawDescriptor))),
    st.builds(
        ReturnPath,
        st.sampled_from(["sms", "ipv4", "domain"]),
        st.text("abcdefghij0123456789.-", min_size=1, max_size=40),
        u16,
    ),
    st.builds(ReturnPeriod, st.integers(0, 0xFFFFFFFF)),
    st.builds(DefaultVolume, st.integers(0, 100)),
    st.builds(StatusQuery, st.integers(0, 255)),
    st.builds(RawCommand, st.integers(0x80, 0xFF), st.binary(max_size=20)),
)
managements = st.lists(
    st.builds(Addressed, commands, st.lists(digits(23), max_size=3).map(tuple)), max_size=6
).map(lambda c: Management(tuple(c)))
