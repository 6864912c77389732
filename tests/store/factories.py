"""Valid records with overridable fields, so each test states only what it is about."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from dispatcher.store.records import NewAlert, NewTask

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


def make_alert(**overrides: Any) -> NewAlert:
    fields: dict[str, Any] = {
        "sender": "320102000000000000001",
        "identifier": "alert-1",
        "cert_sn": "000000000001",
        "source_format": "cap",
        "content_type": "application/cap+xml",
        "body": b"<alert>\x00\xff exact bytes \xe5\x8f\x91</alert>",
        "body_sha256": "0" * 64,
        "signed_at": 1_740_816_000,
        "msg_type": 1,
        "drill": False,
        "event_type": "11B03",
        "severity": 1,
        "title": "暴雨红色预警",
        "start_at": T0,
        "end_at": T0 + timedelta(hours=2),
        "area_codes": ("320102000000",),
        "targets": ("320102000000",),
        "texts": (("zho", "暴雨红色预警", "请注意防范"),),
        "created_at": T0,
    }
    fields.update(overrides)
    return NewAlert(**fields)


def make_task(**overrides: Any) -> NewTask:
    fields: dict[str, Any] = {
        "adapter_ebrid": "fake-1",
        "bearer": "fake",
        "regions": ("320102000000",),
        "targets": ("t-1", "t-2"),
        "priority": 1,
        "not_before": T0,
        "deadline": T0 + timedelta(hours=2),
        "max_attempts": 3,
    }
    fields.update(overrides)
    return NewTask(**fields)
