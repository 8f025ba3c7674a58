"""AppTest of every dashboard page on the fixture snapshot (tests/fixtures/snapshot_fixture.py).

Expected numbers are worked out by hand from the fixture's VALUES table and its documented rules
(DTF bounds, equal weights, city value = mean of the districts), never read from the pages' code.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from streamlit.proto.Metric_pb2 import Metric
from streamlit.testing.v1 import AppTest

from tests.fixtures.snapshot_fixture import build_fixture_snapshot

DASHBOARD = str(Path(__file__).resolve().parents[1] / "dashboard.py")


@pytest.fixture
def snapshot(fixture_snapshot_dir, monkeypatch):
    """The session's fixture snapshot (read-only), as the app's data dir for this test."""
    from kpi import settings, store

    monkeypatch.setenv("BIZENV_DATA_DIR", str(fixture_snapshot_dir))
    return store.current_snapshot_path(settings.DataDir.of(fixture_snapshot_dir))


def open_page(page: str | None = None, **params: str) -> AppTest:
    at = AppTest.from_file(DASHBOARD, default_timeout=30)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metrics(at: AppTest) -> dict[str, tuple[str, str, int]]:
    return {m.label: (m.value, m.proto.delta, m.proto.color) for m in at.metric}


# Read-only tables carry no widget key in AppTest; they are found by a column only they have.
SIGNATURE = {
    "benchmark": "距先进值",
    "definitions": "最优值",
    "trend_table": "季度",
    "records_table": ("工单编号", "办件编号", "评价编号"),
    "quarantine": "文件数",
    "loads": "导入时间",
    "rows_per_source": "办件",
}


def table(at: AppTest, key: str):
    for df in at.dataframe:
        if df.key == key or (df.key or "").startswith(key + "__"):  # keys that carry a state
            return df.value
    wanted = SIGNATURE[key]
    wanted = (wanted,) if isinstance(wanted, str) else wanted
    return next(
        df.value for df in at.dataframe if df.key is None and set(wanted) & set(df.value.columns)
    )


def markdown_text(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


# ── 总览 ──────────────────────────────────────────────────────────────────────────────────────


def test_overview_defaults_to_latest_complete_quarter_with_city_cards(snapshot):
    at = open_page()
    assert at.selectbox(key="period").value == "2026Q3"
    assert at.query_params["period"] == ["2026Q3"] or at.query_params["period"] == "2026Q3"
    m = metrics(at)
    # city overall 2026Q3: domains 73.07 (政务服务), 74.07 (开办企业), 66.67 (登记财产) → 71.27
    assert m["综合指数"][0] == "71.3"
    # 诉求解决率: city = mean(96, 92, 82) = 90.0; 2026Q2 mean(94, 84, 91) = 89.67 → +0.3, better
    assert m["企业诉求解决率"][:2] == ("90.0%", "▲ +0.3 个百分点")
    assert m["企业诉求解决率"][2] == Metric.GREEN
    # 平均办理用时 (lower is better): mean(2.0, 3.1, 5.8) = 3.63, was mean(2.2, 4.4, 3.0) = 3.2 → worse
    assert m["平均办理用时"][:2] == ("3.6", "▲ +0.4 个工作日")
    assert m["平均办理用时"][2] == Metric.RED
    # 好评率 fell: mean(99.6, 98.5, 94) = 97.37 vs mean(99.4, 97, 98.5) = 98.3 → -0.9, worse
    assert m["好评率"][:2] == ("97.4%", "▼ -0.9 个百分点")
    ranking = table(at, "overall_rank")
    assert list(ranking["区县"]) == ["柯城区", "衢江区", "常山县"]
    # 柯城区: (89.88 + 91.11 + 83.33) / 3 = 88.11
    assert list(ranking["综合指数"]) == [88.1, 75.7, 52.8]
    assert list(ranking["名次变化"]) == ["–", "▲1", "▼1"]
    text = markdown_text(at)
    assert "进步榜" in text and "衢江区" in text and "退步榜" in text and "常山县" in text
    assert "骏马" not in text and "蜗牛" not in text  # those are the awards to units (issue 13)


def test_overview_period_switch_updates_ranking_and_url(snapshot):
    at = open_page()
    at.selectbox(key="period").select("2026Q2").run()
    assert not at.exception
    assert at.query_params["period"] in ("2026Q2", ["2026Q2"])
    ranking = table(at, "overall_rank")
    # 2026Q2: 柯城 85.67, 常山 76.15, 衢江 62.33
    assert list(ranking["区县"]) == ["柯城区", "常山县", "衢江区"]
    assert list(ranking["综合指数"]) == [85.7, 76.1, 62.3]


def test_overview_partial_quarter_is_labelled_and_not_awarded(snapshot):
    at = open_page(period="2026Q4")
    box = at.selectbox(key="period")
    assert box.value == "2026Q4"
    assert "2026Q4（进行中）" in box.options
    assert any("进行中" in c.value for c in at.caption)


def test_overview_says_what_an_in_progress_quarter_leaves_out(snapshot):
    at = open_page(period="2026Q4")
    note = next(i.value for i in at.info if "进行中的季度" in i.value)
    assert note.startswith("2026Q4 是进行中的季度（数据截至 2026-11-19 17:45）")
    assert "不计算环比、同比和名次变化" in note and "请选 2026Q3" in note
    at = open_page(period="2026Q2")
    assert not any("进行中的季度" in i.value for i in at.info)


def test_overview_oldest_quarter_is_not_called_in_progress(snapshot):
    at = open_page(period="2025Q4")  # the fixture's first quarter: complete, nothing before it
    # the movers' rule (kpi.read.movers.RULE_TEXT) mentions in-progress quarters in general;
    # no caption may say that this quarter is one
    text = [c.value for c in at.caption if "进行中的季度不评选。" not in c.value]
    assert not any("进行中" in t for t in text)
    assert (
        text.count("没有可比的上一季度（快照中最早的季度，或上一季度没有数据），本季度不评选。")
        == 2
    )


def test_overview_says_when_the_ranking_rests_on_fewer_domains(snapshot):
    at = open_page()  # 2026Q3: 常山县's 登记财产 is not scored (n = 3 < 5), so its index has 2 of 3
    warn = [w.value for w in at.warning]
    assert any(
        w.startswith("本季度部分区县的综合指数依据的指标领域少于以往完整季度的 3 个：常山县 2 个")
        for w in warn
    ), warn
    # and why its heatmap cell is —: the fixture's reason for the domain
    assert "“—”为本季度不评分的领域：登记财产：常山县（可评分指标权重不足一半）。" in [
        c.value for c in at.caption
    ]
    at = open_page(period="2026Q2")  # every district on all three domains: nothing to say
    assert not at.warning
    assert not any("不评分的领域" in c.value for c in at.caption)


def test_overview_ranking_click_opens_district_profile(snapshot):
    at = open_page()
    at.session_state["overall_rank"] = {"selection": {"rows": [2], "columns": [], "cells": []}}
    at.run()
    assert not at.exception
    assert at.query_params["district"] in ("330822", ["330822"])
    assert [t.value for t in at.title] == ["区县画像"]
    assert metrics(at)["综合排名（共 3 个区县）"][0] == "第3名"


def test_overview_heatmap_cell_opens_domain(snapshot):
    at = open_page()
    heat = table(at, "heatmap")
    assert list(heat.columns) == ["指标领域", "全市", "柯城区", "衢江区", "常山县"]
    assert list(heat["指标领域"]) == ["开办企业", "登记财产", "政务服务"]  # D01, D08, D17
    assert heat.loc[0, "柯城区"] == 91.1  # (5 − 0.9) / 4.5 × 100
    at.session_state["heatmap"] = {
        "selection": {"rows": [], "columns": [], "cells": [(0, "常山县")]}
    }
    at.run()
    assert not at.exception
    assert [t.value for t in at.title] == ["指标领域"]
    assert at.query_params["domain"] in ("starting_business", ["starting_business"])
    assert at.selectbox(key="domain").value == "starting_business"
    assert at.query_params["district"] in ("330822", ["330822"])


# ── 区县画像 ──────────────────────────────────────────────────────────────────────────────────


def test_district_profile_numbers_and_benchmark(snapshot):
    at = open_page("pages/district.py", district="330822")
    m = metrics(at)
    assert m["综合指数"][0] == "52.8"  # (52.33 + 53.33) / 2: 登记财产 not scored (n = 3)
    assert m["红色指标"][0] == "5 项"
    bm = table(at, "benchmark")
    row = bm[bm["指标"] == "全程网办率"].iloc[0]
    # 常山县 58.0 vs best 柯城区 88.0 (gap 30.0); 先进值 85 → 27.0 to go
    assert (
        row["本区县值"],
        row["最优区县"],
        row["最优值"],
        row["与最优差距"],
        row["距先进值"],
    ) == (58.0, "柯城区", 88.0, 30.0, 27.0)
    row = bm[bm["指标"] == "平均办理用时"].iloc[0]  # lower is better: 5.8 → best 2.0, 先进值 2.0
    assert (row["与最优差距"], row["距先进值"]) == (3.8, 3.8)
    assert "不动产登记平均用时" not in set(bm["指标"])  # not scored: not on the list


def cell_colours(at: AppTest, signature: str) -> dict[tuple[int, str], str]:
    """(row, column) → text colour of a Styler table on the page (from the CSS Streamlit sends)."""
    df = next(d for d in at.dataframe if signature in d.value.columns)
    cols = list(df.value.columns)
    out = {}  # pandas writes one rule per style: "#T_x_row0_col7, #T_x_row1_col7 { color: … }"
    for selectors, colour in re.findall(
        r"([^{}]+)\{ color: (#[0-9a-f]{6})", df.proto.arrow_data.styler.styles
    ):
        for r, c in re.findall(r"row(\d+)_col(\d+)", selectors):
            out[(int(r), cols[int(c)])] = colour
    return out


def test_benchmark_never_names_the_district_itself(snapshot):
    # 柯城区 2026Q3: green everywhere but 不动产登记平均用时 2.5 (先进值 1.0, 预警值 5.0 → amber),
    # where it ranks first (衢江区 3.5; 常山县 not scored): no other district to learn from
    at = open_page("pages/district.py", district="330802")
    bm = table(at, "benchmark")
    assert list(bm["指标"]) == ["不动产登记平均用时"]
    r = bm.iloc[0]
    assert (r["本区县值"], r["排名"], r["最优区县"], r["距先进值"]) == (2.5, 1, "本区县即最优", 1.5)
    assert pd.isna(r["最优值"]) and pd.isna(r["与最优差距"])
    assert "柯城区" not in set(bm["最优区县"])
    caption = next(c.value for c in at.caption if "对标" in c.value or "先进值" in c.value)
    assert "并列第一时取行政区划代码最小者" in caption and "只与先进值比较" in caption


def test_benchmark_grade_dots_are_coloured(snapshot):
    # 常山县 2026Q3: 解决率 82, 满意率 84, 好评率 94, 用时 5.8, 网办率 58 are worse than 预警值
    # (red); 企业开办用时 2.6 is between 先进值 1.0 and 预警值 3.0 (amber)
    at = open_page("pages/district.py", district="330822")
    bm = table(at, "benchmark")
    grades = dict(zip(bm["指标"], bm["等级"], strict=True))
    assert grades == {
        "企业诉求解决率": "● 红",
        "满意率": "● 红",
        "好评率": "● 红",
        "平均办理用时": "● 红",
        "全程网办率": "● 红",
        "企业开办平均用时": "● 黄",
    }
    colours = cell_colours(at, "距先进值")
    for i, grade in enumerate(bm["等级"]):
        assert colours[(i, "等级")] == {"● 红": "#cf222e", "● 黄": "#9a6700"}[grade]


def test_district_profile_without_a_previous_rank(snapshot):
    """The oldest quarter has nothing before it: no rank change, shown as "—" in grey, not a
    crash (the engine also leaves it empty for a 进行中 quarter: tests/test_page_sweep.py)."""
    at = open_page("pages/district.py", period="2025Q4", district="330803")
    label = "综合排名（共 3 个区县）"
    assert metrics(at)[label][1:] == ("—", Metric.GRAY)


def _plotly_array(v) -> list:
    """Plotly's JSON writes numeric arrays as {"dtype", "bdata"} (base64): decode them."""
    import base64

    import numpy as np

    if isinstance(v, dict) and "bdata" in v:
        return list(np.frombuffer(base64.b64decode(v["bdata"]), dtype=v["dtype"]))
    return list(v)


