"""Ready-made alerts an operator starts from. ``{area}`` becomes the chosen area's name.

EventType codes: 11B01/11B03/11B25 are the confirmed ones (docs/standards.md); flood 11A01,
earthquake 11C01 and 00000 for drills and daily information are our choice (unconfirmed) and
a deployment overrides them with the ``console_event_types`` setting.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from dispatcher.domain.alert import Severity

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AlertTemplate:
    key: str
    event_type: str
    severity: Severity
    name_zh: str
    name_en: str
    title_zh: str
    body_zh: str
    title_en: str
    body_en: str
    #: The drill template can only ever go out as a drill.
    drill_only: bool = False

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_zh


TEMPLATES: tuple[AlertTemplate, ...] = (
    AlertTemplate(
        "typhoon", "11B01", Severity.ORANGE, "台风", "Typhoon",
        "{area}台风橙色预警",
        "受台风影响，预计未来24小时{area}将出现狂风暴雨。请关好门窗，加固室外物品，"
        "非必要不外出，远离广告牌、危房和低洼地带。",
        "Typhoon orange warning for {area}",
        "A typhoon will bring gales and heavy rain to {area} within 24 hours. Stay indoors, "
        "secure doors, windows and loose objects, and keep away from billboards, unsafe "
        "buildings and low ground.",
    ),
    AlertTemplate(
        "rainstorm", "11B03", Severity.ORANGE, "暴雨", "Rainstorm",
        "{area}暴雨橙色预警",
        "预计未来3小时{area}将出现50毫米以上降雨。请停止户外活动，"
        "低洼地带、山区群众注意防范山洪和地质灾害。",
        "Rainstorm orange warning for {area}",
        "More than 50 mm of rain is expected in {area} within 3 hours. Stop outdoor "
        "activities; people in low-lying and mountain areas beware of flash floods and "
        "landslides.",
    ),
    AlertTemplate(
        "flood", "11A01", Severity.RED, "洪水", "Flood",
        "{area}洪水红色预警",
        "{area}河道水位快速上涨，即将超过保证水位。沿河及低洼地带群众请立即向高处转移，"
        "听从村组干部指挥。",
        "Flood red warning for {area}",
        "Rivers in {area} are rising fast and will soon pass the safe level. People near "
        "rivers and on low ground must move to higher ground now and follow local officials.",
    ),
    AlertTemplate(
        "earthquake", "11C01", Severity.RED, "地震", "Earthquake",
        "{area}地震应急通告",
        "{area}发生破坏性地震。请保持冷静，远离建筑物、电线杆和山体边坡，"
        "到开阔地带避险，注意余震。",
        "Earthquake emergency notice for {area}",
        "A damaging earthquake has struck {area}. Stay calm, keep away from buildings, "
        "poles and slopes, go to open ground, and expect aftershocks.",
    ),
    AlertTemplate(
        "forest_fire", "11B25", Severity.YELLOW, "森林火险", "Forest fire",
        "{area}森林火险黄色预警",
        "{area}森林火险等级高。严禁野外用火，严禁携带火种进山，"
        "发现火情请立即拨打12119报告。",
        "Forest fire yellow warning for {area}",
        "Forest fire danger is high in {area}. No open fires; do not carry fire into the "
        "hills. Report any fire at once on 12119.",
    ),
    AlertTemplate(
        "drill", "00000", Severity.BLUE, "应急广播演练", "Emergency broadcast drill",
        "{area}应急广播系统演练",
        "这是一次应急广播系统演练，不是真实警报，请勿惊慌。",
        "Emergency broadcast drill for {area}",
        "This is a drill of the emergency broadcast system. It is not a real alert.",
        drill_only=True,
    ),
    AlertTemplate(
        "daily", "00000", Severity.UNKNOWN, "日常政务信息", "Daily government information",
        "{area}政务信息",
        "各位村民：请留意今日政务信息。",
        "Public information for {area}",
        "Residents: please note today's public information.",
    ),
)


def catalogue(event_overrides: Mapping[str, str] | None = None) -> dict[str, AlertTemplate]:
    overrides = event_overrides or {}
    return {t.key: replace(t, event_type=overrides.get(t.key, t.event_type)) for t in TEMPLATES}


# -- admin overrides (console_templates.json in the platform directory) -------------------

#: The fields an admin may change; the rest (key, names, drill_only) stay built in.
EDITABLE = ("title_zh", "body_zh", "title_en", "body_en", "event_type", "severity")
MAX_TITLE = 200
MAX_BODY = 2000


class TemplateError(ValueError):
    """``problems`` are i18n keys, every one found."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(", ".join(problems))
        self.problems = problems


def checked_override(fields: Mapping[str, object]) -> dict[str, Any]:
    """The edited fields, checked: a 5-character event type, severity 0-4, a Chinese title
    and text; or TemplateError naming every problem."""
    problems: list[str] = []
    event_type = str(fields.get("event_type", "")).strip()
    if not (len(event_type) == 5 and event_type.isascii() and event_type.isalnum()):
        problems.append("error.template_event_type")
    severity: Severity | None = None
    try:
        severity = Severity(int(str(fields.get("severity", "")).strip()))
    except ValueError:
        problems.append("error.template_severity")
    texts = {name: str(fields.get(name, "")).strip()
             for name in ("title_zh", "body_zh", "title_en", "body_en")}
    if not texts["title_zh"] or not texts["body_zh"]:
        problems.append("error.template_chinese")
    if bool(texts["title_en"]) != bool(texts["body_en"]):
        problems.append("error.template_english")
    if any(len(texts[n]) > MAX_TITLE for n in ("title_zh", "title_en")) or any(
        len(texts[n]) > MAX_BODY for n in ("body_zh", "body_en")
    ):
        problems.append("error.text_too_long")
    for value in texts.values():
        try:
            value.format(area="")
        except (KeyError, IndexError, ValueError):
            problems.append("error.template_placeholder")
            break
    if problems:
        raise TemplateError(problems)
    return {**texts, "event_type": event_type, "severity": severity}


def load_overrides(path: Path) -> dict[str, dict[str, Any]]:
    """The saved overrides; a missing file is none. A malformed one is refused loudly."""
    if not path.exists():
        return {}
    document = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(document, dict):
        raise ValueError(f"{path}: expected a JSON object of template overrides")
    return {str(k): dict(v) for k, v in document.items() if isinstance(v, dict)}


def apply_overrides(
    templates: Mapping[str, AlertTemplate], overrides: Mapping[str, Mapping[str, Any]]
) -> dict[str, AlertTemplate]:
    result = dict(templates)
    for key, fields in overrides.items():
        if key not in result:
            continue
        try:
            result[key] = replace(result[key], **checked_override(fields))
        except TemplateError as exc:  # a hand-edited file must not take the console down
            log.warning("template override %s ignored: %s", key, exc)
    return result


def save_overrides(path: Path, key: str, override: Mapping[str, Any] | None) -> None:
    """Set (or with None, drop) one template's override; written atomically."""
    document = load_overrides(path)
    if override is None:
        document.pop(key, None)
    else:
        document[key] = {k: (int(v) if k == "severity" else v) for k, v in override.items()}
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_text(json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
                    encoding="utf-8")
    temp.replace(path)
