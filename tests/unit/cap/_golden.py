"""The four OASIS CAP 1.2 examples (copied into tests/golden/cap) and one-edit variants."""

from __future__ import annotations

from pathlib import Path

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "cap"

HOMELAND = "oasis-example1-homeland.xml"
THUNDERSTORM = "oasis-example2-thunderstorm.xml"
EARTHQUAKE = "oasis-example3-earthquake-update.xml"
AMBER = "oasis-example4-amber-multilingual.xml"
EXAMPLES = (HOMELAND, THUNDERSTORM, EARTHQUAKE, AMBER)


def load(name: str) -> bytes:
    return (GOLDEN / name).read_bytes()


def edit(name: str, old: str, new: str, *, count: int = -1) -> bytes:
    """``name`` with ``old`` replaced by ``new``; fails loudly when ``old`` is not there."""
    text = load(name).decode("utf-8")
    assert old in text, f"{old!r} not in {name}"
    return text.replace(old, new, count).encode("utf-8")
