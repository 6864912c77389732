"""Chinese first (the duty desk's language), English on request; one catalogue, two columns.
A missing key shows itself (``[key]``) rather than an empty string."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dispatcher.console.catalogue import MESSAGES

LANGUAGES = ("zh", "en")
DEFAULT = "zh"
COOKIE = "ebc_lang"


def language(value: str | None) -> str:
    return value if value in LANGUAGES else DEFAULT


def translate(lang: str, key: str, **params: Any) -> str:
    entry = MESSAGES.get(key)
    if entry is None:
        return f"[{key}]"
    text = entry[1] if lang == "en" else entry[0]
    return text.format(**params) if params else text


def translator(lang: str) -> Callable[..., str]:
    def t(key: str, **params: Any) -> str:
        return translate(lang, key, **params)

    return t
