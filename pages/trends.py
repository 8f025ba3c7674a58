"""趋势分析: the overall index, a domain or an indicator by quarter — its values, its 环比 or its
同比 change — for several districts at once with the city line, on a time axis (a quarter without
data is a gap); partial quarters marked and never compared."""

import streamlit as st

from ui import charts, state, tables
from ui import format as fmt

snap = state.require_snapshot()
st.title("趋势分析")
st.caption(state.freshness_caption(snap) + " · 空心点与浅黄底色为进行中的季度（数据尚不完整）。")

c = st.columns([1, 1.6, 2.4])
level = state.picker(
    "level",
    "对象",
    ["overall", "domain", "indicator"],
    "overall",
    container=c[0],
    format_func={"overall": "综合指数", "domain": "指标领域", "indicator": "单项指标"}.get,
)
key, unit, title = None, "分", "综合指数"
if level == "domain":
    key = state.domain_picker(snap, c[1])
    title = (
        dict(zip(snap.domains()["domain_key"], snap.domains()["label_zh"], strict=False)).get(
            key, key
        )
        + " 领域得分"
    )
elif level == "indicator":
    cat = snap.indicator_catalog()
    labels = dict(zip(cat["indicator_key"], cat["label_zh"], strict=False))
    key = state.picker(
        "indicator",
        "指标",
        list(cat["indicator_key"]),
        container=c[1],
        format_func=lambda k: labels.get(k, k),
    )
    unit, title = cat.set_index("indicator_key").at[key, "unit"], labels.get(key, key)

dist = snap.districts()
names = dict(zip(dist["district_code"], dist["district_name"], strict=False))
url_codes = [x for x in st.query_params.get_all("districts") if x in names]
chosen = c[2].multiselect(
    "区县（可多选）",
    list(names),
    default=url_codes or list(names)[:3],
    format_func=names.get,
    key="districts_pick",
)
st.query_params["districts"] = chosen

df = snap.series(level, key, chosen)
# Three views of one series, each plotted and tabled as one kind of quantity: the values, or
# their change on the quarter before (环比) or on the same quarter a year before (同比). The
# changes come from the marts, which leave them empty for an in-progress quarter.
MODES = {
    "数值": ("value", "逐季走势", unit, "暂无数据：所选区县在当前快照中没有这一项的数值。"),
    "环比": (
        "qoq",
        "较上一季度的变化（环比）",
        fmt.delta_unit(unit),
        "暂无环比数据：需要相邻两个季度都有数值，且都是已结束的季度（进行中的季度不计算环比）。",
    ),
    "同比": (
        "yoy",
        "较上年同一季度的变化（同比）",
        fmt.delta_unit(unit),
        "暂无同比数据：需要相隔一年的两个季度都有数值，且都是已结束的季度"
        "（进行中的季度不计算同比）。",
    ),
}
mode = (
    st.segmented_control(
        "显示",
        list(MODES),
        key="mode",
        default=st.query_params.get("mode") if st.query_params.get("mode") in MODES else "数值",
    )
    or "数值"
)
st.query_params["mode"] = mode
column, what, shown_unit, empty = MODES[mode]
drawn = charts.trend(
    df,
    column,
    f"{title}：{what}",
    shown_unit,
    key=f"trend_{column}",
    all_codes=list(names),
    empty=empty,
)
if drawn and mode != "数值":
    st.caption(
        f"{mode} = 本季度数值 − {'上一季度' if mode == '环比' else '上年同一季度'}的数值"
        f"（单位：{shown_unit or '分'}）；进行中的季度和缺数据的季度没有{mode}，线在那里断开。"
    )

table = df.assign(
    区县=["全市" if c else n for c, n in zip(df["is_city"], df["district_name"], strict=False)]
)
table = table.pivot(index="period", columns="区县", values=column).sort_index().round(1)
table = table[[c for c in ["全市", *names.values()] if c in table.columns]]
partial = dict(zip(df["period"], df["is_partial"].astype(bool), strict=False))
table = table.reset_index().rename(columns={"period": "季度"})
table.columns.name = None
table["季度"] = [fmt.period_label(p, partial.get(p, False)) for p in table["季度"]]
if drawn:  # the table shows what the chart shows — nothing when there is nothing to plot
    tables.show(table, "trend_table", f"趋势_{title}_{mode}")
