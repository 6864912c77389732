"""From the compose form to a checked draft, and from a draft to what terminals will show
and say. The preview text is built exactly as the reference terminal builds what it plays
(terminals/agent.py): drill prefix + title, a space, then the body."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dispatcher.console import scope
from dispatcher.console.alert_templates import AlertTemplate
from dispatcher.domain.alert import Severity
from dispatcher.domain.regions import region_table
from terminals.agent import DRILL_PREFIX

LANGUAGES = (("zho", "中文"), ("eng", "English"))
MAX_TITLE = 200
MAX_BODY = 2000
MAX_TARGETS = 500
DURATIONS = (15, 30, 60, 120, 240, 480, 1440)


class DraftError(ValueError):
    """``problems`` are i18n keys; ``code`` is "outside-jurisdiction" when that is why."""

    def __init__(self, problems: Sequence[str], *, code: str = "invalid") -> None:
        super().__init__(", ".join(problems))
        self.problems = list(problems)
        self.code = code


@dataclass(frozen=True)
class Draft:
    template: str
    drill: bool
    severity: int
    event_type: str
    texts: tuple[tuple[str, str, str], ...]
    targets: tuple[str, ...]
    duration_minutes: int
    polygon: str = ""

    @property
    def mode_word(self) -> str:
        return confirm_word(self.drill)

    def payload(self) -> dict[str, Any]:
        return {
            "template": self.template, "drill": self.drill, "severity": self.severity,
            "event_type": self.event_type, "texts": [list(t) for t in self.texts],
            "targets": list(self.targets), "duration_minutes": self.duration_minutes,
            "polygon": self.polygon,
        }

    @classmethod
    def from_payload(cls, data: Mapping[str, Any]) -> Draft:
        return cls(
            template=str(data["template"]), drill=bool(data["drill"]),
            severity=int(data["severity"]), event_type=str(data["event_type"]),
            texts=tuple((str(a), str(b), str(c)) for a, b, c in data["texts"]),
            targets=tuple(str(t) for t in data["targets"]),
            duration_minutes=int(data["duration_minutes"]), polygon=str(data.get("polygon", "")),
        )


@dataclass(frozen=True)
class PreviewText:
    language: str
    label: str
    shown_title: str
    shown_body: str
    spoken: str


@dataclass(frozen=True)
class FormValues:
    """What the form shows: a template's defaults or what the operator typed."""

    mode: str = ""
    severity: int = 0
    texts: dict[str, tuple[str, str]] = field(default_factory=dict)
    targets: tuple[str, ...] = ()
    duration_minutes: int = 60
    polygon: str = ""


def confirm_word(drill: bool) -> str:
    return "DRILL" if drill else "REAL"


def spoken_text(title: str, body: str, *, drill: bool) -> str:
    prefix = DRILL_PREFIX if drill else ""
    return " ".join(p for p in (prefix + title, body) if p)


def preview(texts: Sequence[Sequence[str]], *, drill: bool) -> list[PreviewText]:
    labels = dict(LANGUAGES)
    prefix = DRILL_PREFIX if drill else ""
    return [
        PreviewText(lang, labels.get(lang, lang), prefix + title, body,
                    spoken_text(title, body, drill=drill))
        for lang, title, body in texts
    ]


def template_values(template: AlertTemplate, area_name: str) -> FormValues:
    fill = {"area": area_name}
    return FormValues(
        mode="drill" if template.drill_only else "",
        severity=int(template.severity),
        texts={
            "zho": (template.title_zh.format(**fill), template.body_zh.format(**fill)),
            "eng": (template.title_en.format(**fill), template.body_en.format(**fill)),
        },
    )


def form_values(form: Mapping[str, Any], targets: Sequence[str]) -> FormValues:
    def number(name: str, default: int) -> int:
        try:
            return int(str(form.get(name, default)))
        except ValueError:
            return default

    return FormValues(
        mode=str(form.get("mode", "")),
        severity=number("severity", 0),
        texts={lang: (str(form.get(f"title_{lang}", "")).strip(),
                      str(form.get(f"body_{lang}", "")).strip()) for lang, _ in LANGUAGES},
        targets=tuple(targets),
        duration_minutes=number("duration", 60),
        polygon=str(form.get("polygon", ""))[:4000],
    )


def check(
    values: FormValues,
    template: AlertTemplate,
    *,
    account_region: str,
    platform_region: str,
) -> Draft:
    """A draft, or DraftError naming every problem at once."""
    problems: list[str] = []
    if values.mode not in ("drill", "real"):
        problems.append("error.mode_required")
    elif template.drill_only and values.mode != "drill":
        problems.append("error.drill_only")
    if values.severity not in {int(s) for s in Severity}:
        problems.append("error.severity")
    if values.duration_minutes not in DURATIONS:
        problems.append("error.duration")
    texts: list[tuple[str, str, str]] = []
    for lang, _ in LANGUAGES:
        title, body = values.texts.get(lang, ("", ""))
        if len(title) > MAX_TITLE or len(body) > MAX_BODY:
            problems.append("error.text_too_long")
        if title or body:
            if not title:
                problems.append("error.title_required")
            texts.append((lang, title, body))
    if not texts or texts[0][0] != "zho":
        problems.append("error.chinese_required")
    targets = _targets(values.targets, problems)
    if problems:
        raise DraftError(sorted(set(problems)))
    outside = [t for t in targets if not (scope.inside(account_region, t)
                                          and scope.inside(platform_region, t))]
    if outside:
        raise DraftError(["error.outside_jurisdiction"], code="outside-jurisdiction")
    return Draft(
        template=template.key, drill=values.mode == "drill", severity=values.severity,
        event_type=template.event_type, texts=tuple(texts), targets=tuple(targets),
        duration_minutes=values.duration_minutes, polygon=values.polygon,
    )


def _targets(codes: Sequence[str], problems: list[str]) -> list[str]:
    table = region_table()
    cleaned = sorted({c.strip() for c in codes if c.strip()})
    if not cleaned:
        problems.append("error.area_required")
    elif len(cleaned) > MAX_TARGETS:
        problems.append("error.too_many_areas")
    elif not all(c.isdigit() and len(c) == 12 and table.exists(c) for c in cleaned):
        problems.append("error.unknown_area")
    else:
        return [c.value for c in table.minimal_cover(cleaned)]
    return []
