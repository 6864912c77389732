"""A hand-written EBM (the shape public GY/T 384 implementations send) against our model."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

from protocols.codes import EBDID, EBMID, ResourceCode
from protocols.ebd import (
    AuxiliaryType,
    EbdType,
    Ebm,
    EbmBrdLog,
    EbmStateResponse,
    MsgType,
    Severity,
    build_ebd,
    parse_ebd,
)
from tests.unit.ebd.samples import sample_ebd

GOLDEN_EBM = """<?xml version="1.0" encoding="UTF-8"?>
<EBD>
  <EBDVersion>1.0</EBDVersion>
  <EBDID>10234000000000001010101012023060100000007</EBDID>
  <EBDType>EBM</EBDType>
  <SRC>
    <EBRID>23400000000000101010101</EBRID>
    <URL>http://127.0.0.1:7000/ebd</URL>
  </SRC>
  <DEST>
    <EBRID>43415230000000101010101</EBRID>
  </DEST>
  <EBDTime>2023-06-01 08:00:00</EBDTime>
  <EBM>
    <EBMVersion>1</EBMVersion>
    <EBMID>23400000000000101010101202306010001</EBMID>
    <RelatedInfo>
      <EBIID>CAP-2023-0601-1</EBIID>
    </RelatedInfo>
    <MsgBasicInfo>
      <MsgType>1</MsgType>
      <SenderName>某省应急管理厅</SenderName>
      <SenderCode>340000000000</SenderCode>
      <SendTime>2023-06-01 08:00:00</SendTime>
      <EventType>11B03</EventType>
      <Severity>3</Severity>
      <StartTime>2023-06-01 08:05:00</StartTime>
      <EndTime>2023-06-01 14:00:00</EndTime>
    </MsgBasicInfo>
    <MsgContent>
      <LanguageCode>zho</LanguageCode>
      <MsgTitle>暴雨黄色预警</MsgTitle>
      <MsgDesc>未来6小时将出现50毫米以上降雨，请注意防范。</MsgDesc>
      <AreaCode>341523000000,341524000000</AreaCode>
      <ProgramNum>12</ProgramNum>
      <Auxiliary>
        <AuxiliaryType>2</AuxiliaryType>
        <AuxiliaryDesc>rain.mp3</AuxiliaryDesc>
        <Size>4</Size>
        <Digest>a9993e364706816aba3e25717850c26c9cd0d89d</Digest>
      </Auxiliary>
    </MsgContent>
    <MsgContent>
      <LanguageCode>eng</LanguageCode>
      <MsgTitle>Rainstorm yellow warning</MsgTitle>
      <MsgDesc>Over 50 mm of rain expected within 6 hours.</MsgDesc>
      <AreaCode>341523000000</AreaCode>
    </MsgContent>
    <Dispatch>
      <LanguageCode>zho</LanguageCode>
      <EBRPS>
        <EBRID>43415230000000101010101</EBRID>
      </EBRPS>
      <EBRAS>
        <EBRID>43415230000000314010201</EBRID>
      </EBRAS>
      <EBRBS>
        <BrdSysType>0314</BrdSysType>
        <BrdSysInfo>0,1,应急频道</BrdSysInfo>
      </EBRBS>
    </Dispatch>
  </EBM>
