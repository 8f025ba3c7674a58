"""指标填报: departmental figures, one XLSX workbook per full quarter (a title row above the header).

The indicators are read from metrics.yaml — every indicator with `source: reports` — so the demo
never invents keys. Values lie between the indicator's dtf worst and best, placed by the district's
performance that quarter (so 衢江区 climbs and 开化县 slides here too). A quarter still in progress
has no 填报 yet, as in real life.

As the 填报 template asks: an indicator with `reported` parts is filed as 分子 and 分母 per district
(the city's value is Σ 分子 ÷ Σ 分母); a plain one per district plus the city's own row; a city-level
one (`applies_to: city`) by the city only; an annual one keeps its value through the year. Each row
has its 填报时间, some after the deadline, and a few rows that were due are missing (应报未报).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml

from etl.demo import context as cx
from etl.demo import dirty
from etl.demo.context import Context

COLUMNS = [
    "所属区县",
    "统计期",
    "指标编码",
    "指标名称",
    "指标值",
    "分子",
    "分母",
    "填报单位",
    "填报时间",
    "备注",
]
DEADLINE_DAYS = (
    15  # metrics.yaml defaults.report_deadline_days (the demo's filing times straddle it)
)
_NOTES = np.array(
    [None, None, None, None, "数据来源：部门统计台账", "已上传佐证材料", "较上季度口径一致"],
    dtype=object,
)


def file_name(q) -> str:
    return f"指标填报_{q.label}.xlsx"


def title(city_name: str, q) -> str:
    return f"{city_name}营商环境指标填报（{q.label_zh}）"


def indicators(metrics_path: Path) -> list[dict]:
    """Every `source: reports` indicator of metrics.yaml (empty when the file does not exist)."""
    if not metrics_path.exists():
        return []
    spec = yaml.safe_load(metrics_path.read_text(encoding="utf-8")) or {}
    out = []
    for dom in spec.get("domains") or []:
        for ind in dom.get("indicators") or []:
            src = ind.get("source")
            if (src.get("table") if isinstance(src, dict) else src) != "reports":
                continue
            dtf = ind.get("dtf") or {}
            if "best" not in dtf or "worst" not in dtf:
                continue
            out.append(
                {
                    "key": ind["key"],
                    "label_zh": ind.get("label_zh", ind["key"]),
                    "unit": ind.get("unit", ""),
                    "best": float(dtf["best"]),
                    "worst": float(dtf["worst"]),
                    "format": ind.get("format", ".1f"),
                    "owner": dom.get("owner") or "",
                    "city": ind.get("applies_to") == "city",
                    "annual": ind.get("update_cycle") == "annual",
                    "parts": bool(ind.get("reported")),
                }
            )
    return out


def rows(
    ctx: Context, qi: int, inds: list[dict], city_name: str = "全市"
) -> tuple[dict[str, np.ndarray], dict]:
    """The quarter's rows (see the module doc), with ≈1% dirty rows."""
    rng = ctx.rng("reports", qi)
    q = ctx.quarters[qi]
    nd, ni = len(ctx.districts), len(inds)
    names = ctx.district_names()
    shares = np.array([x.share for x in ctx.districts], dtype=float)
    # position between worst (0) and best (1): performance plus an indicator-specific offset;
    # an annual figure is the same in every quarter of its year
    offset = np.random.default_rng([ctx.seed, 41]).normal(0, 0.08, ni)
    noise = rng.normal(0, 0.04, (nd, ni))
    annual = np.array([i["annual"] for i in inds], dtype=bool)
    if annual.any():
        q4 = [j for j, x in enumerate(ctx.quarters) if x.year == q.year]
        anchor = q4[0] if q4 else qi
        yearly = np.random.default_rng([ctx.seed, 43, q.year]).normal(0, 0.04, (nd, ni))
        noise[:, annual] = yearly[:, annual]
        perf = ctx.perf[:, anchor]
    else:
        perf = ctx.perf[:, qi]
    perf_q = np.where(annual[None, :], perf[:, None], ctx.perf[:, qi][:, None])
    best = np.array([i["best"] for i in inds])
    worst = np.array([i["worst"] for i in inds])
    f = np.clip(0.3 + 0.65 * perf_q + offset[None, :] + noise, 0.02, 0.99)
    values = worst + (best - worst) * f  # [district, indicator]
    decimals = np.array([_decimals(i["format"]) for i in inds])
    scale = np.array([100.0 if i["unit"] == "%" else 1.0 for i in inds])
    # 分母 of a filing in parts: a count in proportion to the district's size
    dens = np.maximum(np.rint(rng.uniform(20, 120, (nd, ni)) * shares[:, None] * nd), 3)
    q_end = np.datetime64(q.end, "s")
    out: dict[str, list] = {c: [] for c in COLUMNS}

    def add(who: str, j: int, value, num, den, unit_owner: str, late: float) -> None:
        out["所属区县"].append(who)
        out["统计期"].append(q.label)
        out["指标编码"].append(inds[j]["key"])
        out["指标名称"].append(inds[j]["label_zh"])
        out["指标值"].append(value)
        out["分子"].append(num)
        out["分母"].append(den)
        out["填报单位"].append(unit_owner)
        filed = q_end + np.timedelta64(int(late * 86400), "s")
        out["填报时间"].append(cx.excel_serial(np.array([filed]))[0])
        out["备注"].append(_NOTES[rng.integers(0, len(_NOTES))])

    for j, ind in enumerate(inds):
        owner = _local_unit(ind["owner"])
        if not ind["city"]:
            for d in range(nd):
                # a weaker district misses a filing now and then, and files later
                if rng.random() < 0.01 + 0.04 * (1 - ctx.perf[d, qi]):
                    continue
                late = max(1.0, rng.normal(6 + 14 * (1 - ctx.perf[d, qi]), 4))
                v = float(np.round(values[d, j] * 10.0 ** decimals[j]) / 10.0 ** decimals[j])
                who = names[d]
                if ind["parts"]:
                    den = float(dens[d, j])
                    num = float(np.round(values[d, j] / scale[j] * den, 2))
                    add(who, j, None, num, den, f"{who}{owner}", late)
                else:
                    add(who, j, v, None, None, f"{who}{owner}", late)
        if ind["city"] or not ind["parts"]:
            # the city's own figure: the districts' mean by size, for a plain indicator
            v = float(np.average(values[:, j], weights=shares))
            v = float(np.round(v * 10.0 ** decimals[j]) / 10.0 ** decimals[j])
            add(city_name, j, v, None, None, ind["owner"] or "填报单位", rng.uniform(2, 12))
    cols = {c: np.array(v, dtype=object) for c, v in out.items()}
    defects = [
        dirty.Defect(
            dirty.UNKNOWN_DISTRICT, dirty.set_values("所属区县", dirty.UNKNOWN_DISTRICTS[:2])
        ),
        dirty.Defect(
            dirty.BAD_NUMBER,
            dirty.set_values("指标值", np.array(["待核实", "—", "abc"], dtype=object)),
            np.array([v is not None for v in cols["指标值"]], dtype=bool),
        ),
    ]
    return cols, dirty.inject(cols, "指标编码", defects, rng, rotate=qi)


def _decimals(fmt: str) -> int:
    try:
        return int(str(fmt).strip(".f%,") or 1)
    except ValueError:
        return 1


def _local_unit(owner: str) -> str:
    """市市场监管局 → 市场监管局 (the district's own bureau files the figure)."""
    return owner[1:] if owner.startswith("市") and len(owner) > 2 else (owner or "填报单位")