def test_district_chart_labels_sit_clear_of_the_markers(snapshot):
    """The scores are a column of their own right of 100 (the 全市 line and the 最优 diamond, both
    ≤ 100, sat on the digits at the bar's end); the rank label is right of the last point."""
    import plotly.io

    at = open_page("pages/district.py", district="330803")
    bars, ranks = (plotly.io.from_json(c.proto.spec) for c in at.get("plotly_chart"))
    text = next(t for t in bars.data if getattr(t, "mode", None) == "text")
    # 衢江区 2026Q3, domains bottom-up (D17, D08, D01): 77.0, 72.2 ((10 − 3.5)/9), 77.8
    assert list(text.text) == ["77.0", "72.2", "77.8"]
    assert set(text.x) == {111}
    markers = [
        x
        for t in bars.data
        if getattr(t, "mode", None) != "text"
        for x in _plotly_array(t.x)
        if not pd.isna(x)
    ]
    assert max(markers) <= 100
    assert bars.layout.xaxis.range[1] > 111
    [line] = ranks.data
    assert line.textposition == "middle right" and line.cliponaxis is False
    assert line.text[-1] == "第2名" and not any(line.text[:-1])


def test_district_switch_by_widget(snapshot):
    at = open_page("pages/district.py", district="330822")
    at.selectbox(key="district").select("330803").run()
    assert not at.exception
    assert at.query_params["district"] in ("330803", ["330803"])
    assert metrics(at)["综合指数"][0] == "75.7"
    assert metrics(at)["综合排名（共 3 个区县）"][0] == "第2名"


