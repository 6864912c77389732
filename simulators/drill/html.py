"""The drill report on disk: result.json, three PNG plots (ack-time CDF, coverage over time,
township map coloured by coverage) and report.html that shows them."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only: no display here, and no GUI toolkit needed

import matplotlib.pyplot as plt
import numpy as np
import shapely
from matplotlib.patches import PathPatch
from matplotlib.path import Path as MplPath

from dispatcher.domain.regions import county_shape, region_table
from simulators.drill.report import summary_lines


def write_report(result: dict[str, Any], out: Path) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "json": out / "result.json",
        "cdf": out / "ack_cdf.png",
        "coverage": out / "coverage.png",
        "map": out / "townships.png",
        "html": out / "report.html",
    }
    files["json"].write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    plot_cdf(result, files["cdf"])
    plot_coverage(result, files["coverage"])
    plot_townships(result, files["map"])
    files["html"].write_text(render_html(result, files), encoding="utf-8")
    return files


def plot_cdf(result: dict[str, Any], path: Path) -> None:
    fig, ax = plt.subplots(figsize=(7, 4))
    for alert in result["alerts"]:
        times = alert["ack_times"]
        if times:
            ys = np.arange(1, len(times) + 1) / max(alert["targeted"], len(times))
            ax.step(times, ys, where="post", label=f"alert {alert['index']}")
    ax.set_xlabel("seconds from acceptance to the terminal's first ack")
    ax.set_ylabel("share of targeted terminals")
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.set_title("Time to ack (CDF)")
    if result["alerts"]:
        ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_coverage(result: dict[str, Any], path: Path) -> None:
    fig, ax = plt.subplots(figsize=(7, 4))
    for alert in result["alerts"]:
        points = [(t, counts.get(alert["alert_id"], 0)) for t, counts in result["timeline"]
                  if t >= alert["accepted_at"] - 0.5]
        if points and alert["targeted"]:
            xs, ys = zip(*points, strict=True)
            ax.plot(xs, np.array(ys) / alert["targeted"], label=f"alert {alert['index']}")
    for t, what in result["events"]:
        ax.axvline(t, color="grey", alpha=0.4, linestyle=":")
        ax.annotate(what, (t, 0.02), rotation=90, fontsize=7, color="grey")
    ax.set_xlabel("seconds since the drill began")
    ax.set_ylabel("coverage recorded by the platform")
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.set_title("Coverage over time")
    if result["alerts"]:
        ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _patch(geometry: Any, **style: Any) -> PathPatch:
    vertices: list[tuple[float, float]] = []
    codes: list[np.uint8] = []
    for polygon in getattr(geometry, "geoms", [geometry]):
        if polygon.geom_type != "Polygon" or polygon.is_empty:
            continue
        for ring in (polygon.exterior, *polygon.interiors):
            coords = list(ring.coords)
            vertices += coords
            codes += [MplPath.MOVETO] + [MplPath.LINETO] * (len(coords) - 2) + [MplPath.CLOSEPOLY]
    return PathPatch(MplPath(vertices, codes), **style)


def township_cells(county: str) -> list[tuple[str, Any]]:
    """(township code, shape) in plotting coordinates: the console's schematic layout (the
    real county outline cut into one cell per township), else dots in the outline."""
    try:
        from dispatcher.console.mapview import layout

        drawn = layout(county)
        if drawn is not None:
            return [(c.code[:9], shapely.affinity.scale(c.shape, 1, -1, origin=(0, 0)))
                    for c in drawn.cells]
    except ImportError:
        pass
    outline = county_shape(county)
    children = [r.code.value[:9] for r in region_table().children(county)]
    points = outline.representative_point()
    return [(code, points.buffer(0.01 * (1 + i % 5))) for i, code in enumerate(children)]


def plot_townships(result: dict[str, Any], path: Path) -> None:
    county = result["platform"]["region"]
    fig, ax = plt.subplots(figsize=(7, 5.5))
    cmap = plt.get_cmap("RdYlGn")
    towns = {code[:9]: tally for code, tally in result["by_township"].items()}
    try:
        cells = township_cells(county)
    except Exception as exc:  # no shape for this county: say so on the image
        cells = []
        ax.text(0.5, 0.5, f"no county polygon: {exc}", ha="center", transform=ax.transAxes)
    for code, shape in cells:
        tally = towns.get(code)
        colour = cmap(tally["coverage"]) if tally and tally["targeted"] else (0.85, 0.85, 0.85)
        ax.add_patch(_patch(shape, facecolor=colour, edgecolor="white", linewidth=0.8))
        if tally:
            point = shape.representative_point()
            ax.annotate(f"{tally['coverage']:.0%}", (point.x, point.y), ha="center",
                        va="center", fontsize=7)
    if cells:
        bounds = shapely.union_all([s for _, s in cells]).bounds
        ax.set_xlim(bounds[0], bounds[2])
        ax.set_ylim(bounds[1], bounds[3])
    ax.set_aspect("equal")
    ax.axis("off")
    scale = plt.cm.ScalarMappable(cmap=cmap, norm=matplotlib.colors.Normalize(0, 1))
    fig.colorbar(scale, ax=ax, fraction=0.035, label="coverage")
    ax.set_title(f"Coverage by township, county {county[:6]} (schematic cells)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _seconds(value: object) -> str:
    return "-" if value is None else f"{float(value):.3f} s"  # type: ignore[arg-type]


def _bearer_row(bearer: str, tally: dict[str, Any]) -> str:
    """Reached is what the platform recorded; the times are from the terminals' own acks."""
    t = tally.get("time_to_ack") or {}
    cells = [bearer, tally.get("terminals", "-"), tally.get("offline", "-"), tally["targeted"],
             tally["acked"], f"{tally['coverage']:.1%}",
             *(_seconds(t.get(k)) for k in ("p50", "p90", "p99", "max"))]
    return "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>"


