"""双对标: each indicator against the 省内 and 省外/全国 benchmarks — the 对标提升清单 with the gap
to each (the city's, or a district's), and the 提升举措 with their effect (before → after)."""

import streamlit as st

from office.tracking import views
from ui import data, state, tables
from ui import tracking as tr

snap = state.require_snapshot()
dd = data.data_dir()
scope, actor = tr.who()
st.title("双对标")
st.caption(
    "差距 = 标杆值 − 本地值（越低越好的指标取相反数）：正数表示落后于标杆。标杆由营商办录入（值、标杆城市、来源、截至日期）。"
)
c = st.columns([1, 1, 2])
period, _ = state.period_picker(snap, c[0], key="bench_period")
names = data.district_names()
codes = ["", *names]
district = c[1].selectbox(
    "对象", codes, format_func=lambda x: "全市" if not x else names.get(x, x), key="bench_district"
)
if period is None:
    tr.empty("快照中没有季度。")
    st.stop()
cur = tr.snapshot_cursor(snap.path)
try:
    bench = views.benchmark_list(cur, dd, period, district or None)
finally:
    cur.close()
only_behind = c[2].toggle("只看落后于标杆的指标", key="bench_behind")
if only_behind:
    bench = bench[(bench["与省内差距"] > 0) | (bench["与省外差距"] > 0)]
if bench.empty:
    tr.empty("没有可对标的指标。")
else:
    m = st.columns(3)
    m[0].metric("指标", f"{len(bench)}")
    m[1].metric("落后于省内标杆", f"{(bench['与省内差距'] > 0).sum()}")
    m[2].metric("落后于省外/全国标杆", f"{(bench['与省外差距'] > 0).sum()}")
    title = f"对标提升清单_{'全市' if not district else names.get(district, district)}_{period}"
    tables.show(
        bench.reset_index(drop=True),
        "bench_table",
        title,
        styler=tr.colour_rows(bench.reset_index(drop=True)),
    )
tr.ledger_bar("benchmarks", scope, "bench_ledger")

st.subheader("提升举措")
labels = dict(zip(bench["指标代码"], bench["指标"], strict=True)) if not bench.empty else {}
measures = views.measure_list(dd, names, labels)
if measures.empty:
    tr.empty("还没有提升举措。")
else:
    tables.show(measures.drop(columns=["id"]), "measures_table", "提升举措")
tr.ledger_bar("measures", scope, "measures_ledger")
