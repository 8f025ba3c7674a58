"""挂图作战 (kpi.led.mapview, ui.led.maps) on the LED fixture: each district under its own score
and 红黄绿 (checked against overall_scores by a query of its own), the counts slot, the view left
out when the catalogue has no boundaries, and the 近30天 line under the quarter's 翻牌器."""

from __future__ import annotations

import base64
import datetime as dt
import re

import duckdb
import pandas as pd
import pytest

from kpi import store
from kpi.led import board as led_board
from kpi.led import live
from kpi.led import rotation as led
from tests.fixtures.led_fixture import build_led_snapshot
from ui.led import maps, style, widgets

NOW = dt.datetime(2026, 10, 20, 9, 0)


@pytest.fixture
def snapshot(isolated_data_dir):
    """The LED fixture, its 综合指数 given 红黄绿 (the fixture leaves them empty) so that every
    colour occurs: ≥ 80 green, ≥ 70 amber, else red."""
    path = build_led_snapshot(isolated_data_dir)
    con = duckdb.connect(str(path))
    try:
        con.execute(
            "UPDATE overall_scores SET rag = CASE WHEN score >= 80 THEN 'green' "
            "WHEN score >= 70 THEN 'amber' ELSE 'red' END WHERE NOT is_city"
        )
    finally:
        con.close()
    return path


def _expected(snapshot) -> pd.DataFrame:
    con = store.connect_snapshot(snapshot)
    try:
        return con.execute(
            """SELECT o.district_code, d.short_name, o.score, o.rank, o.rag, o.n_red
               FROM overall_scores o JOIN districts d USING (district_code)
               WHERE o.period = '2026Q3' AND NOT o.is_city ORDER BY o.rank"""
        ).df()
    finally:
        con.close()


def _svg(body: str) -> str:
    uri = re.search(r'<img alt="区县地图" src="data:image/svg\+xml;base64,([^"]+)"', body)
    assert uri, "no map image"
    return base64.b64decode(uri.group(1)).decode("utf-8")


def test_each_district_under_its_score_and_colour(snapshot):
    board = led_board.load_board(snapshot, NOW)
    assert board.boundaries.problem is None
    assert "map" in board.view_keys()
    v = board.view("map")
    assert v.title == "挂图作战 · 区县综合指数" and v.map is not None
    want = _expected(snapshot)
    assert set(want["rag"]) == {"green", "amber", "red"}
    got = [(d.code, d.name, d.score, d.rank, d.rag, d.n_red) for d in v.map.districts]
    assert got == [tuple(r) for r in want.itertuples(index=False)]
    svg = _svg(widgets.view_body(v, 0.0))
    for r in want.itertuples():
        # the district's path is filled with its RAG colour …
        path = re.search(rf'<path d="[^"]+" fill="([^"]+)"[^>]*data-code="{r.district_code}"', svg)
        assert path and path.group(1) == style.RAG_BG[r.rag], r.district_code
        # … and its label reads its name with its own score right under it
        label = re.search(rf">{r.short_name}</text><text [^>]*>([0-9.]+)</text>", svg)
        assert label and label.group(1) == f"{r.score:.1f}", r.short_name
    assert v.map.count_headings == []  # no 督办 data: no columns, no made-up zeros
    assert "清障" not in widgets.view_body(v, 0.0)


def test_counts_plug_in_per_district(snapshot):
    board = led_board.load_board(snapshot, NOW)
    board.map_counts = pd.DataFrame(
        {"district_code": ["330802", "330824"], "problems_open": [3, 11], "tasks_open": [0, 4]}
    )
    v = board.view("map")
    assert v.map.count_headings == ["清障未解决", "督办在办"]
    by = {d.code: d.counts for d in v.map.districts}
    assert by["330824"] == {"清障未解决": 11, "督办在办": 4}
    assert by["330803"] == {"清障未解决": None, "督办在办": None}  # not given: —, not 0
    body = widgets.view_body(v, 0.0)
    row = re.search(r'<div class="r" [^>]*data-code="330824">(.*?)</div>', body).group(1)
    assert row.endswith("<span>11</span><span>4</span>")


def test_no_boundary_file_leaves_the_map_out(snapshot, tmp_path, monkeypatch):
    monkeypatch.setenv("BIZENV_CATALOG_DIR", str(tmp_path))  # a catalogue without a GeoJSON
    board = led_board.load_board(snapshot, NOW)
    assert "没有区县边界文件" in board.boundaries.problem
    assert "map" not in board.view_keys() and "overview" in board.view_keys()
    assert not board.view("map").has_data


def test_the_screen_renders_the_map_view(snapshot, monkeypatch):
    from ui.led import screen

    monkeypatch.setattr(led, "now_local", lambda: NOW)
    top, body = screen._render(led.LedOptions(views=("map",)))
    assert 'data-view="map"' in body and "区县综合指数 · 排名" in body
    assert "挂图作战" in body


def test_recent_line_under_the_quarters_counter(snapshot):
    board = led_board.load_board(snapshot, NOW)
    assert board.recent == []  # a snapshot without the figures: no line
    assert 'data-testid="led-recent"' not in widgets.view_body(board.view("overview"), 0.0)
    board = led_board.load_board(snapshot, NOW)
    board.recent = [
        live.Recent(
            "hotline_resolution_rate",
            "企业诉求解决率",
            "%",
            97.04,
            98,
            101,
            "2026-10-19",
            "2026-09-20",
        )
    ]
    body = widgets.view_body(board.view("overview"), 0.0)
    tile = re.search(
        r'<div class="led-kpi[^"]*" data-label="企业诉求解决率".*?</div></div>', body
    ).group(0)
    assert "live" in tile and "近30天 <b>97.0%</b> 截至10-19" in tile
    assert 'data-value="96.2"' in tile  # the quarter's figure stays the big one
    assert maps.CSS and "led-kpi.live" in maps.CSS