def render_html(result: dict[str, Any], files: dict[str, Path]) -> str:
    e = html.escape
    rows = "".join(
        f"<tr><td>{e(k)}</td><td>{e(v['name'])}</td><td>{v['targeted']}</td>"
        f"<td>{v['acked']}</td><td>{v['coverage']:.1%}</td></tr>"
        for k, v in result["by_township"].items()
    )
    bearers = "".join(_bearer_row(b, v) for b, v in result["by_bearer"].items())
    missing = "".join(
        f"<tr><td>{e(t['alert'])}</td><td>{e(t.get('bearer', 'ip'))}</td><td>{e(t['ebrid'])}"
        f"</td><td>{e(t['reason'])}</td></tr>" for t in result["not_reached"]["terminals"][:200]
    )
    summary = "\n".join(e(line) for line in summary_lines(result))
    status = "passed" if result["passed"] else "failed"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Drill {e(result['name'])} {e(result['id'][:12])}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1000px}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:2px 8px}}
.passed{{color:#060}}.failed{{color:#b00}}pre{{background:#f6f6f6;padding:1em}}</style>
</head><body>
<h1>Drill {e(result['name'])} <span class="{status}">{status.upper()}</span></h1>
<p>{e(result['started_at'])} to {e(str(result['finished_at']))}, drill id {e(result['id'])}</p>
<pre>{summary}</pre>
<h2>Time to ack</h2><img src="{files['cdf'].name}" alt="ack-time CDF">
<h2>Coverage over time</h2><img src="{files['coverage'].name}" alt="coverage over time">
<h2>Coverage by township</h2><img src="{files['map'].name}" alt="township map">
<table><tr><th>township</th><th>name</th><th>targeted</th><th>acked</th><th>coverage</th></tr>
{rows}</table>
<h2>Coverage by bearer</h2>
<table><tr><th>bearer</th><th>terminals</th><th>offline</th><th>targeted</th><th>reached</th>
<th>coverage</th><th>first ack p50</th><th>p90</th><th>p99</th><th>max</th></tr>{bearers}
</table>
<h2>Not reached (first 200)</h2>
<table><tr><th>alert</th><th>bearer</th><th>terminal</th><th>why</th></tr>{missing}</table>
</body></html>
"""
