"""The 督办 items as people read them: Chinese frames for the pages, the 季度评议材料 workbook and
the LED (the same frame everywhere, so a figure on the screen is the figure in the workbook)."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from kpi.settings import DataDir
from office.roles import Scope
from office.tracking import items, leads, rules, tasks

STATE_ZH = rules.TASK_STATES
KIND_ZH = rules.TASK_KINDS


def _names(district_names: dict[str, str] | None, codes: pd.Series) -> pd.Series:
    names = district_names or {}
    return codes.map(lambda c: names.get(c, c) if c else "全市")


def problem_list(
    data_dir: DataDir, today: dt.date, scope: Scope | None = None, names: dict | None = None
) -> pd.DataFrame:
    """全量问题清单: one row per problem, with 逾期 (open past its 整改时限)."""
    p = items.problems(data_dir, scope)
    cols = [
        "id",
        "问题编号",
        "来源",
        "企业名称",
        "统一社会信用代码",
        "问题类别",
        "区县",
        "责任单位",
        "提出日期",
        "整改时限",
        "状态",
        "逾期",
        "整改措施",
        "销号批次",
        "销号日期",
        "佐证",
        "更新人",
        "更新时间",
    ]
    if p.empty:
        return pd.DataFrame(columns=cols)
    overdue = [
        rules.is_overdue(d, s in rules.DONE, today)
        for d, s in zip(p["deadline"], p["status"], strict=True)
    ]
    out = pd.DataFrame(
        {
            "id": p["id"],
            "问题编号": p["number"],
            "来源": p["source"],
            "企业名称": p["enterprise"],
            "统一社会信用代码": p["credit_code"],
            "问题类别": p["category"],
            "区县": _names(names, p["district_code"]),
            "区县代码": p["district_code"],
            "责任单位": p["unit"],
            "提出日期": pd.to_datetime(p["raised_on"]),
            "整改时限": pd.to_datetime(p["deadline"]),
            "状态": p["status"],
            "逾期": ["逾期" if o else "" for o in overdue],
            "整改措施": p["measures"],
            "销号批次": p["batch"],
            "销号日期": pd.to_datetime(p["closed_on"]),
            "佐证": p["evidence"],
            "更新人": p["updated_by"],
            "更新时间": p["updated_at"],
        }
    )
    return out


def problem_figures(problems: pd.DataFrame, by: list[str], today: dt.date) -> pd.DataFrame:
    """rules.problem_figures over a problem_list frame, grouped by its Chinese columns."""
    frame = problems.rename(
        columns={"状态": "status", "整改时限": "deadline", "销号日期": "closed_on"}
    )
    if "季度" in by:
        frame["季度"] = frame["提出日期"].map(rules.quarter_of)
    return rules.problem_figures(frame, by, today)


def task_list(data_dir: DataDir, today: dt.date, scope: Scope | None = None) -> pd.DataFrame:
    t = items.tasks(data_dir, scope)
    cols = [
        "id",
        "季度",
        "类型",
        "区县",
        "指标",
        "领域",
        "牵头部门",
        "督办原因",
        "状态",
        "整改时限",
        "逾期",
        "整改进展",
        "佐证",
        "销号方式",
        "销号日期",
        "更新人",
        "更新时间",
    ]
    if t.empty:
        return pd.DataFrame(columns=cols)
    late = tasks.overdue(t, today)
    return pd.DataFrame(
        {
            "id": t["id"],
            "季度": t["period"],
            "类型": t["kind"].map(KIND_ZH),
            "区县": t["district_name"].fillna(t["district_code"]),
            "区县代码": t["district_code"],
            "指标": t["indicator_label"].fillna(t["indicator_key"]),
            "领域": t["domain_label"],
            "牵头部门": t["unit"],
            "督办原因": t["reason"],
            "状态": t["state"].map(STATE_ZH),
            "整改时限": pd.to_datetime(t["deadline"]),
            "逾期": ["逾期" if x else "" for x in late],
            "逾期天数": pd.array(
                [(today - d).days if x else None for d, x in zip(t["deadline"], late, strict=True)],
                dtype="Int64",
            ),
            "整改进展": t["progress"],
            "佐证": t["evidence"],
            "销号方式": t["closed_how"].map({"self": "指标转好自动销号", "writeoff": "营商办销号"}),
            "销号日期": pd.to_datetime(t["closed_on"]),
            "更新人": t["updated_by"],
            "更新时间": t["updated_at"],
        }
    )


def project_board(data_dir: DataDir, today: dt.date, names: dict | None = None) -> pd.DataFrame:
    """张榜公示: every project with its 红黄绿 (rules.project_state) and next milestone."""
    b = items.project_board(data_dir, today, rules.ProjectColours.from_env())
    if b.empty:
        return pd.DataFrame(
            columns=[
                "id",
                "项目名称",
                "牵头单位",
                "责任领导",
                "进度（%）",
                "计划进度（%）",
                "落后（百分点）",
                "红黄绿",
                "进展评价",
                "节点完成",
                "下一节点",
                "下一节点计划",
                "项目状态",
                "进展情况",
            ]
        )
    return pd.DataFrame(
        {
            "id": b["id"],
            "项目名称": b["name"],
            "牵头单位": b["lead_unit"],
            "责任领导": b["post"],
            "区县": _names(names, b["district_code"]),
            "进度（%）": b["progress"],
            "计划进度（%）": b["planned"],
            "落后（百分点）": b["lag"],
            "红黄绿": b["colour"].map(rules.COLOUR_ZH),
            "colour": b["colour"],
            "进展评价": b["state"],
            "节点完成": [f"{d}/{n}" for d, n in zip(b["n_done"], b["n_steps"], strict=True)],
            "下一节点": b["next_step"],
            "下一节点计划": pd.to_datetime(b["next_due"]),
            "项目状态": b["status"],
            "进展情况": b["note"],
        }
    )


def benchmark_list(
    con, data_dir: DataDir, period: str, district: str | None = None
) -> pd.DataFrame:
    """对标提升清单: each indicator's value (the city's, or a district's) against the 省内 and
    省外/全国 benchmarks, with the gap (positive = behind the benchmark, direction-aware) and the
    提升举措 recorded for it."""
    where = "s.is_city" if district is None else "s.district_code = $d"
    ind = con.execute(
        f"""SELECT s.indicator_key, s.label_zh, s.unit, s.direction, s.value, s.rag
            FROM indicator_scores s WHERE s.period = $p AND {where} ORDER BY s.indicator_id""",
        {"p": period, **({"d": district} if district else {})},
    ).df()
    bm = items.benchmarks(data_dir)
    ms = items.measures(data_dir)
    cols = [
        "指标代码",
        "指标",
        "单位",
        "本地值",
        "红黄绿",
        "省内标杆",
        "省内标杆城市",
        "与省内差距",
        "省外/全国标杆",
        "省外标杆城市",
        "与省外差距",
        "提升举措数",
    ]
    if ind.empty:
        return pd.DataFrame(columns=cols)
    rows = []
    for r in ind.itertuples():
        sign = 1 if r.direction == "higher_is_better" else -1
        row = {
            "指标代码": r.indicator_key,
            "指标": r.label_zh,
            "单位": r.unit,
            "本地值": r.value,
            "红黄绿": rules.COLOUR_ZH.get(r.rag or "", "—"),
        }
        for level, name in (("省内", "省内"), ("省外", "省外")):
            hit = (
                bm[(bm["indicator_key"] == r.indicator_key) & (bm["level"] == level)]
                if not bm.empty
                else bm
            )
            value = None if hit.empty else float(hit["value"].iloc[0])
            label = "省外/全国标杆" if level == "省外" else "省内标杆"
            row[label] = value
            row[f"{name}标杆城市"] = None if hit.empty else hit["holder"].iloc[0]
            row[f"与{name}差距"] = (
                None
                if value is None or r.value is None or pd.isna(r.value)
                else round(sign * (value - r.value), 2)
            )
        mine = ms[(ms["indicator_key"] == r.indicator_key)] if not ms.empty else ms
        if not mine.empty:
            mine = (
                mine[mine["district_code"].isna()]
                if district is None
                else mine[mine["district_code"] == district]
            )
        row["提升举措数"] = len(mine)
        rows.append(row)
    return pd.DataFrame(rows, columns=cols)


def measure_list(
    data_dir: DataDir, names: dict | None = None, labels: dict | None = None
) -> pd.DataFrame:
    m = items.measures(data_dir)
    if m.empty:
        return pd.DataFrame(
            columns=[
                "id",
                "指标",
                "区县",
                "举措名称",
                "责任单位",
                "完成时限",
                "推进情况",
                "举措前数值",
                "举措后数值",
                "效果",
            ]
        )
    effect = m["value_after"] - m["value_before"]
    return pd.DataFrame(
        {
            "id": m["id"],
            "指标": m["indicator_key"].map(lambda k: (labels or {}).get(k, k)),
            "区县": _names(names, m["district_code"]),
            "举措名称": m["name"],
            "责任单位": m["unit"],
            "完成时限": pd.to_datetime(m["deadline"]),
            "推进情况": m["progress"],
            "举措前数值": m["value_before"],
            "举措后数值": m["value_after"],
            "效果": effect.round(2),
        }
    )


def award_list(
    con, data_dir: DataDir, period: str, today: dt.date, names: dict | None = None
) -> pd.DataFrame:
    """蜗牛/骏马: leads with their evidence and the 评议 result (候选 until recorded)."""
    lead = leads.leads(con, data_dir, period, today)
    if lead.empty:
        return pd.DataFrame(
            columns=["奖项", "单位", "区县", "依据", "评议结果", "评议日期", "评议说明"]
        )
    result = [
        "候选" if a is None or pd.isna(a) else ("授予" if a else "未授予") for a in lead["awarded"]
    ]
    return pd.DataFrame(
        {
            "奖项": lead["kind"].map({"蜗牛": "蜗牛奖", "骏马": "骏马奖"}),
            "单位": lead["unit"],
            "区县": _names(names, lead["district_code"]),
            "依据": lead["evidence"],
            "评议结果": result,
            "评议日期": pd.to_datetime(lead["decided_on"]),
            "评议说明": lead["note"],
        }
    )


def review_sheets(
    con, data_dir: DataDir, period: str, today: dt.date, names: dict | None = None
) -> dict[str, pd.DataFrame]:
    """The workbook's 督办 sheets: 清障汇总, 为企办实事, 督办任务（未办结）, 对标清单, 蜗牛骏马."""
    if names is None:
        from kpi.read import queries

        ds = queries.districts(con)
        names = (
            dict(zip(ds["district_code"], ds["district_name"], strict=True)) if not ds.empty else {}
        )
    problems = problem_list(data_dir, today, names=names)
    summary = problem_figures(problems, ["区县"], today) if not problems.empty else pd.DataFrame()
    if not summary.empty:
        total = problem_figures(problems, [], today).assign(区县="合计")
        summary = pd.concat([summary, total[summary.columns]], ignore_index=True)
    board = project_board(data_dir, today, names).drop(columns=["id", "colour"], errors="ignore")
    open_tasks = task_list(data_dir, today)
    open_tasks = open_tasks[open_tasks["状态"].isin([STATE_ZH[s] for s in rules.OPEN_TASK_STATES])]
    open_tasks = open_tasks.drop(
        columns=["id", "区县代码", "销号方式", "销号日期", "更新人", "更新时间"], errors="ignore"
    )
    return {
        "清障汇总": summary,
        "为企办实事": board,
        "督办任务（未办结）": open_tasks,
        "对标清单": benchmark_list(con, data_dir, period),
        "蜗牛骏马": award_list(con, data_dir, period, today, names),
    }
