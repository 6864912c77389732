"""CAP 1.2 <-> EBM (GY/T 385) mapping; docs/cap-ebm-mapping.md has the field table.

    result = cap_to_ebm(alert, ebrid=platform, sequence=n)     # CapToEbmResult
    result.ebm, result.polygons, result.circles, result.lost
    back = ebm_to_cap(ebm, references=[...])                     # EbmToCapResult

Neither side can say everything the other can, so each direction returns what it built plus
a ``lost`` list naming every value that did not survive; nothing is dropped silently.
EBM times are wall-clock times with no zone on the wire: they are built and read as naive
datetimes in ``MappingOptions.zone`` (China Standard Time, +08:00, unless configured).
"""

from protocols.cap.ebm.tables import (
    AUXILIARY_FROM_MIME,
    CHINA_STANDARD_TIME,
    DEFAULT_EVENT_NAMES,
    DEFAULT_EVENT_TABLE,
    EVENT_CODE_NAME,
    GEOCODE_NAME,
    LANGUAGE_FROM_EBM,
    LANGUAGE_TO_EBM,
    MIME_FROM_AUXILIARY,
    SEVERITY_FROM_EBM,
    SEVERITY_TO_EBM,
    UNKNOWN_EVENT_TYPE,
    CapToEbmResult,
    EbmToCapResult,
    MappingOptions,
    ebm_language,
    geometry,
)
from protocols.cap.ebm.to_cap import ebm_to_cap
from protocols.cap.ebm.to_ebm import cap_to_ebm

__all__ = [
    "AUXILIARY_FROM_MIME",
    "CHINA_STANDARD_TIME",
    "DEFAULT_EVENT_NAMES",
    "DEFAULT_EVENT_TABLE",
    "EVENT_CODE_NAME",
    "GEOCODE_NAME",
    "LANGUAGE_FROM_EBM",
    "LANGUAGE_TO_EBM",
    "MIME_FROM_AUXILIARY",
    "SEVERITY_FROM_EBM",
    "SEVERITY_TO_EBM",
    "UNKNOWN_EVENT_TYPE",
    "CapToEbmResult",
    "EbmToCapResult",
    "MappingOptions",
    "cap_to_ebm",
    "ebm_language",
    "ebm_to_cap",
    "geometry",
]
