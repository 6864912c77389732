"""Shared CLI conventions: human output by default, ``--json`` for machines.

Exit codes (a contract scripts rely on): 0 valid / done, 1 invalid input (reasons printed),
2 usage error (Typer/Click's own code for bad flags).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from typing import Any, NoReturn

import typer

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2


def emit(data: Any, *, as_json: bool, human: str | Iterable[str]) -> None:
    """Print ``data`` as JSON when asked, else the human lines."""
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
        return
    lines = [human] if isinstance(human, str) else list(human)
    for line in lines:
        typer.echo(line)


def fail(
    message: str, *, as_json: bool = False, code: str = "invalid-input", details: Any = None
) -> NoReturn:
    """Report invalid input and exit 1."""
    if as_json:
        payload: dict[str, Any] = {"ok": False, "code": code, "error": message}
        if details is not None:
            payload["details"] = details
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2, default=str))
    else:
        typer.echo(f"error [{code}]: {message}", err=True)
        if isinstance(details, list):
            for item in details:
                typer.echo(f"  - {item}", err=True)
    raise typer.Exit(EXIT_INVALID)


def usage(message: str) -> NoReturn:
    """Report a usage error (bad combination of flags) and exit 2."""
    typer.echo(f"usage error: {message}", err=True)
    raise typer.Exit(EXIT_USAGE)


def read_input_file(path: str, *, as_json: bool = False, limit: int = 64 * 1024 * 1024) -> bytes:
    """Read a file named on the command line, failing with exit 1 and a clear reason."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror}", as_json=as_json, code="unreadable-file")
    if len(data) > limit:
        fail(f"{path} is larger than {limit} bytes", as_json=as_json, code="payload-too-large")
    return data


def stderr(message: str) -> None:
    print(message, file=sys.stderr)
