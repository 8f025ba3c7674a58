"""District boundaries for the district map (总览 and the LED's 挂图作战), from a local GeoJSON in
the catalogue folder — no tile server, no network.

Where the file is: `districts.geojson` in the catalogue (data/catalog/ or BIZENV_CATALOG_DIR), else
a DataV-style `<市代码>_full.json` there (the demo ships `330800_full.json`, 衢州市; see
data/catalog/330800_full.README.md for its source). One feature per district, Polygon or
MultiPolygon, lon/lat; `properties.adcode` (the 6-digit 行政区划代码, integer or text) is matched to
districts.csv `district_code`, and `properties.name` is used when a feature has no code (matched
to district_name, short_name or an alias). Every district must have exactly one feature and every
feature must be a district: otherwise `load` returns no boundaries and a Chinese note naming each
mismatch — the map is then left out, never drawn half right.

Pure Python + numpy (no Streamlit, no shapely): centroids for the labels, and an equirectangular
projection to SVG path data for the LED.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kpi import settings

log = logging.getLogger(__name__)

GEOJSON_FILE = "districts.geojson"
MAX_BYTES = 20_000_000  # a city's district file is tens of KB; refuse a runaway file
HOW_TO = (
    "边界文件每个区县一个要素（Polygon 或 MultiPolygon，经纬度坐标），properties 中 adcode 为 "
    "districts.csv 的 district_code（6 位行政区划代码），name 为区县名称"
)

Ring = np.ndarray  # (n, 2) lon/lat
Polygon = list[Ring]  # outer ring first, then holes


@dataclass(frozen=True)
class Boundaries:
    """The districts' shapes, keyed by district_code (districts.csv), in catalogue order."""

    source: Path
    polygons: dict[str, list[Polygon]]
    names: dict[str, str]
    centroids: dict[str, tuple[float, float]]  # lon, lat: where the label goes (inside the shape)

    @property
    def codes(self) -> list[str]:
        return list(self.polygons)

    def bbox(self) -> tuple[float, float, float, float]:
        """(min lon, min lat, max lon, max lat) over all districts."""
        pts = np.concatenate([p[0] for polys in self.polygons.values() for p in polys])
        return (
            float(pts[:, 0].min()),
            float(pts[:, 1].min()),
            float(pts[:, 0].max()),
            float(pts[:, 1].max()),
        )

    def feature_collection(self) -> dict[str, Any]:
        """GeoJSON with `id` = district_code on every feature (Plotly's default featureidkey)."""
        features = []
        for code, polys in self.polygons.items():
            coords = [[ring.round(6).tolist() for ring in poly] for poly in polys]
            features.append(
                {
                    "type": "Feature",
                    "id": code,
                    "properties": {"name": self.names[code]},
                    "geometry": {"type": "MultiPolygon", "coordinates": coords},
                }
            )
        return {"type": "FeatureCollection", "features": features}


@dataclass(frozen=True)
class MapLoad:
    boundaries: Boundaries | None
    problem: str | None  # Chinese: why there is no map (None when there is one)


def find_file(catalog_dir: Path | str | None = None, city_code: str | None = None) -> Path | None:
    """The boundary file of the catalogue: districts.geojson, else <city_code>_full.json, else
    the one *_full.json there is; None when there is none."""
    folder = settings.catalog_dir(catalog_dir)
    first = folder / GEOJSON_FILE
    if first.is_file():
        return first
    if city_code:
        named = folder / f"{city_code}_full.json"
        if named.is_file():
            return named
    found = sorted(folder.glob("*_full.json")) if folder.is_dir() else []
    return found[0] if len(found) == 1 else None


_CACHE: dict[tuple, MapLoad] = {}


