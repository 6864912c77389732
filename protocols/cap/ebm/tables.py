"""Code tables, options and result types of the CAP <-> EBM mapping.

Every table here is a default a deployment can replace through ``MappingOptions``;
docs/cap-ebm-mapping.md explains each choice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from protocols.cap.model import Alert, Category, Certainty, Circle, Polygon, Status, Urgency
from protocols.cap.model import Severity as CapSeverity
from protocols.ebd import AuxiliaryType, Ebm
from protocols.ebd import MsgType as EbmMsgType
from protocols.ebd import Severity as EbmSeverity

CHINA_STANDARD_TIME = dt.timezone(dt.timedelta(hours=8), "CST")
EVENT_CODE_NAME = "EBEventType"  # CAP eventCode valueName carrying the 5-character EventType
GEOCODE_NAME = "GB2260"  # CAP geocode valueName carrying an administrative region code
UNKNOWN_EVENT_TYPE = "00000"

SEVERITY_TO_EBM = MappingProxyType(
    {
        CapSeverity.EXTREME: EbmSeverity.RED,
        CapSeverity.SEVERE: EbmSeverity.ORANGE,
        CapSeverity.MODERATE: EbmSeverity.YELLOW,
        CapSeverity.MINOR: EbmSeverity.BLUE,
        CapSeverity.UNKNOWN: EbmSeverity.UNKNOWN,
    }
)
SEVERITY_FROM_EBM = MappingProxyType({ebm: cap for cap, ebm in SEVERITY_TO_EBM.items()})

# Only the codes standards.md confirms; anything else is configured per deployment.
DEFAULT_EVENT_TABLE = MappingProxyType(
    {
        "typhoon": "11B01",
        "台风": "11B01",
        "rainstorm": "11B03",
        "暴雨": "11B03",
        "gale": "11B06",
        "大风": "11B06",
        "high temperature": "11B09",
        "高温": "11B09",
        "forest fire": "11B25",
        "森林火险": "11B25",
    }
)
# EventType -> (CAP category, English event, Chinese event), for the EBM -> CAP direction.
DEFAULT_EVENT_NAMES = MappingProxyType(
    {
        "11B01": (Category.MET, "Typhoon", "台风"),
        "11B03": (Category.MET, "Rainstorm", "暴雨"),
        "11B06": (Category.MET, "Gale", "大风"),
        "11B09": (Category.MET, "High temperature", "高温"),
        "11B25": (Category.FIRE, "Forest fire", "森林火险"),
    }
)

LANGUAGE_TO_EBM = MappingProxyType(
    {
        "zh": "zho",
        "en": "eng",
        "bo": "bod",
        "ug": "uig",
        "mn": "mon",
        "ii": "iii",
        "za": "zha",
        "ko": "kor",
        "ru": "rus",
        "ja": "jpn",
        "vi": "vie",
        "es": "spa",
        "fr": "fra",
        "ar": "ara",
    }
)
LANGUAGE_FROM_EBM = MappingProxyType({three: two for two, three in LANGUAGE_TO_EBM.items()})

AUXILIARY_FROM_MIME = MappingProxyType(
    {
        "audio/mpeg": AuxiliaryType.MP3,
        "audio/mp3": AuxiliaryType.MP3,
        "image/png": AuxiliaryType.PNG,
        "image/jpeg": AuxiliaryType.JPEG,
        "image/gif": AuxiliaryType.GIF,
        "application/vnd.apple.mpegurl": AuxiliaryType.AV_STREAM,
        "application/x-mpegurl": AuxiliaryType.AV_STREAM,
        "video/mp2t": AuxiliaryType.AV_STREAM,
    }
)
# DRA has no registered media type: the x- names are our choice (unconfirmed).
MIME_FROM_AUXILIARY = MappingProxyType(
    {
        AuxiliaryType.MPEG_AUDIO: "audio/mpeg",
        AuxiliaryType.MP3: "audio/mpeg",
        AuxiliaryType.DRA: "audio/x-dra",
        AuxiliaryType.DRA_PLUS: "audio/x-dra-plus",
        AuxiliaryType.PNG: "image/png",
        AuxiliaryType.JPEG: "image/jpeg",
        AuxiliaryType.GIF: "image/gif",
        AuxiliaryType.AV_STREAM: "video/mp2t",
    }
)


@dataclass(frozen=True)
class MappingOptions:
    """Deployment choices; the defaults are the ones docs/cap-ebm-mapping.md explains."""

    zone: dt.tzinfo = CHINA_STANDARD_TIME
    exercise_msg_type: EbmMsgType = EbmMsgType.PLATFORM_DRILL
    test_msg_type: EbmMsgType = EbmMsgType.TERMINAL_DRILL
    event_table: Mapping[str, str] = field(default_factory=lambda: DEFAULT_EVENT_TABLE)
    category_table: Mapping[str, str] = field(default_factory=dict)  # "Met" -> EventType
    fallback_event_type: str | None = UNKNOWN_EVENT_TYPE  # None: refuse an unmapped event
    # CAP's own default is en-US, but Chinese senders routinely omit <language>.
    missing_language: str = "zho"
    default_duration: dt.timedelta | None = dt.timedelta(hours=1)  # None: refuse no <expires>
    allow_non_public: bool = False
    ebm_version: str = "1"
    # EBM -> CAP
    drill_status: Mapping[EbmMsgType, Status] = field(
        default_factory=lambda: {
            EbmMsgType.PLATFORM_DRILL: Status.EXERCISE,
            EbmMsgType.FRONTEND_DRILL: Status.EXERCISE,
            EbmMsgType.TERMINAL_DRILL: Status.TEST,
        }
    )
    event_names: Mapping[str, tuple[Category, str, str]] = field(
        default_factory=lambda: DEFAULT_EVENT_NAMES
    )
    urgency: Urgency = Urgency.UNKNOWN
    certainty: Certainty = Certainty.UNKNOWN


@dataclass(frozen=True)
class CapToEbmResult:
    ebm: Ebm
    polygons: tuple[Polygon, ...]  # for the platform to resolve to region codes
    circles: tuple[Circle, ...]
    lost: list[str]


@dataclass(frozen=True)
class EbmToCapResult:
    alert: Alert
    lost: list[str]


def geometry(alert: Alert) -> tuple[tuple[Polygon, ...], tuple[Circle, ...]]:
    areas = [area for info in alert.infos for area in info.areas]
    return (
        tuple(p for area in areas for p in area.polygons),
        tuple(c for area in areas for c in area.circles),
    )


def wall_clock(value: object, zone: dt.tzinfo) -> dt.datetime:
    """A CAP time as the naive wall-clock time in ``zone`` that the EBM carries."""
    assert isinstance(value, dt.datetime)  # validate() has run, so times are datetimes
    return value.astimezone(zone).replace(tzinfo=None)


def ebm_language(language: str | None, options: MappingOptions) -> str:
    if not language:
        return options.missing_language
    base = language.split("-", 1)[0].lower()
    return LANGUAGE_TO_EBM.get(base, base)
