"""District boundaries (kpi.geo): the GeoJSON ↔ districts.csv matching and its Chinese messages,
label points inside their districts, labels moved apart, the shipped file and its provenance."""

from __future__ import annotations

import copy
import csv
import json
from pathlib import Path

import pytest

from kpi import geo

REPO = Path(__file__).resolve().parents[1]
CATALOG = REPO / "data" / "catalog"
SHIPPED = CATALOG / "330800_full.json"


def _districts() -> list[dict]:
    """districts.csv read with the csv module (not kpi.catalog), districts only."""
    with (CATALOG / "districts.csv").open(encoding="utf-8-sig", newline="") as fh:
        return [r for r in csv.DictReader(fh) if r["level"] == "district"]


def _square(x: float, y: float, size: float = 1.0) -> list:
    return [[[x, y], [x, y + size], [x + size, y + size], [x + size, y], [x, y]]]


def _fc(*features) -> dict:
    return {"type": "FeatureCollection", "features": list(features)}


def _feature(adcode, name, x=0.0, y=0.0) -> dict:
    props = {"name": name}
    if adcode is not None:
        props["adcode"] = adcode
    return {
        "type": "Feature",
        "properties": props,
        "geometry": {"type": "Polygon", "coordinates": _square(x, y)},
    }


ROWS = [
    {"district_code": "330802", "district_name": "柯城区", "short_name": "柯城", "aliases": ""},
    {"district_code": "330803", "district_name": "衢江区", "short_name": "衢江", "aliases": ""},
]


def test_shipped_file_matches_the_demo_catalogue():
    loaded = geo.load(_districts(), catalog_dir=CATALOG, city_code="330800")
    assert loaded.problem is None
    b = loaded.boundaries
    assert b is not None and b.source == SHIPPED
    assert b.codes == [r["district_code"] for r in _districts()]
    assert b.names["330881"] == "江山市"
    # the label point of every district lies inside it (checked against the file's own
    # DataV `centroid` property, within 0.02°, and by point-in-polygon)
    raw = json.loads(SHIPPED.read_text(encoding="utf-8"))
    for f in raw["features"]:
        code = str(f["properties"]["adcode"])
        lon, lat = b.centroids[code]
        assert any(geo.contains(p, lon, lat) for p in b.polygons[code]), code
        dlon, dlat = f["properties"]["centroid"]
        assert abs(lon - dlon) < 0.02 and abs(lat - dlat) < 0.02, code


def test_shipped_file_has_its_provenance():
    readme = (CATALOG / "330800_full.README.md").read_text(encoding="utf-8")
    for word in ("anzhou99/GeoJsons", "DataV", "2021-08-16", "许可", "districts.geojson"):
        assert word in readme
    import hashlib

    digest = hashlib.sha256(SHIPPED.read_bytes()).hexdigest()
    assert digest in readme  # the copy is the one the provenance describes
    assert (
        digest
        == hashlib.sha256((REPO.parent / "shared" / "geo" / SHIPPED.name).read_bytes()).hexdigest()
    )


def test_every_district_matched_by_code_int_or_text_and_by_name():
    m = geo.match(_fc(_feature(330802, "柯城区"), _feature("330803", "衢江区", 1)), ROWS, "x.json")
    assert m.problem is None and m.boundaries.codes == ["330802", "330803"]
    # 12-digit codes → the first 6; a feature without a code by its name (short name too)
    m = geo.match(_fc(_feature("330802000000", "柯城区"), _feature(None, "衢江", 1)), ROWS)
    assert m.problem is None and m.boundaries.codes == ["330802", "330803"]


def test_missing_district_is_named():
    m = geo.match(_fc(_feature(330802, "柯城区")), ROWS, "city.json")
    assert m.boundaries is None
    assert "city.json" in m.problem and "边界文件中没有衢江区（330803）" in m.problem
    assert "不显示区县地图" in m.problem and "adcode" in m.problem


def test_extra_feature_is_named():
    m = geo.match(
        _fc(
            _feature(330802, "柯城区"), _feature(330803, "衢江区", 1), _feature(330881, "江山市", 2)
        ),
        ROWS,
    )
    assert m.boundaries is None
    assert "江山市（330881）不在区县目录 districts.csv 中" in m.problem


def test_wrong_code_says_which_and_what_to_write():
    m = geo.match(_fc(_feature(330802, "柯城区"), _feature(330813, "衢江区", 1)), ROWS)
    assert m.boundaries is None
    assert "衢江区的代码在边界文件中是 330813，districts.csv 中是 330803" in m.problem
    assert "adcode 改为 330803" in m.problem
    assert "没有衢江区" not in m.problem  # said once, as a wrong code


