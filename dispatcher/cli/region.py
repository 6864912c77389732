"""``ebc region show|find|cover|resolve``: the NBS region table and county geometry.

Output and exit codes are a contract scripts rely on (see output.py and docs/regions.md):
``show --json`` gives code, name, level and parents (province first); ``resolve --json``
gives {"counties": [{"code", "name"}]}; unknown or malformed input exits 1, a bad
combination of options exits 2.
"""

from __future__ import annotations

from typing import Annotated

import typer

from dispatcher.cli.output import emit, fail, read_input_file, usage
from dispatcher.domain.regions import (
    Region,
    RegionTable,
    circle_shape,
    county_shapes,
    parse_cap_circle,
    parse_cap_polygon,
    polygon_shape,
    region_table,
)
from protocols.errors import ProtocolError

app = typer.Typer(
    help="Region codes (NBS 2023 table) and CAP area to county resolution.",
    no_args_is_help=True,
)

AsJson = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def _label(region: Region, table: RegionTable) -> str:
    if region.name is not None:
        return region.name
    above = table.parents(region.code)
    return f"[unnamed village {region.code.value[9:]} of {above[-1].name}]"


def _brief(region: Region) -> dict[str, str | None]:
    return {"code": region.code.value, "name": region.name}


@app.command()
def show(
    code: Annotated[str, typer.Argument(help="Region code: 2, 4, 6, 9 or 12 digits.")],
    as_json: AsJson = False,
) -> None:
    """A region's name, level and parent chain."""
    table = region_table()
    try:
        region = table.get(code)
        parents = table.parents(region.code)
    except ProtocolError as exc:
        fail(exc.message, as_json=as_json, code=exc.code)
    data = {**region.as_dict(), "parents": [p.as_dict() for p in parents]}
    human = [f"{region.code} {_label(region, table)} ({region.level.name.lower()})"]
    if parents:
        human.append(" > ".join(f"{p.name} {p.code}" for p in parents))
    emit(data, as_json=as_json, human=human)


@app.command()
def find(
    name: Annotated[str, typer.Argument(help="A name or part of one, e.g. 舒城县.")],
    within: Annotated[
        str | None, typer.Option("--within", help="Only inside this region code.")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Regions by name: exact matches first, then names containing the text."""
    try:
        matches = region_table().find(name, within=within)
    except ProtocolError as exc:
        fail(exc.message, as_json=as_json, code=exc.code)
    if not matches:
        fail(f"no region named or containing {name.strip()!r}", as_json=as_json, code="not-found")
    emit(
        {"matches": [m.as_dict() for m in matches]},
        as_json=as_json,
        human=[f"{m.code} {m.name} ({m.level.name.lower()})" for m in matches],
    )


@app.command()
def cover(
    codes: Annotated[list[str] | None, typer.Argument(help="Region codes.")] = None,
    file: Annotated[
        str | None,
        typer.Option("--file", help="Also read codes from this file (comma/space separated)."),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """The smallest set of regions equal to the union of CODES."""
    items = list(codes or [])
    if file is not None:
        items.append(read_input_file(file, as_json=as_json).decode("utf-8", "replace"))
    if not items:
        usage("give region codes, --file, or both")
    table = region_table()
    try:
        result = table.minimal_cover(" ".join(items))
    except ProtocolError as exc:
        fail(exc.message, as_json=as_json, code=exc.code)
    regions = [table.get(c) for c in result]
    emit(
        {"codes": [c.value for c in result], "regions": [r.as_dict() for r in regions]},
        as_json=as_json,
        human=[f"{r.code} {_label(r, table)} ({r.level.name.lower()})" for r in regions],
    )


@app.command()
def resolve(
    circle: Annotated[
        str | None, typer.Option("--circle", help='CAP circle: "LAT,LON RADIUS_KM".')
    ] = None,
    polygon: Annotated[
        str | None, typer.Option("--polygon", help='CAP polygon: "LAT,LON LAT,LON ...".')
    ] = None,
    polygon_file: Annotated[
        str | None, typer.Option("--polygon-file", help="A file holding a CAP polygon.")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """The counties a CAP circle or polygon touches (county boundaries, see docs/regions.md)."""
    given = [o for o in (circle, polygon, polygon_file) if o is not None]
    if len(given) != 1:
        usage("give exactly one of --circle, --polygon or --polygon-file")
    try:
        if circle is not None:
            shape = circle_shape(*parse_cap_circle(circle))
        else:
            text = polygon
            if polygon_file is not None:
                text = read_input_file(polygon_file, as_json=as_json).decode("utf-8", "replace")
            shape = polygon_shape(parse_cap_polygon(text or ""))
    except ProtocolError as exc:
        fail(exc.message, as_json=as_json, code=exc.code)
    found = county_shapes().cover(shape)
    table = region_table()
    counties = [table.get(c) for c in found.counties]
    unlisted = [{"code": six, "name": name} for six, name in found.unlisted]
    human = [f"{c.code} {c.name}" for c in counties] or ["no county in the NBS table"]
    if unlisted:
        human.append(
            "also touches ground outside the NBS table: "
            + ", ".join(f"{u['code']} {u['name']}" for u in unlisted)
        )
    emit(
        {"counties": [_brief(c) for c in counties], "unlisted": unlisted},
        as_json=as_json,
        human=human,
    )
