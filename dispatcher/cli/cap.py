"""``ebc cap validate|to-ebm``: check CAP 1.2 messages and map them to a GY/T 385 EBM.

``validate`` reports every problem of every file with its element path and rule id, and
exits 1 when any file is invalid. ``to-ebm`` prints the EBM as an EBD document (JSON with
``--json``); what the EBM cannot carry goes to stderr (or the JSON) so stdout stays pure XML.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any

import typer

from dispatcher.cli.output import EXIT_INVALID, emit, fail, read_input_file, stderr
from protocols.cap import ValidationOptions, parse_and_validate
from protocols.cap_ebm import CapToEbmResult, MappingOptions, cap_to_ebm
from protocols.codes import EBDID, EBMID, RegionCode, ResourceCode
from protocols.ebd import Ebd, Src, build_ebd
from protocols.errors import CapError, CodeError, Problem, ProtocolError

app = typer.Typer(
    help="CAP 1.2 (OASIS Common Alerting Protocol): validate messages, map them to EBM.",
    no_args_is_help=True,
)

AsJson = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
# A national-level platform code, for trying the mapping out; real use passes --ebrid.
PLACEHOLDER_EBRID = "10000000000000101010101"


def _problem(problem: Problem) -> dict[str, str]:
    return {"path": problem.path, "rule": problem.rule, "message": problem.message}


def _check(data: bytes, options: ValidationOptions) -> list[Problem]:
    try:
        parse_and_validate(data, options)
    except CapError as exc:
        return exc.problems
    except ProtocolError as exc:  # unsafe or malformed XML: the whole document is refused
        return [Problem("", exc.code, exc.message)]
    return []


@app.command("validate")
def validate_(
    files: Annotated[list[str], typer.Argument(help="CAP XML files.")],
    max_vertices: Annotated[
        int, typer.Option("--max-vertices", min=4, help="Most points allowed in one polygon.")
    ] = ValidationOptions().max_polygon_vertices,
    as_json: AsJson = False,
) -> None:
    """Check each FILE against CAP 1.2; exit 0 when all are valid, 1 when any is not."""
    options = ValidationOptions(max_polygon_vertices=max_vertices)
    results = []
    human = []
    for name in files:
        problems = _check(read_input_file(name, as_json=as_json), options)
        results.append(
            {"file": name, "valid": not problems, "problems": [_problem(p) for p in problems]}
        )
        human.append(f"{name}: valid" if not problems else f"{name}: {len(problems)} problem(s)")
        human += [f"  {p.path or '(document)'}: {p.message} [{p.rule}]" for p in problems]
    emit(results, as_json=as_json, human=human)
    if not all(result["valid"] for result in results):
        raise typer.Exit(EXIT_INVALID)


def _ebrid(value: str) -> str:
    try:
        return ResourceCode(value).value
    except CodeError as exc:
        raise typer.BadParameter(exc.message) from exc


def _ebmid(value: str | None) -> str | None:
    try:
        return None if value is None else EBMID(value).value
    except CodeError as exc:
        raise typer.BadParameter(exc.message) from exc


def _areas(values: list[str] | None) -> list[str]:
    try:
        return [RegionCode.parse(value).value for value in values or []]
    except CodeError as exc:
        raise typer.BadParameter(exc.message) from exc


@app.command("to-ebm")
def to_ebm(
    file: Annotated[str, typer.Argument(help="A CAP XML file.")],
    ebrid: Annotated[
        str, typer.Option("--ebrid", callback=_ebrid, help="EBRID of the issuing platform.")
    ] = PLACEHOLDER_EBRID,
    sequence: Annotated[
        int, typer.Option("--sequence", min=0, max=9999, help="EBMID sequence of the day.")
    ] = 1,
    area: Annotated[
        list[str] | None,
        typer.Option(
            "--area",
            callback=_areas,
            help="Extra region code (repeatable), e.g. resolved from the CAP polygons.",
        ),
    ] = None,
    related: Annotated[
        str | None,
        typer.Option("--related-ebmid", callback=_ebmid, help="EBMID the references resolve to."),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Map FILE to an EBM and print it as an EBD document (JSON with --json)."""
    data = read_input_file(file, as_json=as_json)
    try:
        alert = parse_and_validate(data)
        result = cap_to_ebm(
            alert,
            ebrid=ebrid,
            sequence=sequence,
            extra_area_codes=area or (),
            related_ebmid=related,
        )
    except CapError as exc:
        details: list[Any] = [_problem(p) if as_json else str(p) for p in exc.problems]
        fail(f"{file} cannot become an EBM", as_json=as_json, code=exc.code, details=details)
    except ProtocolError as exc:
        fail(f"{file}: {exc.message}", as_json=as_json, code=exc.code)
    if as_json:
        emit(_result_json(result), as_json=True, human=[])
        return
    typer.echo(_ebd_xml(result, ebrid, sequence).decode("utf-8"), nl=False)
    for line in result.lost:
        stderr(f"not in the EBM: {line}")
    for polygon in result.polygons:
        stderr(f"polygon to resolve to region codes: {polygon.text}")
    for circle in result.circles:
        stderr(f"circle to resolve to region codes: {circle.text}")


def _ebd_xml(result: CapToEbmResult, ebrid: str, sequence: int) -> bytes:
    source = ResourceCode(ebrid)
    sent = result.ebm.msg_basic_info.send_time
    ebd = Ebd(
        ebdid=EBDID.build(source, sent.date(), sequence),
        src=Src(ebrid=source),
        ebd_time=sent,
        body=result.ebm,
    )
    return build_ebd(ebd)


def _plain(value: Any) -> Any:
    if isinstance(value, EBMID | ResourceCode | RegionCode | EBDID):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    return value


def _result_json(result: CapToEbmResult) -> dict[str, Any]:
    return {
        "ok": True,
        "ebm": _plain(result.ebm),
        "polygons": [[list(point) for point in p.points] for p in result.polygons],
        "circles": [
            {"lat": c.center[0], "lon": c.center[1], "radius_km": c.radius_km}
            for c in result.circles
        ],
        "lost": result.lost,
        "timezone": MappingOptions().zone.tzname(None),
    }
