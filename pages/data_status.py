"""数据: snapshot freshness, loads, quarantine by reason with examples, rows per source per quarter,
holiday-calendar coverage and metrics.yaml validation."""

from pathlib import Path

import pandas as pd
import streamlit as st

from kpi.read import queries
from kpi.schema import SOURCE_LABELS
from ui import auth, data, intake, state, tables
from ui import format as fmt

state.ensure_entry()
st.title("数据")
intake.section(data.data_dir())  # 营商办 and 管理员: upload, dry run, load, undo, the scheduler
live = data.live_snapshot()
if live.problem:
    st.warning(live.problem, icon="⚠️")
if live.path is None and live.problem:
    st.stop()
if live.path is None:
    st.info("还没有数据快照。导入步骤：")
    st.markdown(
        "1. 生成演示数据：`uv run bizenv sample`，或把本地导出的办件、12345 工单、好差评、指标填报文件放到一个文件夹；\n"
        "2. 导入：`uv run bizenv load 文件或文件夹…`（导入后自动计算评分并发布快照）；\n"
        "3. 刷新本页。重新计算评分：`uv run bizenv build`。"
    )
    st.stop()

snap = data.Snapshot(data.snapshot_path())
meta = snap.meta()
st.markdown(
    f"#### 数据截至 {fmt.timestamp(meta.get('data_as_of'))} · 更新于 {fmt.timestamp(meta.get('built_at'))}"
)
st.markdown(
    f"最近完整季度 **{meta.get('latest_complete_period', '—')}** · 当前季度 **{meta.get('current_period', '—')}**（进行中）"
    f" · 指标规格版本 **{meta.get('metrics_version', '—')}**"
)
st.caption(f"当前快照：{Path(data.snapshot_path()).name}")  # the name, not the server's path

st.subheader("指标规格（metrics.yaml）校验")
path, problems = data.spec_status()
path = Path(path).name  # the file's name, not where it sits on the server
if problems:
    st.error(
        f"{path} 有 {len(problems)} 处问题（评分仍使用上次成功计算的结果）：\n\n"
        + "\n".join(f"- {p}" for p in problems)
    )
else:
    st.success(f"{path} 校验通过。")

st.subheader("节假日日历覆盖")
cov = snap.calendar_coverage().astype({"records_unknown": "int64"})
gaps = cov[(cov["days_unknown"] > 0) | (cov["records_unknown"] > 0)]
if gaps.empty:
    st.success("所有季度都在已知的节假日日历范围内，工作日计算可靠。")
else:
    st.warning(
        "以下季度超出已知节假日日历：这些日期按“周一至周五为工作日”计算，办理用时可能不准。"
        "请在 data/catalog/holidays.yaml 中补充当年国务院办公厅公布的节假日安排，然后重新导入。"
    )
tables.show(
    cov.rename(
        columns={
            "period": "季度",
            "days_total": "天数",
            "days_known": "日历已知天数",
            "days_unknown": "日历未知天数",
            "records_unknown": "按周一至周五计算的记录数",
        }
    ),
    "calendar",
    "节假日日历覆盖",
)

st.subheader("各来源各季度记录数")
rows = snap.rows_per_source()
if not rows.empty:
    pivot = rows.pivot_table(
        index="period", columns="source", values="rows", aggfunc="sum", fill_value=0
    )
    pivot = pivot.rename(columns=SOURCE_LABELS).reset_index().rename(columns={"period": "季度"})
    tables.show(pivot, "rows_per_source", "各来源各季度记录数")

st.subheader("未匹配到领域的事项")
unmatched = snap.unmatched_items()
if unmatched.empty:
    st.success("所有办件和评价的事项都已匹配到领域。")
else:
    st.warning(
        f"{int(unmatched['rows'].sum()):,} 条记录的事项没有匹配到领域，不计入各领域的指标。"
        "把这些事项名称（或别名、编码）补进目录 items.csv，或在 item_rules.csv 加一条关键词规则，"
        "然后运行 `uv run bizenv build`（不必重新导入）。"
    )
    tables.show(
        pd.DataFrame(
            {
                "来源": [SOURCE_LABELS.get(s, s) for s in unmatched["source"]],
                "事项名称": unmatched["item_name"].fillna("（无事项名称）"),
                "事项编码": unmatched["item_code"].fillna(""),
                "记录数": unmatched["rows"].astype("int64"),
                "占该来源记录": [fmt.value(v * 100, "%") for v in unmatched["share"]],
            }
        ),
        "unmatched_items",
        "未匹配到领域的事项",
    )

st.subheader("数据质量（各区县）")
st.caption(
    "填报及时率 = 在报送期限内报送的填报 ÷ 应报的填报（报送期限为季度结束后若干天，见 metrics.yaml 的 "
    "report_deadline_days，默认 15 天；应报未报的指标计 0 分）；有数据指标占比 = 有数值的指标 ÷ "
    "适用的指标（市级指标、没有此类记录的不算适用）；隔离记录按行中写明的区县和时间归属。"
)
if snap.has_table("data_quality"):
    dq_period, _ = state.period_picker(snap, st.container(), key="dq_period")
    dq = queries.data_quality_table(snap.data_quality(dq_period)) if dq_period else None
    if dq is None or dq.empty:
        st.info("这个季度没有数据质量记录。")
    else:
        tables.show(dq, "data_quality", f"数据质量_{dq_period}")
else:
    st.info(
        "当前快照是旧版本计算的，没有数据质量表；运行 `uv run bizenv build` 重新计算后即可查看。"
    )

st.subheader("导入记录")
loads = snap.loads()
tables.show(tables.loads_table(loads), "loads", "导入记录")

st.subheader("隔离记录（未导入的行）")
qs = snap.quarantine_summary()
if qs.empty:
    st.success("没有被隔离的行。")
else:
    tables.show(
        qs.assign(source=[SOURCE_LABELS.get(s, s) for s in qs["source"]]).rename(
            columns={"source": "来源", "reason": "原因", "rows": "行数", "files": "文件数"}
        ),
        "quarantine",
        "隔离原因",
    )
    st.markdown(
        "**按文件下载全部隔离行**：每一行的行号、问题列、隔离原因和原始内容（每个原表头一列），"
        "可发给报送部门核改后重新导入。"
    )
    tables.quarantine_by_file(snap.path, snap.quarantine_loads())
    st.markdown("**示例行**（每个原因最多 3 行；个人信息已删除）")
    ex = snap.quarantine_examples(3)
    if st.session_state.get("_quarantine_seen") != snap.path:  # raw rows: audited once a snapshot
        auth.record(data.data_dir(), "records_view", "数据·隔离示例行", {"行数": len(ex)})
        st.session_state["_quarantine_seen"] = snap.path
    ex = ex.assign(source=[SOURCE_LABELS.get(s, s) for s in ex["source"]]).rename(
        columns={
            "source": "来源",
            "reason": "原因",
            "file_name": "文件",
            "line_no": "行号",
            "column_name": "列",
            "raw": "原始内容",
        }
    )
    tables.show(ex, "quarantine_examples", "隔离示例")
