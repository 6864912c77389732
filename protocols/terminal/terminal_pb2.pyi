from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Severity(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SEVERITY_UNKNOWN: _ClassVar[Severity]
    SEVERITY_RED: _ClassVar[Severity]
    SEVERITY_ORANGE: _ClassVar[Severity]
    SEVERITY_YELLOW: _ClassVar[Severity]
    SEVERITY_BLUE: _ClassVar[Severity]

class AckState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACK_STATE_UNSPECIFIED: _ClassVar[AckState]
    ACK_RECEIVED: _ClassVar[AckState]
    ACK_VERIFIED: _ClassVar[AckState]
    ACK_PLAYING: _ClassVar[AckState]
    ACK_PLAYED: _ClassVar[AckState]
    ACK_REJECTED: _ClassVar[AckState]
    ACK_FAILED: _ClassVar[AckState]
    ACK_STOPPED: _ClassVar[AckState]

class WorkState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    WORK_STATE_UNSPECIFIED: _ClassVar[WorkState]
    WORK_IDLE: _ClassVar[WorkState]
    WORK_WORKING: _ClassVar[WorkState]
    WORK_FAULT: _ClassVar[WorkState]
SEVERITY_UNKNOWN: Severity
SEVERITY_RED: Severity
SEVERITY_ORANGE: Severity
SEVERITY_YELLOW: Severity
SEVERITY_BLUE: Severity
ACK_STATE_UNSPECIFIED: AckState
ACK_RECEIVED: AckState
ACK_VERIFIED: AckState
ACK_PLAYING: AckState
ACK_PLAYED: AckState
ACK_REJECTED: AckState
ACK_FAILED: AckState
ACK_STOPPED: AckState
WORK_STATE_UNSPECIFIED: WorkState
WORK_IDLE: WorkState
WORK_WORKING: WorkState
WORK_FAULT: WorkState

class Text(_message.Message):
    __slots__ = ("language", "title", "body")
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    language: str
    title: str
    body: str
    def __init__(self, language: _Optional[str] = ..., title: _Optional[str] = ..., body: _Optional[str] = ...) -> None: ...

class BroadcastStart(_message.Message):
    __slots__ = ("ebmid", "alert_id", "event_type", "severity", "msg_type", "drill", "start_unix", "end_unix", "texts", "audio_url", "tts", "volume", "regions")
    EBMID_FIELD_NUMBER: _ClassVar[int]
    ALERT_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    MSG_TYPE_FIELD_NUMBER: _ClassVar[int]
    DRILL_FIELD_NUMBER: _ClassVar[int]
    START_UNIX_FIELD_NUMBER: _ClassVar[int]
    END_UNIX_FIELD_NUMBER: _ClassVar[int]
    TEXTS_FIELD_NUMBER: _ClassVar[int]
    AUDIO_URL_FIELD_NUMBER: _ClassVar[int]
    TTS_FIELD_NUMBER: _ClassVar[int]
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    REGIONS_FIELD_NUMBER: _ClassVar[int]
    ebmid: str
    alert_id: str
    event_type: str
    severity: Severity
    msg_type: int
    drill: bool
    start_unix: int
    end_unix: int
    texts: _containers.RepeatedCompositeFieldContainer[Text]
    audio_url: str
    tts: bool
    volume: int
    regions: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ebmid: _Optional[str] = ..., alert_id: _Optional[str] = ..., event_type: _Optional[str] = ..., severity: _Optional[_Union[Severity, str]] = ..., msg_type: _Optional[int] = ..., drill: _Optional[bool] = ..., start_unix: _Optional[int] = ..., end_unix: _Optional[int] = ..., texts: _Optional[_Iterable[_Union[Text, _Mapping]]] = ..., audio_url: _Optional[str] = ..., tts: _Optional[bool] = ..., volume: _Optional[int] = ..., regions: _Optional[_Iterable[str]] = ...) -> None: ...

class BroadcastStop(_message.Message):
    __slots__ = ("ebmid", "alert_id", "reason", "regions")
    EBMID_FIELD_NUMBER: _ClassVar[int]
    ALERT_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    REGIONS_FIELD_NUMBER: _ClassVar[int]
    ebmid: str
    alert_id: str
    reason: str
    regions: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ebmid: _Optional[str] = ..., alert_id: _Optional[str] = ..., reason: _Optional[str] = ..., regions: _Optional[_Iterable[str]] = ...) -> None: ...

class Configure(_message.Message):
    __slots__ = ("volume", "heartbeat_seconds")
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    volume: int
    heartbeat_seconds: int
    def __init__(self, volume: _Optional[int] = ..., heartbeat_seconds: _Optional[int] = ...) -> None: ...