def test_district_weak_indicator_drills_to_records(snapshot):
    at = open_page("pages/district.py", district="330802")
    weak = table(at, "weak_indicators")
    # 柯城区's lowest score: 全程网办率 (88 − 40) / 60 = 80.0
    assert weak.iloc[0]["指标"] == "全程网办率" and weak.iloc[0]["得分"] == 80.0
    at.session_state["weak_indicators"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    assert not at.exception
    assert [t.value for t in at.title] == ["明细"]
    assert at.selectbox(key="source").value == "approvals"
    # 全程网办率 = 已办结 approvals of any domain: all four of 柯城区's in 2026Q3, not just 政务服务
    assert at.selectbox(key="domain_locked").disabled
    assert sorted(table(at, "records_table")["办件编号"]) == [
        "BJ2026070001",
        "BJ2026070002",
        "BJ2026070003",
        "BJ2026070004",
    ]


# ── 指标领域 ──────────────────────────────────────────────────────────────────────────────────


def test_domains_ranking_indicators_and_definitions(snapshot):
    at = open_page("pages/domains.py", domain="government_services")
    rank = table(at, "domain_rank")
    assert list(rank["区县"]) == ["全市", "柯城区", "衢江区", "常山县"]
    assert list(rank["领域得分"]) == [73.1, 89.9, 77.0, 52.3]
    rows = table(at, "indicator_rows")
    r = rows[(rows["指标"] == "满意率") & (rows["区县"] == "常山县")].iloc[0]
    assert (r["指标值"], r["样本量"], r["得分"], r["等级"]) == ("84.0%", 60, 60.0, "● 红")
    defs = table(at, "definitions")
    assert "企业诉求解决率" in set(defs["指标"])  # from metrics.yaml (the headline keys match)


def test_domains_unscored_indicator_shown_with_reason(snapshot):
    at = open_page("pages/domains.py", domain="property_registration")
    rows = table(at, "indicator_rows")
    r = rows[rows["区县"] == "常山县"].iloc[0]
    assert r["样本量"] == 3 and "样本量不足" in r["说明"]
    assert rows[rows["区县"] == "常山县"]["得分"].isna().all()


def test_domains_switch_and_indicator_row_drills_to_records(snapshot):
    at = open_page("pages/domains.py", domain="government_services")
    at.selectbox(key="domain").select("starting_business").run()
    rank = table(at, "domain_rank")
    assert list(rank["领域得分"]) == [74.1, 91.1, 77.8, 53.3]
    at.session_state["indicator_rows"] = {"selection": {"rows": [1], "columns": [], "cells": []}}
    at.run()
    assert [t.value for t in at.title] == ["明细"]
    assert at.selectbox(key="district").value == "330802"
    # no metrics.yaml filter for the fixture-only key: falls back to the domain and says so
    assert any("未取到该指标" in i.value for i in at.info)
    assert table(at, "records_table")["办件编号"].tolist() == ["BJ2026070003"]


# ── 趋势分析 ──────────────────────────────────────────────────────────────────────────────────


def test_trends_indicator_lines_with_partial_marked(snapshot):
    at = open_page("pages/trends.py", level="indicator", indicator="approval_avg_workdays")
    t = table(at, "trend_table")
    assert list(t["季度"]) == ["2025Q4", "2026Q1", "2026Q2", "2026Q3", "2026Q4（进行中）"]
    assert list(t["柯城区"]) == [2.5, 2.4, 2.2, 2.0, 2.1]
    assert t["全市"].iloc[3] == 3.6  # mean(2.0, 3.1, 5.8)
    assert len(at.get("plotly_chart")) == 1


def test_trends_overall_default_and_level_switch(snapshot):
    at = open_page("pages/trends.py")
    t = table(at, "trend_table")
    assert t["柯城区"].iloc[3] == 88.1
    at.selectbox(key="level").select("domain").run()
    assert not at.exception
    at.selectbox(key="domain").select("government_services").run()
    assert table(at, "trend_table")["常山县"].iloc[3] == 52.3


def _chart(at: AppTest) -> dict:
    import json

    charts = at.get("plotly_chart")
    assert len(charts) == 1
    return json.loads(charts[0].proto.spec)


def _trace(fig: dict, name: str) -> dict:
    """A trace by name, its y as a list with None for NaN (plotly sends numbers as typed arrays)."""
    import base64

    import numpy as np

    t = dict(next(t for t in fig["data"] if t["name"] == name))
    y = t["y"]
    if isinstance(y, dict):
        y = np.frombuffer(base64.b64decode(y["bdata"]), dtype=y["dtype"]).tolist()
    t["y"] = [None if v != v else v for v in y]
    return t


def test_trends_quarter_on_quarter_plots_and_tables_changes(snapshot):
    at = open_page(
        "pages/trends.py", level="indicator", indicator="approval_avg_workdays", mode="环比"
    )
    assert at.segmented_control(key="mode").value == "环比"
    t = table(at, "trend_table")
    assert list(t["季度"]) == ["2025Q4", "2026Q1", "2026Q2", "2026Q3", "2026Q4（进行中）"]
    # 柯城区 2.5 → 2.4 → 2.2 → 2.0 working days; 2026Q4 is in progress: no 环比
    assert t["柯城区"].tolist()[1:4] == [-0.1, -0.2, -0.2]
    assert t["柯城区"].isna().tolist() == [True, False, False, False, True]
    # 常山县 3.0 → 5.8 in 2026Q3: +2.8; city mean(2.0, 3.1, 5.8) − mean(2.2, 4.4, 3.0) = +0.43
    assert t["常山县"].iloc[3] == 2.8 and t["全市"].iloc[3] == 0.4
    y = _trace(_chart(at), "柯城区")["y"]  # the chart shows what the table shows
    assert y[0] is None and y[4] is None
    assert [round(v, 1) for v in y[1:4]] == [-0.1, -0.2, -0.2]


def test_trends_time_axis_keeps_a_missing_quarter_as_a_gap(isolated_data_dir):
    from kpi import store

    build_fixture_snapshot(isolated_data_dir)
    con = store.connect_warehouse(isolated_data_dir)
    for t in ("indicator_scores", "domain_scores", "overall_scores", "periods"):
        con.execute(f"DELETE FROM {t} WHERE period = '2026Q1'")  # nothing loaded for 2026Q1
    con.close()
    store.publish_snapshot(isolated_data_dir)
    at = open_page("pages/trends.py", level="indicator", indicator="approval_avg_workdays")
    t = table(at, "trend_table")
    assert list(t["季度"]) == ["2025Q4", "2026Q1", "2026Q2", "2026Q3", "2026Q4（进行中）"]
    assert t["柯城区"].isna().tolist() == [False, True, False, False, False]
    fig = _chart(at)
    assert fig["layout"]["xaxis"]["type"] == "date"
    trace = _trace(fig, "柯城区")
    assert trace["y"][1] is None and trace["connectgaps"] is False  # the line breaks there
    # the middle day of each quarter: 2025-11-15 12:00, 2026-02-14 12:00 (2026Q1 still on the axis)
    assert [x[:10] for x in trace["x"][:2]] == ["2025-11-15", "2026-02-14"]
    assert fig["layout"]["xaxis"]["ticktext"][1] == "2026Q1"


# ── 明细 ──────────────────────────────────────────────────────────────────────────────────────


def test_records_use_the_indicator_filter_and_search(snapshot):
    at = open_page(
        "pages/records.py",
        period="2026Q3",
        district="330802",
        source="hotline",
        indicator="hotline_resolution_rate",
    )
    rec = table(at, "records_table")
    # 柯城区 has four tickets in 2026Q3; GD…0104 was never asked whether resolved (not in the
    # denominator of 解决率), and GD…0103 is a 咨询 — 解决率 counts 诉求 only (issue 13) — so the
    # drill-down shows the two behind the value
    assert sorted(rec["工单编号"]) == ["GD202607000101", "GD202607000102"]
    assert any("计入分母" in i.value for i in at.info)
    assert "caller_hash" not in rec.columns and "来电号码" not in rec.columns
    at.text_input(key="q").input("社保").run()
    assert table(at, "records_table")["工单编号"].tolist() == ["GD202607000101"]


def test_records_domain_filter_and_district_switch(snapshot):
    at = open_page(
        "pages/records.py",
        period="2026Q3",
        district="330802",
        source="approvals",
        domain="government_services",
    )
    assert sorted(table(at, "records_table")["办件编号"]) == ["BJ2026070001", "BJ2026070002"]
    at.selectbox(key="district").select("330822").run()
    assert table(at, "records_table")["办件编号"].tolist() == ["BJ2026070007"]
    at.selectbox(key="period").select("2026Q2").run()
    assert table(at, "records_table").empty


def test_records_without_indicator_show_every_ticket(snapshot):
    at = open_page("pages/records.py", period="2026Q3", district="330802", source="hotline")
    assert len(table(at, "records_table")) == 4
    assert metrics(at)["记录数"][0] == "4"


def test_records_sort_by_any_column_over_the_whole_filtered_set(snapshot):
    at = open_page(
        "pages/records.py", period="2026Q3", source="approvals", sort="workdays_used", order="desc"
    )
    assert at.selectbox(key="sort").value == "workdays_used"
    ids = table(at, "records_table")["办件编号"].tolist()
    # 办理用时 7 (BJ…0007), 6 (…0008), 3 (…0005), then 2, 2 and 1, 1, 1 (ties by 办件编号)
    assert ids == [f"BJ202607000{i}" for i in (7, 8, 5, 2, 4, 1, 3, 6)]
    at.selectbox(key="order").select("asc").run()
    assert at.query_params["order"] in ("asc", ["asc"])
    assert table(at, "records_table")["办件编号"].tolist()[:3] == [
        "BJ2026070001",
        "BJ2026070003",
        "BJ2026070006",
    ]


def test_records_header_click_sorts_all_records_and_again_reverses(snapshot):
    at = open_page("pages/records.py", period="2026Q3", source="approvals")
    header = {"selection": {"rows": [], "columns": ["办理用时（工作日）"], "cells": []}}
    at.session_state["records_table__completed_at_desc"] = header
    at.run()
    assert not at.exception
    assert (at.selectbox(key="sort").value, at.selectbox(key="order").value) == (
        "workdays_used",
        "desc",
    )
    assert table(at, "records_table")["办件编号"].tolist()[:2] == ["BJ2026070007", "BJ2026070008"]
    at.session_state["records_table__workdays_used_desc"] = header  # the same header again
    at.run()
    assert at.selectbox(key="order").value == "asc"
    assert at.query_params["order"] in ("asc", ["asc"])
    assert table(at, "records_table")["办件编号"].tolist()[0] == "BJ2026070001"


def _more_approvals(data_dir, n: int) -> None:
    """n more 2026Q3 approvals for 柯城区 (ids BJX…), republished."""
    from kpi import store

    con = store.connect_warehouse(data_dir)
    con.execute(
        """INSERT INTO approvals (case_id, district_code, domain_key, accepted_at, completed_at,
                                  workdays_used, period)
           SELECT 'BJX' || lpad(i::VARCHAR, 6, '0'), '330802', 'government_services',
                  TIMESTAMP '2026-07-01 09:00', TIMESTAMP '2026-07-02 09:00', 1, '2026Q3'
           FROM range(?) t(i)""",
        [n],
    )
    con.close()
    store.publish_snapshot(data_dir)


def test_records_count_is_exact_and_the_download_cap_is_stated(isolated_data_dir, monkeypatch):
    build_fixture_snapshot(isolated_data_dir)
    _more_approvals(isolated_data_dir, 10_066)  # + the fixture's 8 in 2026Q3 = 10,074
    at = open_page("pages/records.py", period="2026Q3", source="approvals")
    assert metrics(at)["记录数"][0] == "10,074"  # not 1.0万
    assert any(
        c.value == "下载最多 200,000 行；当前筛选共 10,074 行，全部在下载中。" for c in at.caption
    )

    from kpi.read import queries

    monkeypatch.setattr(queries, "RECORDS_DOWNLOAD_LIMIT", 10_000)
    at = open_page("pages/records.py", period="2026Q3", source="approvals")
    assert any(
        c.value.startswith(
            "下载最多 10,000 行；当前筛选共 10,074 行，下载只含按当前排序的前 10,000 行"
        )
        and "其余 74 行" in c.value
        for c in at.caption
    )


def test_records_show_the_hotline_content_early_and_wide(snapshot):
    import json

    at = open_page("pages/records.py", period="2026Q3", district="330802", source="hotline")
    grid = next(df for df in at.dataframe if "工单编号" in df.value.columns)
    order = list(grid.proto.column_order)
    assert order.index("诉求内容（已脱敏）") <= 3  # on screen without scrolling sideways
    config = json.loads(grid.proto.columns)
    assert config["诉求内容（已脱敏）"]["width"] >= 500  # px: about 40 characters


# ── 数据 ──────────────────────────────────────────────────────────────────────────────────────


def test_data_status_shows_freshness_loads_and_quarantine(snapshot):
    at = open_page("pages/data_status.py")
    text = markdown_text(at)
    assert "数据截至 2026-11-19 17:45 · 更新于 2026-11-20 08:30" in text
    q = table(at, "quarantine")
    # grouped by the rule; the offending value after "：" is each example row's own
    assert dict(zip(q["原因"], q["行数"], strict=False)) == {
        "办结时间早于受理时间": 2,
        "无法识别的区县": 1,
    }
    loads = table(at, "loads")
    assert len(loads) == 4 and "拒收" in set(loads["状态"])
    rows = table(at, "rows_per_source")
    assert rows.set_index("季度").loc["2026Q3", "办件"] == 8
    assert any("已知的节假日日历" in s.value for s in at.success)


# ── no snapshot ───────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    "page",
    [
        "pages/overview.py",
        "pages/domains.py",
        "pages/district.py",
        "pages/trends.py",
        "pages/records.py",
        "pages/data_status.py",
    ],
)
def test_pages_without_snapshot_say_so(page, monkeypatch):
    import etl.bootstrap

    monkeypatch.setattr(
        etl.bootstrap, "ensure_demo_snapshot", lambda progress=None, data_dir=None: None
    )
    at = AppTest.from_file(DASHBOARD, default_timeout=30)
    at.run()
    at.switch_page(page)
    at.run()
    assert not at.exception
    assert any("还没有数据快照" in i.value for i in at.info)


