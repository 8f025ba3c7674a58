"""总览: city KPI cards, the overall ranking, the district × domain heatmap, 进步榜/退步榜."""

import streamlit as st

from ui import cards, maps, notices, state, tables

snap = state.require_snapshot()
meta = snap.meta()

top = st.columns([4, 1.3])
top[0].title(f"{meta.get('city_name', '')}营商环境指标看板")
period, partial = state.period_picker(snap, top[1])
st.caption(state.freshness_caption(snap, partial))
if partial:
    as_of = snap.periods().set_index("period")["data_as_of"].get(period)
    notices.quarter_in_progress(period, as_of, meta.get("latest_complete_period"))
tables.review_download(snap.path, period)

keys = snap.headline_keys()  # as metrics.yaml said when this snapshot was built
cards.headline_row(
    snap.overall_series(period, 8),
    snap.headline(keys, period, 8),
    keys,
    period,
    n_domains=len(snap.domains()),
)

ov = snap.overall(period)
notices.thin_ranking(snap.domain_coverage(period))
left, right = st.columns([3, 2])
with left:
    st.subheader("综合排名")
    st.caption("点击一行查看该区县画像。名次变化 ▲ 上升、▼ 下降；环比为综合指数较上季度的变化。")
    code = tables.overall_ranking(ov, key="overall_rank", name=f"综合排名_{period}")
    if code:
        state.go("district", period=period, district=code)
with right:
    st.subheader("进步榜 · 退步榜")
    cards.movers(ov, partial)
with left:
    st.subheader("区县地图")
    clicked = maps.district_map(snap, ov, key="district_map")
    if clicked:
        state.go("district", period=period, district=clicked)

st.subheader("指标领域 × 区县 得分热力图")
st.caption(
    "底色：绿 ≥ 先进、黄 居中、红 预警（数字为领域得分）。点击一个格子查看该领域本季度的排名与指标。"
)
matrix = snap.domain_matrix(period)
cell = tables.heatmap(matrix, key="heatmap", name=f"领域得分_{period}")
notices.unscored_caption(snap.unscored_domains(period), matrix["district_code"].nunique())
if cell:
    district, domain = cell
    state.go("domains", period=period, domain=domain, district=district)