class StatusQuery(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CertificateUpdate(_message.Message):
    __slots__ = ("cert_sn", "public_key", "not_after_unix", "revoke")
    CERT_SN_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    NOT_AFTER_UNIX_FIELD_NUMBER: _ClassVar[int]
    REVOKE_FIELD_NUMBER: _ClassVar[int]
    cert_sn: str
    public_key: bytes
    not_after_unix: int
    revoke: bool
    def __init__(self, cert_sn: _Optional[str] = ..., public_key: _Optional[bytes] = ..., not_after_unix: _Optional[int] = ..., revoke: _Optional[bool] = ...) -> None: ...

class Command(_message.Message):
    __slots__ = ("command_id", "issuer_ebrid", "issued_unix", "terminals", "start", "stop", "configure", "query", "certificate")
    COMMAND_ID_FIELD_NUMBER: _ClassVar[int]
    ISSUER_EBRID_FIELD_NUMBER: _ClassVar[int]
    ISSUED_UNIX_FIELD_NUMBER: _ClassVar[int]
    TERMINALS_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    STOP_FIELD_NUMBER: _ClassVar[int]
    CONFIGURE_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    CERTIFICATE_FIELD_NUMBER: _ClassVar[int]
    command_id: str
    issuer_ebrid: str
    issued_unix: int
    terminals: _containers.RepeatedScalarFieldContainer[str]
    start: BroadcastStart
    stop: BroadcastStop
    configure: Configure
    query: StatusQuery
    certificate: CertificateUpdate
    def __init__(self, command_id: _Optional[str] = ..., issuer_ebrid: _Optional[str] = ..., issued_unix: _Optional[int] = ..., terminals: _Optional[_Iterable[str]] = ..., start: _Optional[_Union[BroadcastStart, _Mapping]] = ..., stop: _Optional[_Union[BroadcastStop, _Mapping]] = ..., configure: _Optional[_Union[Configure, _Mapping]] = ..., query: _Optional[_Union[StatusQuery, _Mapping]] = ..., certificate: _Optional[_Union[CertificateUpdate, _Mapping]] = ...) -> None: ...

class SignedCommand(_message.Message):
    __slots__ = ("command", "signature_block")
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_BLOCK_FIELD_NUMBER: _ClassVar[int]
    command: bytes
    signature_block: bytes
    def __init__(self, command: _Optional[bytes] = ..., signature_block: _Optional[bytes] = ...) -> None: ...

class Ack(_message.Message):
    __slots__ = ("terminal_ebrid", "command_id", "ebmid", "alert_id", "state", "reason", "at_unix")
    TERMINAL_EBRID_FIELD_NUMBER: _ClassVar[int]
    COMMAND_ID_FIELD_NUMBER: _ClassVar[int]
    EBMID_FIELD_NUMBER: _ClassVar[int]
    ALERT_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    AT_UNIX_FIELD_NUMBER: _ClassVar[int]
    terminal_ebrid: str
    command_id: str
    ebmid: str
    alert_id: str
    state: AckState
    reason: str
    at_unix: int
    def __init__(self, terminal_ebrid: _Optional[str] = ..., command_id: _Optional[str] = ..., ebmid: _Optional[str] = ..., alert_id: _Optional[str] = ..., state: _Optional[_Union[AckState, str]] = ..., reason: _Optional[str] = ..., at_unix: _Optional[int] = ...) -> None: ...

class Heartbeat(_message.Message):
    __slots__ = ("terminal_ebrid", "state", "volume", "firmware", "signal_dbm", "at_unix", "playing_ebmid", "fault")
    TERMINAL_EBRID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    FIRMWARE_FIELD_NUMBER: _ClassVar[int]
    SIGNAL_DBM_FIELD_NUMBER: _ClassVar[int]
    AT_UNIX_FIELD_NUMBER: _ClassVar[int]
    PLAYING_EBMID_FIELD_NUMBER: _ClassVar[int]
    FAULT_FIELD_NUMBER: _ClassVar[int]
    terminal_ebrid: str
    state: WorkState
    volume: int
    firmware: str
    signal_dbm: int
    at_unix: int
    playing_ebmid: str
    fault: str
    def __init__(self, terminal_ebrid: _Optional[str] = ..., state: _Optional[_Union[WorkState, str]] = ..., volume: _Optional[int] = ..., firmware: _Optional[str] = ..., signal_dbm: _Optional[int] = ..., at_unix: _Optional[int] = ..., playing_ebmid: _Optional[str] = ..., fault: _Optional[str] = ...) -> None: ...

class Status(_message.Message):
    __slots__ = ("terminal_ebrid", "online", "firmware", "region", "at_unix")
    TERMINAL_EBRID_FIELD_NUMBER: _ClassVar[int]
    ONLINE_FIELD_NUMBER: _ClassVar[int]
    FIRMWARE_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    AT_UNIX_FIELD_NUMBER: _ClassVar[int]
    terminal_ebrid: str
    online: bool
    firmware: str
    region: str
    at_unix: int
    def __init__(self, terminal_ebrid: _Optional[str] = ..., online: _Optional[bool] = ..., firmware: _Optional[str] = ..., region: _Optional[str] = ..., at_unix: _Optional[int] = ...) -> None: ...