# ── a bad deep link ───────────────────────────────────────────────────────────────────────────


def open_directly(page: str, **params: str) -> AppTest:
    """Open `page` as a bookmark does: the page itself is the first run, with its URL parameters."""
    at = AppTest.from_file(DASHBOARD, default_timeout=30)
    for k, v in params.items():
        at.query_params[k] = v
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_bad_period_and_district_in_the_url_are_named(snapshot):
    at = open_directly("pages/district.py", period="2030Q1", district="999999")
    # 2026Q3 is the fixture's latest complete quarter; 柯城区 330802 is the first district
    assert [w.value for w in at.warning] == [
        "网址中的季度 2030Q1 没有数据，显示的是 2026Q3。",
        "网址中的区县 999999 没有数据，显示的是 柯城区。",
    ]
    assert metrics(at)["综合排名（共 3 个区县）"][0] == "第1名"  # 柯城区 2026Q3, as the notice says
    assert at.query_params["period"] in ("2026Q3", ["2026Q3"])  # the URL now names what is shown
    assert at.query_params["district"] in ("330802", ["330802"])
    at.run()  # the corrected URL is valid: the notice was for the bad link only
    assert not at.warning


def test_bad_domain_in_the_url_is_named(snapshot):
    at = open_directly("pages/domains.py", period="2026Q2", domain="no_such_domain")
    assert [w.value for w in at.warning] == [
        "网址中的指标领域 no_such_domain 没有数据，显示的是 开办企业。"
    ]
    assert at.selectbox(key="domain").value == "starting_business"
    assert at.selectbox(key="period").value == "2026Q2"  # the valid part of the link is kept