</EBD>
"""


def _shape(elem: ET.Element) -> tuple[str, str, tuple[object, ...]]:
    text = (elem.text or "").strip() if len(elem) == 0 else ""
    return elem.tag, text, tuple(_shape(child) for child in elem)


def test_golden_ebm_parses_to_the_sample_model() -> None:
    assert parse_ebd(GOLDEN_EBM.encode("utf-8")) == sample_ebd(EbdType.EBM)


def test_built_ebm_matches_the_golden_document_after_parsing_both() -> None:
    built = build_ebd(sample_ebd(EbdType.EBM))
    assert parse_ebd(built) == parse_ebd(GOLDEN_EBM.encode("utf-8"))
    # the same elements, in the same order, with the same text
    assert _shape(ET.fromstring(built)) == _shape(ET.fromstring(GOLDEN_EBM.encode("utf-8")))


def test_golden_ebm_fields() -> None:
    ebd = parse_ebd(GOLDEN_EBM.encode("utf-8"))
    assert ebd.ebdid == EBDID("10234000000000001010101012023060100000007")
    assert ebd.src.ebrid == ResourceCode("23400000000000101010101")
    assert isinstance(ebd.body, Ebm)
    ebm = ebd.body
    assert ebm.ebmid == EBMID("23400000000000101010101202306010001")
    assert ebm.msg_basic_info.msg_type is MsgType.REAL
    assert ebm.msg_basic_info.severity is Severity.YELLOW
    assert ebm.msg_basic_info.start_time == dt.datetime(2023, 6, 1, 8, 5)
    assert [c.language_code for c in ebm.contents] == ["zho", "eng"]
    assert ebm.contents[0].area_codes == ("341523000000", "341524000000")
    assert ebm.contents[0].auxiliaries[0].auxiliary_type is AuxiliaryType.MP3
    assert ebm.dispatches[0].ebras[0].ebrid == ResourceCode("43415230000000314010201")


PEER_STATE_RESPONSE = """<?xml version="1.0" encoding="utf-8" standalone="yes"?>
<EBD xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <EBDVersion>1</EBDVersion>
  <EBDID>10434152300000001010101012023060100000002</EBDID>
  <EBDType>EBMStateResponse</EBDType>
  <SRC>
    <EBRID>43415230000000101010101</EBRID>
    <URL>http://127.0.0.1:7500</URL>
  </SRC>
  <EBDTime>2023-06-01 08:10:00</EBDTime>
  <RelatedEBD>
    <EBDID>10234000000000001010101012023060100000007</EBDID>
  </RelatedEBD>
  <EBMStateResponse>
    <RptTime>2023-06-01 08:10:00</RptTime>
    <EBM>
      <EBMID>23400000000000101010101202306010001</EBMID>
    </EBM>
    <BrdStateCode>3</BrdStateCode>
    <BrdStateDesc>播发成功</BrdStateDesc>
    <ResBrdInfo>
      <ResBrdItem>
        <EBRPS>
          <EBRID>43415230000000101010101</EBRID>
        </EBRPS>
      </ResBrdItem>
    </ResBrdInfo>
  </EBMStateResponse>
</EBD>
"""


def test_a_peer_style_state_response_is_read() -> None:
    ebd = parse_ebd(PEER_STATE_RESPONSE.encode("utf-8"))
    assert ebd.ebd_version == "1"
    assert ebd.related_ebd == EBDID("10234000000000001010101012023060100000007")
    body = ebd.body
    assert isinstance(body, EbmStateResponse)
    assert body.brd_state_code == 3
    assert body.res_brd_items[0].ebrps is not None
    assert body.coverage is None


def test_namespaced_elements_short_area_codes_and_aliases_are_tolerated() -> None:
    xml = """<EBD xmlns="http://www.w3.org/2001/XMLSchema">
      <EBDType>EBMBrdLog</EBDType><EBDVersion>1</EBDVersion>
      <EBDID>10234000000000001010101012023060100000009</EBDID>
      <EBDTime>2023-06-01 09:00:00</EBDTime>
      <SRC><EBRID>23400000000000101010101</EBRID><URL/></SRC>
      <EBMBrdLog>
        <EBMBrdItem>
          <EBM><EBMID>23400000000000101010101202306010001</EBMID></EBM>
          <UnitInfo><Unit><UnitId>7</UnitId></Unit></UnitInfo>
          <BrdStateCode>3</BrdStateCode>
          <Coverage><CoverageRate>1</CoverageRate><AreaCode>3415,341523</AreaCode></Coverage>
        </EBMBrdItem>
      </EBMBrdLog>
    </EBD>"""
    ebd = parse_ebd(xml.encode())
    assert ebd.src.url == ""
    body = ebd.body
    assert isinstance(body, EbmBrdLog)
    item = body.items[0]
    assert item.units[0].unit_id == "7"
    assert item.coverage is not None
    assert item.coverage.area_codes == ("341500000000", "341523000000")
    assert b"<UnitID>7</UnitID>" in build_ebd(ebd)
