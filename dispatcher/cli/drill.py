"""`ebc drill run|list|show`: run a drill scenario, list recorded drills, show one."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

import typer

from dispatcher.cli.output import emit, fail
from dispatcher.config import ConfigError, load_settings

app = typer.Typer(help="Drills: a simulated fleet, real signed alerts, a report.",
                  no_args_is_help=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
DirOption = Annotated[Path, typer.Option("--dir", help="The platform directory.")]
EXIT_DRILL_FAILED = 3


async def _with_db(url: str, action: Any) -> Any:
    from dispatcher.store.db import Database

    db = Database(url)
    await db.start()
    try:
        return await action(db)
    finally:
        await db.stop()


@app.command("run")
def run(
    scenario_file: Annotated[Path, typer.Argument(metavar="SCENARIO.yaml")],
    out: Annotated[Path | None, typer.Option("--out", help="Report directory.")] = None,
    as_json: JsonFlag = False,
    progress: Annotated[bool, typer.Option("--progress/--no-progress")] = True,
) -> None:
    """Run a drill; the report goes to --out (default PLATFORM/drills/ID), the result into
    the platform's database. Exit 3 when the drill ran but failed its pass criteria."""
    from simulators.drill.html import write_report
    from simulators.drill.report import summary_lines
    from simulators.drill.runner import run_drill
    from simulators.drill.scenario import ScenarioError, load_scenario
    from simulators.drill.store import save_drill

    try:
        scenario = load_scenario(scenario_file)
    except ScenarioError as exc:
        fail(str(exc), as_json=as_json, code="invalid-scenario")
    try:
        result = run_drill(scenario, progress=progress and not as_json)
    except (ConfigError, RuntimeError, ValueError, OSError) as exc:
        fail(f"the drill could not run: {exc}", as_json=as_json, code="drill-error")
    settings = load_settings(scenario.platform.dir)
    url = scenario.platform.database_url or settings.database_url
    asyncio.run(_with_db(url, lambda db: save_drill(db, result)))
    target = out or settings.dir / "drills" / result["id"]
    files = write_report(result, target)
    result["report"] = {k: str(v) for k, v in files.items()}
    emit({k: v for k, v in result.items() if k != "timeline"}, as_json=as_json,
         human=[*summary_lines(result), f"  report: {files['html']}"])
    if not result["passed"]:
        raise typer.Exit(EXIT_DRILL_FAILED)


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}s"


def _settings(dir: Path, as_json: bool) -> Any:
    try:
        return load_settings(dir)
    except ConfigError as exc:
        fail(str(exc), as_json=as_json, code=ConfigError.code)


@app.command("list")
def list_command(
    dir: DirOption,
    limit: Annotated[int, typer.Option("--limit")] = 50,
    as_json: JsonFlag = False,
) -> None:
    """Recorded drills, newest first; FAILED marks those that missed their criteria."""
    from simulators.drill.store import list_drills

    settings = _settings(dir, as_json)
    rows = asyncio.run(_with_db(settings.database_url, lambda db: list_drills(db, limit=limit)))
    human = [
        f"{r['id'][:12]}  {r['started_at'][:19]}  {r['kind']:<9} "
        f"{'passed' if r['passed'] else 'FAILED':<6}  {r['coverage']:7.2%}  "
        f"p99 {_seconds(r['p99_seconds'])}  "
        f"{r['terminals']:>6} terminals  {r['name']}"
        for r in rows
    ]
    emit({"drills": rows}, as_json=as_json, human=human or ["no drills recorded"])


@app.command("show")
def show(drill_id: Annotated[str, typer.Argument(metavar="ID")], dir: DirOption,
         as_json: JsonFlag = False) -> None:
    """One drill's result (ID or a unique prefix of it)."""
    from simulators.drill.report import summary_lines
    from simulators.drill.store import get_drill

    settings = _settings(dir, as_json)
    result = asyncio.run(_with_db(settings.database_url, lambda db: get_drill(db, drill_id)))
    if result is None:
        fail(f"no drill {drill_id!r} (or the prefix is not unique)", as_json=as_json,
             code="not-found")
    result.setdefault("timeline", [])
    emit(result, as_json=as_json, human=summary_lines(result))
