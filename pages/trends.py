"""趋势分析: quarter-over-quarter and year-over-year lines for the overall index, a domain or an
indicator, several districts at once with the city line; partial quarters marked."""

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
mode = (
    st.segmented_control(
        "比较方式",
        ["环比", "同比"],
        key="mode",
        default="同比" if st.query_params.get("mode") == "同比" else "环比",
    )
    or "环比"
)
st.query_params["mode"] = mode
if mode == "环比":
    charts.trend(
        df, "value", f"{title}：逐季走势（环比）", unit, key="trend_qoq", all_codes=list(names)
    )
else:
    charts.trend(
        df.dropna(subset=["yoy"]),
        "yoy",
        f"{title}：较上年同期的变化（同比）",
        fmt.delta_unit(unit),
        key="trend_yoy",
        all_codes=list(names),
    )
    if df["yoy"].isna().all():
        st.info("快照中还没有满一年的数据，暂无同比。")

table = df.assign(
    区县=["全市" if c else n for c, n in zip(df["is_city"], df["district_name"], strict=False)]
)
table = table.pivot_table(index="period", columns="区县", values="value", sort=True).round(1)
table = table[[c for c in ["全市", *names.values()] if c in table.columns]]
partial = dict(zip(df["period"], df["is_partial"].astype(bool), strict=False))
table = table.reset_index().rename(columns={"period": "季度"})
table["季度"] = [fmt.period_label(p, partial.get(p, False)) for p in table["季度"]]
tables.show(table, "trend_table", f"趋势_{title}")
