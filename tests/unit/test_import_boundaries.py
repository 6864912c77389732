"""Imports point inwards: wire formats and signing know nothing of the platform, and the
domain core knows nothing of the web, the database or the broker."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

RULES = {
    "protocols": ("dispatcher", "adapters", "terminals", "simulators", "signing"),
    "signing": ("dispatcher", "adapters", "terminals", "simulators"),
    "dispatcher/domain": (
        "fastapi",
        "starlette",
        "sqlalchemy",
        "gmqtt",
        "amqtt",
        "aiomqtt",
        "httpx",
        "dispatcher.api",
        "dispatcher.store",
        "dispatcher.services",
        "adapters",
        "terminals",
    ),
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", sorted(RULES))
def test_package_imports_nothing_forbidden(package: str) -> None:
    forbidden = RULES[package]
    offenders = []
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"{package} has no Python files"
    for path in files:
        for name in _imports(path):
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not offenders, "\n".join(offenders)


def test_the_scan_sees_a_forbidden_import(tmp_path: Path) -> None:
    sample = tmp_path / "x.py"
    sample.write_text("from sqlalchemy import select\nimport dispatcher.api\n", encoding="utf-8")
    assert _imports(sample) == {"sqlalchemy", "dispatcher.api"}