def test_code_and_name_of_different_districts():
    m = geo.match(_fc(_feature(330802, "衢江区"), _feature(330803, "柯城区", 1)), ROWS)
    assert m.boundaries is None
    assert "代码 330802 是柯城区，名称却是“衢江区”" in m.problem


def test_duplicate_and_bad_geometry():
    dup = geo.match(_fc(_feature(330802, "柯城区"), _feature(330802, "柯城区", 1)), ROWS)
    assert "柯城区（330802）有不止一个要素" in dup.problem
    bad = _feature(330803, "衢江区", 1)
    bad["geometry"] = {"type": "Point", "coordinates": [1, 2]}
    m = geo.match(_fc(_feature(330802, "柯城区"), bad), ROWS)
    assert "衢江区（330803）的边界类型是 Point，应为 Polygon 或 MultiPolygon" in m.problem


def test_not_a_feature_collection():
    assert "FeatureCollection" in geo.match({"type": "Feature"}, ROWS).problem
    assert "FeatureCollection" in geo.match([1, 2], ROWS).problem


def test_files_in_the_catalogue(tmp_path):
    none = geo.load(ROWS, catalog_dir=tmp_path)
    assert none.boundaries is None
    assert "没有区县边界文件" in none.problem and "districts.geojson" in none.problem
    (tmp_path / "districts.geojson").write_text("{not json", encoding="utf-8")
    broken = geo.load(ROWS, catalog_dir=tmp_path)
    assert broken.boundaries is None and "不是有效的 GeoJSON" in broken.problem
    good = _fc(_feature(330802, "柯城区"), _feature(330803, "衢江区", 1))
    (tmp_path / "districts.geojson").write_text(json.dumps(good), encoding="utf-8")
    assert geo.load(ROWS, catalog_dir=tmp_path).problem is None
    # a DataV-named file is found by the city code, or as the only one there
    other = tmp_path / "other"
    other.mkdir()
    (other / "330800_full.json").write_text(json.dumps(good), encoding="utf-8")
    assert geo.load(ROWS, catalog_dir=other, city_code="330800").problem is None
    assert geo.load(ROWS, catalog_dir=other).problem is None


def test_label_point_of_a_concave_district_is_inside():
    # a U shape: its area centroid (the middle of the gap) is outside
    u = [[[0, 0], [3, 0], [3, 3], [2, 3], [2, 1], [1, 1], [1, 3], [0, 3], [0, 0]]]
    fc = _fc(
        {
            "type": "Feature",
            "properties": {"adcode": 330802},
            "geometry": {"type": "Polygon", "coordinates": u},
        },
        _feature(330803, "衢江区", 5),
    )
    b = geo.match(fc, ROWS).boundaries
    lon, lat = b.centroids["330802"]
    assert geo.contains(b.polygons["330802"][0], lon, lat)


def test_spread_labels_leaves_no_overlap():
    points = {"a": (100.0, 100.0), "b": (110.0, 105.0), "c": (300.0, 300.0)}
    out = geo.spread_labels(points, (60.0, 40.0), 400.0, 400.0)
    (ax, ay), (bx, by) = out["a"], out["b"]
    assert abs(ax - bx) >= 60 - 1e-6 or abs(ay - by) >= 40 - 1e-6
    assert out["c"] == (300.0, 300.0)  # nothing near it: not moved


def test_projection_keeps_the_shape_and_the_box():
    b = geo.load(_districts(), catalog_dir=CATALOG, city_code="330800").boundaries
    p = geo.project(b, 800, 600, pad=10)
    for code, (x, y) in p.labels.items():
        assert 0 <= x <= 800 and 0 <= y <= 600
        lon, lat = p.unproject(x, y)
        assert lon == pytest.approx(b.centroids[code][0]) and lat == pytest.approx(
            b.centroids[code][1]
        )
    # 开化 (north-west) is left of and above 龙游 (east) on screen
    assert (
        p.labels["330824"][0] < p.labels["330825"][0]
        and p.labels["330824"][1] < p.labels["330825"][1]
    )


def test_a_city_with_other_codes_gets_a_message_not_a_map():
    nyc = [{"district_code": "NY01", "district_name": "Manhattan"}]
    m = geo.load(nyc, catalog_dir=CATALOG, city_code="330800")
    assert m.boundaries is None and "330800_full.json 中没有一个区县与区县目录" in m.problem
    assert "别的城市" in m.problem
    assert copy.deepcopy(m) == m
