"""区县画像: domain scores against the city and the best district, rank history, strengths and
短板, the 对标提升清单 (best district's value, the gap, the distance to 先进值), and the scorecards of
the district's units (12345 承办单位, 办理部门, 评价部门)."""

import streamlit as st

from kpi.read import queries
from ui import charts, state, tables
from ui import format as fmt

snap = state.require_snapshot()

top = st.columns([3, 1.2, 1.2])
top[0].title("区县画像")
period, partial = state.period_picker(snap, top[1])
district = state.district_picker(snap, top[2])
st.caption(state.freshness_caption(snap, partial))

ov = snap.overall(period)
row = ov[ov["district_code"] == district]
if row.empty:
    st.info("该区县本季度没有评分。")
    st.stop()
r = row.iloc[0]
name = r["district_name"]
n_districts = int((~ov["is_city"].astype(bool)).sum())
m = st.columns(4)
m[0].metric(
    "综合指数",
    fmt.num(r["score"]),
    fmt.delta_text(r["score_qoq"], "分"),
    border=True,
    delta_arrow="off",
    delta_color={"improved": "green", "worsened": "red"}.get(r["trend_qoq"], "gray"),
)
m[1].metric(
    f"综合排名（共 {n_districts} 个区县）",
    fmt.rank_text(r["rank"]),
    fmt.rank_change_text(r["rank_change"]),
    border=True,
    delta_arrow="off",
    # no rank change (the oldest quarter, a 进行中 one, an unranked district) is NA: grey, "—"
    delta_color={fmt.GREEN: "green", fmt.RED: "red"}.get(
        fmt.rank_change_colour(r["rank_change"]), "gray"
    ),
)
m[2].metric("红色指标", f"{fmt.whole(r['n_red'])} 项", border=True)
m[3].metric("评分领域", f"{fmt.whole(r['n_domains_scored'])} 个", border=True)

dom = snap.district_domains(period, district)
left, right = st.columns([3, 2])
with left:
    st.subheader(f"{name} · 各领域得分")
    st.caption("蓝条为本区县得分，黑色竖线为全市，绿色菱形为该领域最优区县。")
    charts.profile_bars(dom, name, key="profile_bars")
with right:
    st.subheader("综合排名变化")
    charts.rank_history(snap.rank_history(district), key="rank_history")
    table = dom.rename(
        columns={
            "label_zh": "领域",
            "score": "得分",
            "rank": "排名",
            "city_score": "全市",
            "best_score": "最优得分",
            "best_district": "最优区县",
        }
    )
    table["领域"] = [  # the catalogue's short names: the six columns fit beside the chart
        tables.SHORT_DOMAIN.get(k, lab)
        for k, lab in zip(dom["domain_key"], dom["label_zh"], strict=True)
    ]
    table = table[["领域", "得分", "排名", "全市", "最优得分", "最优区县"]].round(1)
    sel = tables.show(
        table,
        "district_domains",
        f"{name}_领域得分_{period}",
        select="single-row",
        styler=tables.styled(
            table,
            backgrounds={
                "得分": [fmt.RAG_BG.get(v, "") if isinstance(v, str) else "" for v in dom["rag"]]
            },
        ),
        download=table.assign(等级=[fmt.RAG_LABEL.get(v) for v in dom["rag"]]),  # the cell colour
    )
    if (i := tables.selected_row(sel)) is not None:
        state.go("domains", period=period, domain=dom.at[i, "domain_key"], district=district)

ind = snap.indicators(period, district=district)
ind = ind[ind["scored"].astype(bool)].sort_values("score")
st.subheader("优势与短板")
st.caption("点击一个指标，查看它背后的办件、工单或评价明细。")
cols = st.columns(2)
for col, title, part, key in (
    (cols[0], "短板（得分最低）", ind.head(5), "weak"),
    (cols[1], "优势（得分最高）", ind.tail(5).iloc[::-1], "strong"),
):
    with col:
        st.markdown(f"**{title}**")
        t, styler = tables.indicator_brief(part)
        sel = tables.show(
            t,
            f"{key}_indicators",
            f"{name}_{title[:2]}_{period}",
            select="single-row",
            styler=styler,
            download=tables.indicator_download(part, with_district=False),
        )
        if (i := tables.selected_row(sel)) is not None:
            p = part.iloc[i]
            state.go(
                "records",
                period=period,
                district=district,
                source=p["source"],
                domain=p["domain_key"],
                indicator=p["indicator_key"],
            )

st.subheader("对标提升清单")
st.caption(
    "本区县未达先进值的指标：与最优区县（该指标排名第一的其他区县，"
    f"{queries.BEST_TIE_RULE}）的差距，以及达到先进值还需改善的幅度（按指标方向，正数表示仍需改善）。"
    f"本区县已排名第一的指标只与先进值比较（最优区县一栏写“{tables.BEST_SELF}”）。"
)
bm = snap.benchmark(period, district)
if bm.empty:
    st.success("所有可评分指标均已达到先进值。")
else:
    bm_table, bm_styler = tables.benchmark_view(bm)
    tables.show(
        bm_table,
        "benchmark",
        f"{name}_对标提升清单_{period}",
        styler=bm_styler,
        download=tables.benchmark_table(bm),  # 等级 as 红/黄/绿 text, not dots
    )

st.subheader("单位记分卡")
st.caption(
    "本区县的 12345 承办单位、办件办理部门和好差评评价部门，按各自记录计算的指标（定义同指标领域页，"
    "样本量不足的不评分，显示为“—”）；综合得分为已评分指标得分的平均，排名在全市所有单位中。"
    "“说明”标出依据的指标比其他单位少的。"
)
units = snap.unit_scorecards(period, district)
if units.empty:
    st.info(
        "本季度没有可计算的单位记录（导出中没有承办单位或办理部门，或当前快照是旧版本计算的）。"
    )
else:
    n_ranked = int(units["n_ranked"].iloc[0])
    table = queries.unit_table(units)
    st.caption(f"全市共 {n_ranked} 个单位有综合得分。")
    tables.show(table, "unit_scores", f"{name}_单位记分卡_{period}")
