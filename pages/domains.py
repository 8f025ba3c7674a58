"""指标领域: districts ranked on one domain, every indicator's value / n / score / RAG / QoQ,
the metrics.yaml definitions, and per-indicator trends."""

import streamlit as st

from kpi.read import queries
from ui import charts, state, tables
from ui.data import spec

snap = state.require_snapshot()

top = st.columns([3, 1.2, 1.6])
top[0].title("指标领域")
period, partial = state.period_picker(snap, top[1])
domain = state.domain_picker(snap, top[2])
st.caption(state.freshness_caption(snap, partial))

ranking = snap.domain_ranking(period, domain)
came_from = st.query_params.get("district")  # the district of a clicked heatmap cell: tinted below
left, right = st.container(), st.container()
with left:
    st.subheader("区县排名")
    st.caption("点击一行查看该区县画像。")
    code = tables.domain_ranking(
        ranking, key="domain_rank", name=f"领域排名_{domain}_{period}", highlight=came_from
    )
    if code:
        state.go("district", period=period, district=code)
with right:
    st.subheader("各指标表现")
    st.caption(
        "点击一行查看该区县、该指标背后的明细记录。灰色“—”表示样本不足或无数据，不评分、不排名。"
    )
    ind = snap.indicators(period, domain)
    pick = tables.indicator_matrix(
        ind, key="indicator_rows", name=f"领域指标_{domain}_{period}", highlight=came_from
    )
    if pick is not None:
        state.go(
            "records",
            period=period,
            district=pick["district_code"],
            source=pick["source"],
            domain=domain,
            indicator=pick["indicator_key"],
        )

st.subheader("指标定义")
catalog = snap.indicator_definitions(domain)
defs = queries.indicator_specs(spec(), domain, list(catalog["indicator_key"]))
if defs.empty:  # spec unreadable or scored with other keys: show what the marts carry
    defs = tables.definitions_from_marts(catalog)
tables.show(
    defs,
    "definitions",
    f"指标定义_{domain}",
    column_config={
        "说明": st.column_config.TextColumn("说明", width="large"),
        "计算方法": st.column_config.TextColumn("计算方法", width="large"),
    },
)

st.subheader("指标趋势")
labels = dict(zip(catalog["indicator_key"], catalog["label_zh"], strict=False))
key = state.picker(
    "indicator", "指标", list(catalog["indicator_key"]), format_func=lambda k: labels.get(k, k)
)
if key:
    unit = catalog.set_index("indicator_key").at[key, "unit"]
    codes = list(snap.districts()["district_code"])
    charts.trend(
        snap.series("indicator", key, codes),
        "value",
        f"{labels[key]}（各区县与全市）",
        unit,
        key="indicator_trend",
        all_codes=codes,
    )