def test_valid_deep_link_has_no_notice(snapshot):
    at = open_directly("pages/district.py", period="2026Q2", district="330822")
    assert not at.warning
    assert at.selectbox(key="district").value == "330822"


# ── state across pages, YoY, calendar warning, marts missing ─────────────────────────────────


def test_chosen_quarter_survives_navigation_without_query_params(snapshot):
    at = open_page()
    at.selectbox(key="period").select("2026Q2").run()
    at.switch_page("pages/district.py")
    for k in list(at.query_params):  # the sidebar menu drops query parameters
        del at.query_params[k]
    at.run()
    assert not at.exception
    assert at.selectbox(key="period").value == "2026Q2"
    assert at.query_params["period"] in ("2026Q2", ["2026Q2"])


def test_trends_year_over_year_never_compares_the_partial_quarter(snapshot):
    at = open_page("pages/trends.py", level="indicator", indicator="approval_avg_workdays")
    at.segmented_control(key="mode").set_value("同比").run()
    assert not at.exception
    assert at.query_params["mode"] in ("同比", ["同比"])
    # the only quarter with one a year before is 2026Q4 (2025Q4), and it is in progress: no
    # comparable pair, so no chart and no table — a message instead of an empty axis
    assert len(at.get("plotly_chart")) == 0
    assert any(i.value.startswith("暂无同比数据") for i in at.info)
    assert not any("季度" in df.value.columns for df in at.dataframe)