def load(
    districts: Iterable[Mapping[str, Any]],
    catalog_dir: Path | str | None = None,
    city_code: str | None = None,
) -> MapLoad:
    """The boundaries of these districts (rows with district_code, district_name and optionally
    short_name, aliases) from the catalogue's file, or None and a Chinese note. Never raises."""
    rows = [dict(r) for r in districts]
    path = find_file(catalog_dir, city_code)
    if path is None:
        folder = settings.catalog_dir(catalog_dir)
        return MapLoad(
            None,
            f"区县目录 {folder} 中没有区县边界文件（{GEOJSON_FILE} 或 <市代码>_full.json），"
            "不显示区县地图。需要地图时，把本市的区县边界 GeoJSON 放入该目录（" + HOW_TO + "）。",
        )
    try:
        stat = path.stat()
        key = (str(path), stat.st_mtime_ns, stat.st_size, json.dumps(rows, default=str))
    except OSError as err:
        return MapLoad(None, f"无法读取区县边界文件 {path}（{err}），不显示区县地图。")
    if key not in _CACHE:
        if len(_CACHE) > 32:  # a few catalogues × district lists per server; never grows unbounded
            _CACHE.clear()
        try:
            _CACHE[key] = _load(path, rows)
        except Exception as err:  # noqa: BLE001 — a bad file leaves the map out, never the page
            log.exception("district boundaries %s could not be read", path)
            _CACHE[key] = MapLoad(
                None, f"区县边界文件 {path.name} 无法使用（{err}），不显示区县地图。"
            )
    return _CACHE[key]


