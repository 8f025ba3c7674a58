"""Notices that say when a page's numbers are partial: the quarter is still in progress, or a
ranking rests on fewer domains than usual (and why the missing scores are —)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from kpi.read import coverage
from ui import format as fmt


def quarter_in_progress(period: str, as_of, latest_complete: str | None) -> None:
    """An in-progress quarter: what its numbers are and what is not computed for it."""
    back = f"完整季度的排名与比较请选 {latest_complete}。" if latest_complete else ""
    st.info(
        f"{period} 是进行中的季度（数据截至 {fmt.timestamp(as_of)}）：数值会随后续导入变化；"
        f"不计算环比、同比和名次变化，不评进步榜、退步榜。{back}",
        icon=":material/hourglass_top:",
    )


def thin_ranking(cov: pd.DataFrame, where: str = "未评分的领域及原因见热力图下方。") -> bool:
    """A warning when some district's 综合指数 rests on fewer domains than usual; returns whether
    one was shown."""
    text = coverage.coverage_text(cov)
    if not text:
        return False
    st.warning(
        f"{text}。综合指数和排名只比较已评分的领域，与以往季度不完全可比；{where}",
        icon=":material/warning:",
    )
    return True


def unscored_caption(unscored: pd.DataFrame, n_units: int) -> None:
    """ "— 为本季度不评分：获得信贷、跨境贸易（无数据）；…" under a table of domain scores."""
    text = coverage.unscored_text(unscored, n_units)
    if text:
        st.caption(f"“—”为本季度不评分的领域：{text}。")