def test_data_status_warns_about_unknown_calendar(isolated_data_dir):
    from kpi import store

    build_fixture_snapshot(isolated_data_dir)
    con = store.connect_warehouse(isolated_data_dir)
    con.execute("UPDATE calendar SET known = false WHERE day >= DATE '2026-12-01'")
    con.execute("UPDATE approvals SET calendar_known = false WHERE case_id = 'BJ2026070001'")
    con.close()
    store.publish_snapshot(isolated_data_dir)
    at = open_page("pages/data_status.py")
    assert any("超出已知节假日日历" in w.value and "holidays.yaml" in w.value for w in at.warning)
    cov = next(df.value for df in at.dataframe if "日历未知天数" in df.value.columns).set_index(
        "季度"
    )
    assert cov.loc["2026Q4", "日历未知天数"] == 31  # December
    assert cov.loc["2026Q3", "按周一至周五计算的记录数"] == 1


def test_snapshot_without_scores_points_to_build(isolated_data_dir):
    from kpi import schema, store

    con = store.connect_warehouse(isolated_data_dir)
    schema.create_canonical(con)
    con.close()
    store.publish_snapshot(isolated_data_dir)
    at = open_page()
    assert any("bizenv build" in w.value for w in at.warning)


def test_records_search_without_match_says_so(snapshot):
    at = open_page("pages/records.py", period="2026Q3", source="approvals")
    assert metrics(at)["记录数"][0] == "8"  # all districts, 2026Q3
    at.text_input(key="q").input("不存在的内容").run()
    assert not at.exception
    assert metrics(at)["记录数"][0] == "0"
    assert any("没有符合条件的记录" in i.value for i in at.info)


def test_broken_metrics_yaml_is_reported_and_pages_still_work(snapshot, tmp_path, monkeypatch):
    bad = tmp_path / "metrics.yaml"
    bad.write_text("version: '1'\ndomains: [\n", encoding="utf-8")
    monkeypatch.setenv("BIZENV_METRICS", str(bad))
    at = open_page("pages/data_status.py")
    assert any("metrics.yaml" in e.value and "YAML" in e.value for e in at.error)
    at = open_page(
        "pages/records.py",
        period="2026Q3",
        district="330802",
        source="hotline",
        indicator="hotline_resolution_rate",
    )
    assert any(
        "未取到该指标" in i.value for i in at.info
    )  # falls back to source + district + quarter
    assert len(table(at, "records_table")) == 4
    at = open_page("pages/domains.py", domain="government_services")
    assert "最优值" in table(at, "definitions").columns  # what the marts carry