def _load(path: Path, rows: list[dict[str, Any]]) -> MapLoad:
    if path.stat().st_size > MAX_BYTES:
        return MapLoad(
            None,
            f"区县边界文件 {path.name} 太大（超过 {MAX_BYTES // 1_000_000} MB），不显示区县地图。"
            "请只放本市区县一级的边界。",
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as err:
        return MapLoad(
            None,
            f"区县边界文件 {path.name} 不是有效的 GeoJSON（{err}），不显示区县地图。"
            "请保存为 UTF-8 编码的 GeoJSON。",
        )
    return match(data, rows, path)


def _code(value: Any) -> str | None:
    """adcode 330802 / "330802" / 330802000 → "330802" (9- and 12-digit codes → first 6)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    if not text.isdigit():
        return text or None
    return text[:6] if len(text) in (9, 12) else text


def _names(row: Mapping[str, Any]) -> set[str]:
    out = {str(row.get("district_name") or "").strip(), str(row.get("short_name") or "").strip()}
    out |= {a.strip() for a in str(row.get("aliases") or "").split("|")}
    return {n for n in out if n}


def match(data: Any, rows: list[dict[str, Any]], source: Path | str = "") -> MapLoad:
    """Match a parsed GeoJSON to the districts (see the module doc); every mismatch is named."""
    source = Path(source)
    file = source.name or "边界文件"
    features = data.get("features") if isinstance(data, dict) else None
    if not isinstance(features, list) or not features:
        return MapLoad(
            None,
            f"区县边界文件 {file} 不是 GeoJSON 要素集合（FeatureCollection，缺少 features），"
            f"不显示区县地图。{HOW_TO}。",
        )
    by_code = {str(r["district_code"]): r for r in rows}
    by_name: dict[str, str] = {}
    for r in rows:
        for n in _names(r):
            by_name.setdefault(n, str(r["district_code"]))
    found: dict[str, list[Polygon]] = {}
    extra: list[tuple[str | None, str | None]] = []
    problems: list[str] = []
    for i, feature in enumerate(features, start=1):
        props = (feature.get("properties") if isinstance(feature, dict) else None) or {}
        code = _code(props.get("adcode", props.get("district_code", props.get("code"))))
        name = str(props.get("name") or "").strip() or None
        target = code if code in by_code else (by_name.get(name) if code is None and name else None)
        if target is None:
            extra.append((code, name))
            continue
        named = by_name.get(name) if name else None
        if named is not None and named != target:
            problems.append(
                f"第 {i} 个要素的代码 {code} 是{by_code[target]['district_name']}，名称却是“{name}”"
                f"（districts.csv 中{name}的代码是 {named}）"
            )
            continue
        if target in found:
            problems.append(f"{by_code[target]['district_name']}（{target}）有不止一个要素")
            continue
        try:
            found[target] = _polygons(feature.get("geometry"))
        except ValueError as err:
            problems.append(f"{by_code[target]['district_name']}（{target}）的边界{err}")
    if not found and not problems:  # another city's file (or the wrong one): say so briefly
        return MapLoad(
            None,
            f"区县边界文件 {file} 中没有一个区县与区县目录 districts.csv 相符（代码和名称都对不上，"
            f"可能是别的城市的边界文件），不显示区县地图。{HOW_TO}。",
        )
    missing = [c for c in by_code if c not in found and not any(c in p for p in problems)]
    for code, name in extra:
        wanted = by_name.get(name) if name else None
        if wanted in missing:  # the right district under a wrong code
            problems.append(
                f"{name}的代码在边界文件中是 {code}，districts.csv 中是 {wanted}："
                f"请把该要素的 adcode 改为 {wanted}"
            )
            missing.remove(wanted)
        else:
            label = f"{name or '（无名称）'}（{code or '无代码'}）"
            problems.append(f"{label}不在区县目录 districts.csv 中")
    if missing:
        problems.append(
            "边界文件中没有" + "、".join(f"{by_code[c]['district_name']}（{c}）" for c in missing)
        )
    if problems:
        return MapLoad(
            None,
            f"区县边界文件 {file} 与区县目录不符，不显示区县地图：" + "；".join(problems) + "。"
            f"{HOW_TO}。",
        )
    order = [c for c in by_code if c in found]
    polygons = {c: found[c] for c in order}
    names = {c: str(by_code[c].get("district_name") or c) for c in order}
    centroids = {c: label_point(polygons[c]) for c in order}
    return MapLoad(Boundaries(source, polygons, names, centroids), None)


def _polygons(geometry: Any) -> list[Polygon]:
    if not isinstance(geometry, dict):
        raise ValueError("缺少 geometry")
    kind, coords = geometry.get("type"), geometry.get("coordinates")
    if kind == "Polygon":
        coords = [coords]
    elif kind != "MultiPolygon":
        raise ValueError(f"类型是 {kind}，应为 Polygon 或 MultiPolygon")
    out: list[Polygon] = []
    try:
        for poly in coords or ():
            rings = [np.asarray(ring, dtype=float)[:, :2] for ring in poly]
            if rings and len(rings[0]) >= 3 and np.isfinite(rings[0]).all():
                out.append(rings)
    except (TypeError, ValueError, IndexError):
        raise ValueError("坐标无法读取") from None
    if not out:
        raise ValueError("没有可用的多边形")
    return out


def ring_area_centroid(ring: Ring) -> tuple[float, tuple[float, float]]:
    """(|area|, centroid) of a closed or open ring by the shoelace formula."""
    x, y = ring[:, 0], ring[:, 1]
    x1, y1 = np.roll(x, -1), np.roll(y, -1)
    cross = x * y1 - x1 * y
    a = cross.sum() / 2.0
    if abs(a) < 1e-15:
        return 0.0, (float(x.mean()), float(y.mean()))
    cx = ((x + x1) * cross).sum() / (6.0 * a)
    cy = ((y + y1) * cross).sum() / (6.0 * a)
    return abs(float(a)), (float(cx), float(cy))


def contains(poly: Polygon, lon: float, lat: float) -> bool:
    """Point in polygon (even-odd over the outer ring and its holes)."""
    inside = False
    for ring in poly:
        x, y = ring[:, 0], ring[:, 1]
        x1, y1 = np.roll(x, -1), np.roll(y, -1)
        crosses = ((y > lat) != (y1 > lat)) & (
            lon < (x1 - x) * (lat - y) / np.where(y1 == y, 1e-300, y1 - y) + x
        )
        inside ^= bool(crosses.sum() % 2)
    return inside


def label_point(polys: list[Polygon]) -> tuple[float, float]:
    """Where a district's label goes: the centroid of its largest part when that lies inside,
    else the inside point of a horizontal scan through the centroid nearest to it."""
    biggest = max(polys, key=lambda p: ring_area_centroid(p[0])[0])
    _, (cx, cy) = ring_area_centroid(biggest[0])
    if contains(biggest, cx, cy):
        return cx, cy
    ring = biggest[0]
    x, y = ring[:, 0], ring[:, 1]
    x1, y1 = np.roll(x, -1), np.roll(y, -1)
    hit = (y > cy) != (y1 > cy)
    xs = np.sort((x1 - x)[hit] * (cy - y[hit]) / (y1 - y)[hit] + x[hit])
    best: tuple[float, float] | None = None
    for a, b in zip(xs[0::2], xs[1::2], strict=False):
        mid = (a + b) / 2
        if best is None or abs(mid - cx) < abs(best[0] - cx):
            best = (float(mid), cy)
    return best or (cx, cy)


# ── SVG (the LED draws the map as an SVG image) ─────────────────────────────────────────────────


@dataclass(frozen=True)
class Projected:
    width: float
    height: float
    paths: dict[str, str]  # district_code → SVG path data
    labels: dict[str, tuple[float, float]]  # district_code → x, y
    transform: tuple[float, float, float, float, float, float] = (0, 0, 1, 1, 0, 0)
    # lon0, lat1, k, scale, off_x, off_y: x = off_x + (lon - lon0)·k·scale, y = off_y + (lat1 - lat)·scale

    def unproject(self, x: float, y: float) -> tuple[float, float]:
        """lon, lat of a point of the box (a label moved apart, back on a lon/lat map)."""
        lon0, lat1, k, scale, off_x, off_y = self.transform
        return lon0 + (x - off_x) / (k * scale), lat1 - (y - off_y) / scale


def project(b: Boundaries, width: float, height: float, pad: float = 10.0) -> Projected:
    """Equirectangular projection (x scaled by cos of the mid latitude: true shapes at a city's
    scale) of the boundaries into a width × height box, centred, aspect kept."""
    lon0, lat0, lon1, lat1 = b.bbox()
    k = math.cos(math.radians((lat0 + lat1) / 2))
    span_x, span_y = max((lon1 - lon0) * k, 1e-9), max(lat1 - lat0, 1e-9)
    scale = min((width - 2 * pad) / span_x, (height - 2 * pad) / span_y)
    off_x = (width - span_x * scale) / 2
    off_y = (height - span_y * scale) / 2

    def xy(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return off_x + (lon - lon0) * k * scale, off_y + (lat1 - lat) * scale

    paths = {}
    for code, polys in b.polygons.items():
        parts = []
        for poly in polys:
            for ring in poly:
                px, py = xy(ring[:, 0], ring[:, 1])
                pts = " L".join(f"{a:.1f},{c:.1f}" for a, c in zip(px, py, strict=True))
                parts.append(f"M{pts}Z")
        paths[code] = "".join(parts)
    labels = {}
    for code, (lon, lat) in b.centroids.items():
        lx, ly = xy(np.array([lon]), np.array([lat]))
        labels[code] = (float(lx[0]), float(ly[0]))
    return Projected(width, height, paths, labels, (lon0, lat1, k, scale, off_x, off_y))


def spread_labels(
    points: dict[str, tuple[float, float]],
    box: tuple[float, float],
    width: float,
    height: float,
    rounds: int = 200,
) -> dict[str, tuple[float, float]]:
    """Label centres moved apart until no two `box` (w, h) rectangles overlap (a few districts
    are small and close, 柯城 beside 衢江); kept inside width × height. Deterministic."""
    codes = list(points)
    xy = np.array([points[c] for c in codes], dtype=float).reshape(-1, 2)
    w, h = box
    for _ in range(rounds):
        moved = False
        for i in range(len(codes)):
            for j in range(i + 1, len(codes)):
                dx, dy = xy[j] - xy[i]
                ox, oy = w - abs(dx), h - abs(dy)
                if ox <= 0 or oy <= 0:
                    continue
                moved = True
                if ox / w < oy / h:  # the smaller relative push
                    s = (ox / 2 + 0.5) * (1 if dx >= 0 else -1)
                    xy[i, 0] -= s
                    xy[j, 0] += s
                else:
                    s = (oy / 2 + 0.5) * (1 if dy >= 0 else -1)
                    xy[i, 1] -= s
                    xy[j, 1] += s
        xy[:, 0] = xy[:, 0].clip(w / 2, width - w / 2)
        xy[:, 1] = xy[:, 1].clip(h / 2, height - h / 2)
        if not moved:
            break
    return {c: (float(x), float(y)) for c, (x, y) in zip(codes, xy, strict=True)}
