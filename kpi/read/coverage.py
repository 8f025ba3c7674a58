"""Why a score is "—", and how many domains a ranking rests on — said in words for the pages and
the LED screen. Pure functions over small frames from kpi.read.queries (`unscored_domains`,
`domain_coverage`) or the LED board; no SQL, no Streamlit.

The marts write the reasons (kpi.engine.scoring): an indicator is 无数据 or 样本量不足（n，至少 m）;
a domain is 无可评分指标 or 可评分指标权重仅 x%，不足 50%. A domain with no scorable indicator is
told apart by why its indicators are not scored: all 无数据 (typically 部门填报 not yet loaded),
all 样本不足, or a mix.
"""

from __future__ import annotations

import pandas as pd

NO_DATA = "无数据"
SMALL_SAMPLE = "样本不足"


def domain_reason(
    reason: str | None, n_indicators: int = 0, n_no_data: int = 0, n_small: int = 0
) -> str:
    """The reason a domain score is empty: 无数据 / 样本不足 / the marts' text (e.g. 可评分指标
    权重仅 20%，不足 50%) / 无可评分指标（2 项无数据、1 项样本不足）."""
    if reason and reason != "无可评分指标":
        return reason
    if n_indicators and n_no_data == n_indicators:
        return NO_DATA
    if n_indicators and n_small == n_indicators:
        return SMALL_SAMPLE
    if n_no_data or n_small:
        return f"无可评分指标（{n_no_data} 项无数据、{n_small} 项样本不足）"
    return reason or "未评分"


def short_reason(reason: str | None) -> str:
    """Four characters at most, for the LED screen: 无数据 / 样本不足 / 权重不足 / 未评分."""
    text = str(reason or "")
    if text.startswith(NO_DATA):
        return NO_DATA
    if text.startswith(("样本量不足", SMALL_SAMPLE)):
        return SMALL_SAMPLE
    if "权重" in text:
        return "权重不足"
    return "未评分"


def unscored_text(unscored: pd.DataFrame, n_units: int) -> str:
    """One sentence listing the unscored domains of a quarter by reason, e.g.
    "获得信贷、跨境贸易（无数据）；市场监管：开化县、龙游县（可评分指标权重仅 25%，不足 50%）".

    unscored: rows of kpi.read.queries.unscored_domains; n_units: the district rows plus the city
    row of the quarter — a domain unscored on all of them is named without the districts.
    """
    if unscored.empty:
        return ""
    groups: dict[str, list[str]] = {}
    for (_, label), g in unscored.groupby(["domain_id", "label_zh"], sort=True):
        for reason, h in g.groupby("reason", sort=False):
            if len(h) >= n_units:
                item = str(label)
            else:
                names = [
                    "全市" if c else n
                    for c, n in zip(h["is_city"], h["district_name"], strict=True)
                ]
                item = f"{label}：{'、'.join(names)}"
            groups.setdefault(str(reason), []).append(item)
    return "；".join(f"{'、'.join(items)}（{reason}）" for reason, items in groups.items())


def coverage_text(coverage: pd.DataFrame) -> str | None:
    """When some district's 综合指数 this quarter rests on fewer domains than usual, say so, e.g.
    "本季度各区县的综合指数依据的指标领域少于以往完整季度的 18 个：柯城区、衢江区 9 个；开化县 8 个";
    None when every district has the usual number.

    coverage: rows of kpi.read.queries.domain_coverage (one per district and the city).
    """
    d = coverage[~coverage["is_city"].astype(bool)]
    if d.empty:
        return None
    usual = int(coverage["usual"].max())
    counts = d["n_domains_scored"].fillna(0).astype(int)
    short = d[counts < usual]
    if short.empty:
        return None
    n_short = counts[counts < usual]
    parts = [
        f"{'、'.join(g['district_name'])} {int(n)} 个"
        for n, g in sorted(short.groupby(n_short), key=lambda item: -item[0])
    ]
    if len(short) == len(d) and len(parts) == 1:
        return f"本季度各区县的综合指数只依据 {int(n_short.iloc[0])} 个指标领域（以往完整季度为 {usual} 个）"
    who = "各区县" if len(short) == len(d) else "部分区县"
    return f"本季度{who}的综合指数依据的指标领域少于以往完整季度的 {usual} 个：{'；'.join(parts)}"
