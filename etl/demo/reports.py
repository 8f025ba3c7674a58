"""指标填报: departmental figures, one XLSX workbook per full quarter (a title row above the header).

The indicators are read from metrics.yaml — every indicator with `source: reports` — so the demo
never invents keys. Values lie between the indicator's dtf worst and best, placed by the district's
performance that quarter (so 衢江区 climbs and 开化县 slides here too). A quarter still in progress
has no 填报 yet, as in real life.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml

from etl.demo import context as cx
from etl.demo import dirty
from etl.demo.context import Context

COLUMNS = ["所属区县", "统计期", "指标编码", "指标名称", "指标值", "填报单位", "备注"]
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
                }
            )
    return out


def rows(ctx: Context, qi: int, inds: list[dict]) -> tuple[dict[str, np.ndarray], dict]:
    """One row per district × indicator for quarter qi, with ≈1% dirty rows."""
    rng = ctx.rng("reports", qi)
    q = ctx.quarters[qi]
    nd, ni = len(ctx.districts), len(inds)
    d = np.repeat(np.arange(nd), ni)
    k = np.tile(np.arange(ni), nd)
    best = np.array([i["best"] for i in inds])[k]
    worst = np.array([i["worst"] for i in inds])[k]
    # position between worst (0) and best (1): performance plus an indicator-specific offset
    offset = np.random.default_rng([ctx.seed, 41]).normal(0, 0.08, ni)[k]
    f = np.clip(0.3 + 0.65 * ctx.perf[d, qi] + offset + rng.normal(0, 0.04, nd * ni), 0.02, 0.99)
    value = worst + (best - worst) * f
    decimals = np.array([_decimals(i["format"]) for i in inds])[k]
    value = np.round(value * 10.0**decimals) / 10.0**decimals

    names = ctx.district_names()
    owners = np.array([_local_unit(i["owner"]) for i in inds], dtype=object)[k]
    cols = {
        "所属区县": names[d],
        "统计期": np.full(nd * ni, q.label, dtype=object),
        "指标编码": np.array([i["key"] for i in inds], dtype=object)[k],
        "指标名称": np.array([i["label_zh"] for i in inds], dtype=object)[k],
        "指标值": value.astype(object),
        "填报单位": cx.join(names[d], owners),
        "备注": _NOTES[rng.integers(0, len(_NOTES), nd * ni)],
    }
    defects = [
        dirty.Defect(
            dirty.UNKNOWN_DISTRICT, dirty.set_values("所属区县", dirty.UNKNOWN_DISTRICTS[:2])
        ),
        dirty.Defect(
            dirty.BAD_NUMBER,
            dirty.set_values("指标值", np.array(["待核实", "—", "abc"], dtype=object)),
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
