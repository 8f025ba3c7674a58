"""Demo 台账 for the 督办 loop, consistent with the demo's scores: written as the office's Excel
files and imported through the very path a real 台账 takes (office.tracking.ledgers).

- 清障问题: several hundred problems (584, 573 of them solved, as 衢州 reported), more in the
  districts that score worse, each with a valid 统一社会信用代码 (GB 32100 check digit);
- 为企办实事: 24 projects whose milestones and progress put 8 each in 绿 / 黄 / 红;
- 督办任务: the tasks the build proposed from the snapshot's actual red cells, most confirmed by
  营商办 and several with progress reported;
- 对标标杆: 省内 and 省外 benchmarks per scored indicator, a little better than the city's best;
- 提升举措 for the red indicators, and the last complete quarter's 蜗牛/骏马 评议 results.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from kpi import store
from kpi.read import tracking as reads
from kpi.settings import DataDir
from office import audit
from office.tracking import leads, ledgers, rules, tasks

DEMO_ACTOR = audit.Actor(name="演示数据", via="cli")
N_PROBLEMS, N_SOLVED = 584, 573
PROBLEM_TEXT = {
    "招工用工": "园区企业招工难，技术工人缺口大",
    "金融支持": "中小企业贷款审批周期长",
    "基础设施": "园区道路和污水管网未配套",
    "要素保障": "用电用地指标紧张",
    "审批服务": "项目审批环节多、材料重复提交",
    "政策兑现": "惠企政策兑现慢",
    "市场监管": "检查频次高、多头检查",
    "其他": "企业反映的其他问题",
}
PROJECTS = [
    "企业开办一日办结",
    "工程建设项目审批提速",
    "水电气网联合报装",
    "不动产登记一窗受理",
    "惠企政策直达快享",
    "涉企检查综合查一次",
    "中小企业融资增信",
    "园区公交专线开通",
    "人才公寓配租",
    "12345 涉企诉求快速响应",
    "跨境贸易通关便利化",
    "知识产权快速维权",
    "政务服务夜间延时服务",
    "企业用工服务驿站",
    "标准地出让",
    "税费优惠精准推送",
    "公共资源交易全流程电子化",
    "企业信用修复一件事",
    "园区污水管网改造",
    "数字化改革涉企场景",
    "个体工商户帮扶",
    "外资企业服务专班",
    "企业家接待日",
    "营商环境体验官",
]


def _credit_code(rng: np.random.Generator, district: str) -> str:
    chars = rules.CREDIT_CHARS
    body = "91" + district[:6] + "".join(chars[i] for i in rng.integers(0, 31, 9))
    return body + rules.credit_check_char(body)


def problems_frame(
    districts: pd.DataFrame, units: list[str], today: dt.date, seed: int
) -> pd.DataFrame:
    """清障 problems, more in the worse districts (weights from the overall score)."""
    rng = np.random.default_rng(seed)
    weight = (110 - districts["score"].fillna(50)).clip(lower=5).to_numpy()
    codes = rng.choice(districts["district_code"].to_numpy(), N_PROBLEMS, p=weight / weight.sum())
    cats = list(PROBLEM_TEXT)
    start = today - dt.timedelta(days=330)
    rows = []
    solved = set(rng.choice(N_PROBLEMS, N_SOLVED, replace=False).tolist())
    for i in range(N_PROBLEMS):
        raised = start + dt.timedelta(days=int(rng.integers(0, 300)))
        days = int(rng.choice([15, 30, 60, 90]))
        deadline = raised + dt.timedelta(days=days)
        cat = cats[int(rng.integers(0, len(cats)))]
        status, batch, closed = "整改中", None, None
        if i in solved:
            # most within the 整改时限, some later (按期销号率 about 85 %)
            closed = raised + dt.timedelta(days=int(days * rng.uniform(0.3, 1.2)))
            if closed > today:
                closed = today
            if rng.random() < 0.8:
                status = "已销号"
                month = (closed.month - 1) // 2 * 2 + 1  # batches every two months
                batch = f"{closed.year}年第{(month + 1) // 2}批"
            else:
                status, closed = "已解决", None
        elif rng.random() < 0.3:
            status = "解释说明" if rng.random() < 0.5 else "待交办"
        rows.append(
            {
                "问题编号": f"QZ{raised:%Y}-{i + 1:04d}",
                "来源": rules.PROBLEM_SOURCES[int(rng.integers(0, 5))],
                "企业名称": f"衢州{'华宁泰丰安平永长'[i % 8]}{'精密新材电子化工食品纺织机械'[i % 7 * 2 : i % 7 * 2 + 2]}有限公司",
                "统一社会信用代码": _credit_code(rng, str(codes[i])),
                "问题类别": cat,
                "区县代码": str(codes[i]),
                "责任单位": units[int(rng.integers(0, len(units)))],
                "提出日期": raised,
                "整改时限": deadline,
                "整改措施": f"{PROBLEM_TEXT[cat]}：专班对接，限期解决",
                "状态": status,
                "销号批次": batch,
                "销号日期": closed if status == "已销号" else None,
                "佐证": "整改报告、企业确认单" if status in rules.SOLVED else None,
            }
        )
    df = pd.DataFrame(rows)
    for c in ("提出日期", "整改时限", "销号日期"):
        df[c] = pd.to_datetime(df[c])
    return df


def projects_frame(units: list[str], today: dt.date, seed: int) -> pd.DataFrame:
    """24 projects, four milestones each across the year; progress set so that eight are 绿,
    eight 黄 and eight 红 today (checked with rules.project_state)."""
    rng = np.random.default_rng(seed + 1)
    year_start = dt.date(today.year, 1, 1)
    rows = []
    for i, name in enumerate(PROJECTS):
        target = ("green", "amber", "red")[i % 3]
        planned = [year_start + dt.timedelta(days=int(d)) for d in sorted(rng.integers(30, 360, 4))]
        due = sum(1 for d in planned if d <= today)
        plan_pct = 100 * due / 4
        lag = {
            "green": rng.uniform(0, 8),
            "amber": rng.uniform(12, 22),
            "red": rng.uniform(30, 50),
        }[target]
        progress = round(max(0.0, plan_pct - lag), 0)
        if target != "green" and plan_pct < lag + 1:  # nothing due yet: pull the first step in
            planned[0] = today - dt.timedelta(days=20)
            planned[1] = min(planned[1], today - dt.timedelta(days=5))
            plan_pct = 100 * sum(1 for d in planned if d <= today) / 4
            progress = round(max(0.0, plan_pct - lag), 0)
        done = int(progress // 25)
        state, colour, _ = rules.project_state(
            planned, [planned[k] if k < done else None for k in range(4)], progress, today
        )
        assert colour == target, (name, colour, target)
        for k, day in enumerate(planned):
            rows.append(
                {
                    "项目名称": name,
                    "牵头单位": units[i % len(units)],
                    "责任领导": "分管副市长" if i % 2 else "市政府秘书长",
                    "区县代码": None,
                    "年度": today.year,
                    "进度（%）": progress,
                    "项目状态": "已完成" if progress >= 100 else "推进中",
                    "进展情况": f"{state}：已完成 {done} 个节点",
                    "节点序号": k + 1,
                    "节点名称": ("方案制定", "试点运行", "全面推开", "总结评估")[k],
                    "计划完成日期": pd.Timestamp(day),
                    "实际完成日期": pd.Timestamp(day) if k < done else None,
                }
            )
    return pd.DataFrame(rows)


HOLDERS = {"省内": ("杭州市", "宁波市", "湖州市"), "省外": ("深圳市", "上海市", "苏州市")}


def benchmarks_frame(con, period: str, today: dt.date) -> pd.DataFrame:
    """省内 / 省外 benchmarks a little better than the best district (direction-aware)."""
    ind = con.execute(
        """SELECT indicator_key, any_value(direction) AS direction,
                  max(value) FILTER (WHERE NOT is_city) AS hi, min(value) FILTER (WHERE NOT is_city) AS lo,
                  any_value(unit) AS unit
           FROM indicator_scores WHERE period = ? AND value IS NOT NULL GROUP BY indicator_key
           ORDER BY indicator_key""",
        [period],
    ).df()
    rows = []
    for i, r in enumerate(ind.itertuples()):
        up = r.direction == "higher_is_better"
        for level, k in (("省内", 0.02), ("省外", 0.05)):
            best = r.hi if up else r.lo
            if best is None or best != best:
                continue
            value = best * (1 + k) if up else best * (1 - k)
            if r.unit == "%":
                value = min(value, 100.0)
            rows.append(
                {
                    "指标代码": r.indicator_key,
                    "对标层级": level,
                    "标杆值": round(float(value), 2),
                    "标杆城市": HOLDERS[level][i % 3],
                    "数据来源": "演示数据：省营商环境评价通报"
                    if level == "省内"
                    else "演示数据：全国营商环境评价报告",
                    "截至日期": pd.Timestamp(today.replace(day=1)),
                }
            )
    return pd.DataFrame(rows)


def measures_frame(cells: pd.DataFrame, owner: dict[str, str], today: dt.date) -> pd.DataFrame:
    seen = cells.drop_duplicates("indicator_key").head(12)
    return pd.DataFrame(
        [
            {
                "指标代码": r.indicator_key,
                "区县代码（空为全市）": None if i % 3 == 0 else r.district_code,
                "举措名称": f"{r.label_zh}提升微改革",
                "责任单位": owner.get(r.indicator_key, "市政务服务管理办公室"),
                "完成时限": pd.Timestamp(today + dt.timedelta(days=60 + 10 * i)),
                "推进情况": "已制定方案，正在试点" if i % 2 else "已全面推开",
                "举措前数值": None if r.value != r.value else round(float(r.value), 2),
                "举措后数值": None
                if i % 2
                else round(float(r.value) * 1.05, 2)
                if r.value == r.value
                else None,
            }
            for i, r in enumerate(seen.itertuples())
        ]
    )


def _write(out: Path, kind: str, df: pd.DataFrame) -> Path:
    path = out / f"{ledgers.KIND_NAMES[kind]}.xlsx"
    path.write_bytes(ledgers.frame_bytes(df, kind))
    return path


def generate(
    data_dir: DataDir, out: Path, today: dt.date | None = None, seed: int = 20261201
) -> list[Path]:
    """Write the demo 台账 into `out` and import them; returns the files."""
    today = today or dt.date.today()
    out.mkdir(parents=True, exist_ok=True)
    snap = store.current_snapshot_path(data_dir)
    if snap is None:
        return []
    owner = tasks.owners(tasks._spec())
    units = sorted(set(owner.values())) or ["市政务服务管理办公室"]
    con = store.connect_snapshot(snap)
    try:
        period = reads.last_complete_period(con)
        if period is None:
            return []
        districts = con.execute(
            "SELECT district_code, score FROM overall_scores WHERE period = ? AND NOT is_city",
            [period],
        ).df()
        cells = reads.task_cells(con, period)
        files = [
            _write(out, "problems", problems_frame(districts, units, today, seed)),
            _write(out, "projects", projects_frame(units, today, seed)),
            _write(out, "benchmarks", benchmarks_frame(con, period, today)),
            _write(out, "measures", measures_frame(cells[cells["kind"] == "red"], owner, today)),
        ]
        for f in files:
            ledgers.import_file(data_dir, f, DEMO_ACTOR, demo=True)
        tasks.propose(data_dir, snap, today=today, actor=DEMO_ACTOR)
        tasks.mark_demo(data_dir)  # proposed from the demo's red cells: they go with the demo
        # 营商办 confirmed most proposed tasks; some units reported progress
        tf = ledgers.export_frame(data_dir, "tasks")
        rng = np.random.default_rng(seed + 2)
        pick = rng.random(len(tf))
        tf.loc[pick < 0.85, "督办状态"] = "督办中"
        tf.loc[pick >= 0.95, "督办状态"] = "不督办"
        tf.loc[pick < 0.4, "整改进展"] = "已制定整改方案，正在落实"
        late = pick < 0.15  # overdue by 3–40 days
        tf.loc[late, "整改时限"] = [
            pd.Timestamp(today - dt.timedelta(days=int(d)))
            for d in rng.integers(3, 41, int(late.sum()))
        ]
        files.append(_write(out, "tasks", tf))
        ledgers.import_file(data_dir, files[-1], DEMO_ACTOR, demo=True)
        lead = leads.leads(con, data_dir, period, today)
    finally:
        con.close()
    awards = []
    for kind in ("蜗牛", "骏马"):
        top = lead[lead["kind"] == kind].head(3)
        for k, r in enumerate(top.itertuples()):
            awards.append(
                {
                    "季度": period,
                    "奖项": kind,
                    "单位": r.unit,
                    "区县代码": r.district_code,
                    "是否授予": "是" if k == 0 else "否",
                    "评议日期": pd.Timestamp(today - dt.timedelta(days=20)),
                    "评议说明": "季度评议会议审定" if k == 0 else "列为候选，未授予",
                    "依据": r.evidence,
                }
            )
    files.append(_write(out, "awards", pd.DataFrame(awards)))
    ledgers.import_file(data_dir, files[-1], DEMO_ACTOR, demo=True)
    return files
