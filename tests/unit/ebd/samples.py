"""One realistic document per EBDType, shared by the EBD tests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from protocols.codes import EBDID, EBMID, ResourceCode
from protocols.ebd import (
    AdapterInfo,
    Auxiliary,
    AuxiliaryType,
    Body,
    BrdStateCode,
    BroadcastRecord,
    BroadcastSystemInfo,
    BroadcastSystemRef,
    ConnectionCheck,
    Coverage,
    DataScope,
    Dest,
    Dispatch,
    Ebd,
    EbdResponse,
    EbdType,
    Ebm,
    EbmBrdItem,
    EbmBrdLog,
    EbmStateRequest,
    EbmStateResponse,
    EbmSummary,
    EbrasInfo,
    EbrasState,
    EbrbsInfo,
    EbrbsState,
    EbrdtInfo,
    EbrdtState,
    EbrpsInfo,
    EbrpsState,
    EbrstInfo,
    MsgBasicInfo,
    MsgContent,
    MsgType,
    OmdRequest,
    Params,
    PlatformInfo,
    RadioParams,
    RecordOperation,
    RelatedInfo,
    ResBrdItem,
    ResourceRef,
    ResourceState,
    ResourceStateCode,
    ResultCode,
    Severity,
    Src,
    StationInfo,
    Switch,
    TerminalInfo,
    TVParams,
    Unit,
)

PROVINCE = ResourceCode("23400000000000101010101")  # a provincial platform
COUNTY = ResourceCode("43415230000000101010101")  # a county platform
ADAPTER = ResourceCode("43415230000000314010201")  # a county loudspeaker adapter
TERMINAL = ResourceCode("63415230000000314010400")  # a village loudspeaker terminal
STATION = ResourceCode("43415230000000201010501")
FM_SYSTEM = ResourceCode("43415230000000301010301")
EBMID_1 = EBMID("23400000000000101010101202306010001")
T0 = dt.datetime(2023, 6, 1, 8, 0, 0)


def ebdid(counter: int, source: ResourceCode = PROVINCE) -> EBDID:
    return EBDID.build(source, T0.date(), counter)


def sample_ebm() -> Ebm:
    return Ebm(
        ebm_version="1",
        ebmid=EBMID_1,
        related_info=RelatedInfo(ebiid="CAP-2023-0601-1"),
        msg_basic_info=MsgBasicInfo(
            msg_type=MsgType.REAL,
            sender_name="某省应急管理厅",
            sender_code="340000000000",
            send_time=T0,
            event_type="11B03",
            severity=Severity.YELLOW,
            start_time=T0 + dt.timedelta(minutes=5),
            end_time=T0 + dt.timedelta(hours=6),
        ),
        contents=(
            MsgContent(
                language_code="zho",
                msg_title="暴雨黄色预警",
                msg_desc="未来6小时将出现50毫米以上降雨，请注意防范。",
                area_codes=("341523000000", "341524000000"),
                program_num=12,
                auxiliaries=(
                    Auxiliary(
                        auxiliary_type=AuxiliaryType.MP3,
                        auxiliary_desc="rain.mp3",
                        size=4,
                        digest="a9993e364706816aba3e25717850c26c9cd0d89d",
                    ),
                ),
            ),
            MsgContent(
                language_code="eng",
                msg_title="Rainstorm yellow warning",
                msg_desc="Over 50 mm of rain expected within 6 hours.",
                area_codes=("341523000000",),
            ),
        ),
        dispatches=(
            Dispatch(
                language_code="zho",
                ebrps=(ResourceRef(ebrid=COUNTY),),
                ebras=(ResourceRef(ebrid=ADAPTER),),
                ebrbs=(BroadcastSystemRef(brd_sys_type="0314", brd_sys_info="0,1,应急频道"),),
            ),
        ),
    )


def _coverage() -> Coverage:
    return Coverage(
        coverage_rate=Decimal("0.95"),
        area_codes=("341523000000",),
        res_brd_stat=(1, 4, 4, 118),
    )


def _res_brd_items() -> tuple[ResBrdItem, ...]:
    return (
        ResBrdItem(
            ebrps=ResourceRef(ebrid=COUNTY),
            ebras=ResourceRef(ebrid=ADAPTER),
            ebrbs=(
                BroadcastRecord(
                    rpt_time=T0 + dt.timedelta(minutes=7),
                    ebrid=FM_SYSTEM,
                    brd_sys_type="0301",
                    brd_sys_info="0,3,88MHz",
                    start_time=T0 + dt.timedelta(minutes=5),
                    end_time=T0 + dt.timedelta(minutes=6),
                    file_url="http://127.0.0.1/rec/1.mp3",
                    brd_state_code=BrdStateCode.SUCCEEDED,
                    brd_state_desc="播发成功",
                ),
            ),
        ),
    )


def _state(ebrid: ResourceCode) -> tuple[ResourceState, ...]:
    return (
        ResourceState(
            rpt_time=T0,
            ebrid=ebrid,
            state_code=ResourceStateCode.NORMAL,
            state_desc="开机/运行正常",
        ),
    )


def sample_bodies() -> dict[EbdType, Body]:
    sync = RecordOperation.SYNC
    params = Params(
        rpt_start_time=T0, rpt_end_time=T0 + dt.timedelta(days=1), rpt_type=DataScope.FULL
    )
    return {
        EbdType.EBM: sample_ebm(),
        EbdType.EBM_STATE_REQUEST: EbmStateRequest(ebmid=EBMID_1),
        EbdType.EBM_STATE_RESPONSE: EbmStateResponse(
            rpt_time=T0,
            ebmid=EBMID_1,
            brd_state_code=BrdStateCode.BROADCASTING,
            brd_state_desc="播发中",
            coverage=_coverage(),
            res_brd_items=_res_brd_items(),
        ),
        EbdType.EBM_BRD_LOG: EbmBrdLog(
            params=Params(rpt_start_time=T0, rpt_end_time=T0 + dt.timedelta(days=1)),
            items=(
                EbmBrdItem(
                    ebm=EbmSummary(
                        ebm_version="1",
                        ebmid=EBMID_1,
                        msg_basic_info=sample_ebm().msg_basic_info,
                        contents=sample_ebm().contents[:1],
                    ),
                    units=(
                        Unit(
                            ebrps=ResourceRef(ebrid=PROVINCE),
                            unit_id="007",
                            unit_name="应急办",
                            person_id="008",
                            person_name="值班员",
                        ),
                    ),
                    brd_state_code=BrdStateCode.SUCCEEDED,
                    brd_state_desc="播发成功",
                    coverage=_coverage(),
                    res_brd_items=_res_brd_items(),
                ),
            ),
        ),
        EbdType.OMD_REQUEST: OmdRequest(omd_type=EbdType.EBRDT_STATE, params=params),
        EbdType.EBD_RESPONSE: EbdResponse(
            result_code=ResultCode.OK, result_desc="接收解析及数据校验成功"
        ),
        EbdType.EBRPS_INFO: EbrpsInfo(
            params=params,
            records=(
                PlatformInfo(
                    rpt_time=T0,
                    rpt_type=sync,
                    ebrid=COUNTY,
                    ebr_name="某县应急广播平台",
                    address="某县广电中心",
                    contact="值班室",
                    phone_number="0564-0000000",
                    longitude=Decimal("116.2500"),
                    latitude=Decimal("31.6800"),
                    url="http://127.0.0.1:7000/ebd",
                    related_ebrps=ResourceRef(ebrid=PROVINCE),
                ),
            ),
        ),
        EbdType.EBRST_INFO: EbrstInfo(
            records=(
                StationInfo(
                    rpt_time=T0,
                    rpt_type=sync,
                    ebrid=STATION,
                    ebr_name="某县发射台",
                    address="某山顶",
                    longitude=Decimal("116.3"),
                    latitude=Decimal("31.7"),
                ),
            ),
        ),
        EbdType.EBRAS_INFO: EbrasInfo(
            records=(
                AdapterInfo(
                    rpt_time=T0,
                    rpt_type=sync,
                    related_ebrps=ResourceRef(ebrid=COUNTY),
                    related_ebrst=ResourceRef(ebrid=STATION),
                    ebrid=ADAPTER,
                    ebr_name="大喇叭适配器",
                    longitude=Decimal("116.25"),
                    latitude=Decimal("31.68"),
                    url="http://127.0.0.1:7100/",
                ),
            ),
        ),
        EbdType.EBRBS_INFO: EbrbsInfo(
            records=(
                BroadcastSystemInfo(
                    rpt_time=T0,
                    rpt_type=sync,
                    related_ebras=ResourceRef(ebrid=ADAPTER),
                    ebrid=FM_SYSTEM,
                    ebr_name="调频广播",
                    longitude=Decimal("116.25"),
                    latitude=Decimal("31.68"),
                    square=Decimal("1200.5"),
                    area_codes=("341523000000",),
                    population=Decimal("350000"),
                    language_code="zho",
                    equip_room="一号机房",
                    radio_params=RadioParams(channel_name="交通台", freq=88000, power=1000),
                    tv_params=TVParams(channel_name="综合", program_num="12"),
                    schedule=(Switch(weekday=1, start_time="06:00:00", end_time="23:00:00"),),
                ),
            ),
        ),
        EbdType.EBRDT_INFO: EbrdtInfo(
            records=(
                TerminalInfo(
                    rpt_time=T0,
                    rpt_type=RecordOperation.DELETE,
                    related_ebrps=ResourceRef(ebrid=COUNTY),
                    ebrid=TERMINAL,
                    ebr_name="村口大喇叭",
                    longitude=Decimal("116.2"),
                    latitude=Decimal("31.6"),
                ),
            ),
        ),
        EbdType.EBRPS_STATE: EbrpsState(records=_state(COUNTY)),
        EbdType.EBRAS_STATE: EbrasState(records=_state(ADAPTER)),
        EbdType.EBRBS_STATE: EbrbsState(records=_state(FM_SYSTEM)),
        EbdType.EBRDT_STATE: EbrdtState(
            records=(
                *_state(TERMINAL),
                ResourceState(
                    rpt_time=T0,
                    ebrid=ResourceCode("63415230000000314010401"),
                    state_code=ResourceStateCode.FAULT,
                    state_desc="故障",
                ),
            )
        ),
        EbdType.CONNECTION_CHECK: ConnectionCheck(rpt_time=T0),
    }


def sample_ebd(ebd_type: EbdType = EbdType.EBM) -> Ebd:
    body = sample_bodies()[ebd_type]
    return Ebd(
        ebdid=ebdid(7),
        src=Src(ebrid=PROVINCE, url="http://127.0.0.1:7000/ebd"),
        dest=Dest(ebrid=COUNTY),
        ebd_time=T0,
        related_ebd=ebdid(3) if ebd_type is EbdType.EBD_RESPONSE else None,
        body=body,
    )
