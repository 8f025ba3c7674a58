"""CSV and XLSX writers for every table the dashboard shows, and the analysts' mart exports.

CSV is UTF-8 with a BOM so that Excel and WPS open Chinese headers correctly on a double click.
XLSX keeps numbers as numbers (with a display format), freezes the header, fits column widths.
"""

from __future__ import annotations

import io
import numbers
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter

from kpi import schema

# Chinese headers for mart columns (analysts' exports and the review workbook).
COLUMN_LABELS = {
    "period": "季度",
    "is_partial": "进行中",
    "district_code": "区划代码",
    "district_name": "区县",
    "is_city": "全市",
    "domain_id": "领域编号",
    "domain_key": "领域键",
    "label_zh": "名称",
    "indicator_id": "指标编号",
    "indicator_key": "指标键",
    "unit": "单位",
    "direction": "方向",
    "source": "数据来源",
    "value": "指标值",
    "numerator": "分子",
    "denominator": "分母",
    "n": "样本量",
    "scored": "参与评分",
    "suppressed_reason": "不评分原因",
    "score": "得分",
    "weight": "权重",
    "value_prev": "上季度值",
    "value_qoq": "值环比变化",
    "value_yoy": "值同比变化",
    "rank": "排名",
    "rank_change": "名次变化",
    "score_prev": "上季度得分",
    "score_qoq": "得分环比变化",
    "score_yoy": "得分同比变化",
    "trend_qoq": "环比趋势",
    "trend_yoy": "同比趋势",
    "rag": "预警等级",
    "warn": "预警值",
    "advanced": "先进值",
    "dtf_best": "最优值（前沿）",
    "dtf_worst": "最差值（前沿）",
    "scored_weight": "可评分权重",
    "n_indicators": "指标数",
    "n_scored": "评分指标数",
    "n_red": "红色指标数",
    "n_green": "绿色指标数",
    "n_domains_scored": "评分领域数",
}
SORT = {
    "overall": "is_city DESC, rank NULLS LAST, district_code",
    "domains": "domain_id, is_city DESC, rank NULLS LAST, district_code",
    "indicators": "indicator_id, is_city DESC, rank NULLS LAST, district_code",
}


def csv_bytes(df: pd.DataFrame) -> bytes:
    """CSV in UTF-8 with BOM (Excel/WPS read the Chinese correctly)."""
    return df.to_csv(index=False).encode("utf-8-sig")


def display_width(text) -> int:
    """Columns a string takes in a spreadsheet: CJK (wide) characters count twice."""
    s = "" if text is None else str(text)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def _blank(v) -> bool:
    try:
        return v is None or bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def number_format(series: pd.Series) -> str | None:
    if pd.api.types.is_bool_dtype(series):
        return None
    if pd.api.types.is_integer_dtype(series):
        return "0"
    if pd.api.types.is_float_dtype(series):
        return "0.0"
    return None


def write_sheet(
    wb,
    name: str,
    df: pd.DataFrame,
    title: str | None = None,
    formats: dict[str, str] | None = None,
    cell_formats=None,
    freeze_cols: int = 0,
):
    """Write `df` to a new sheet: optional title row, bold frozen header, numbers as numbers.

    `cell_formats(row_index, column) -> dict | None` may add per-cell formatting (e.g. RAG fills).
    Returns the worksheet.
    """
    ws = wb.add_worksheet(name[:31])
    bold = wb.add_format(
        {"bold": True, "bg_color": "#eef2f7", "border": 1, "text_wrap": True, "valign": "vcenter"}
    )
    title_fmt = wb.add_format({"bold": True, "font_size": 13})
    cache: dict[tuple, object] = {}

    def fmt_for(num_fmt: str | None, extra: dict | None):
        key = (num_fmt, tuple(sorted((extra or {}).items())))
        if key not in cache:
            props = dict(extra or {})
            if num_fmt:
                props["num_format"] = num_fmt
            cache[key] = wb.add_format(props) if props else None
        return cache[key]

    top = 0
    if title:
        ws.write(0, 0, title, title_fmt)
        top = 1
    formats = formats or {}
    widths = []
    for c, col in enumerate(df.columns):
        ws.write(top, c, str(col), bold)
        series = df[col]
        num_fmt = formats.get(col, number_format(series))
        width = display_width(col)
        for r, v in enumerate(series.tolist()):
            extra = cell_formats(r, col) if cell_formats else None
            f = fmt_for(num_fmt, extra)
            if _blank(v):
                ws.write_blank(top + 1 + r, c, None, f)
            elif isinstance(v, (bool, np.bool_)):
                ws.write_string(top + 1 + r, c, "是" if v else "否", f)
            elif isinstance(v, numbers.Number):
                ws.write_number(top + 1 + r, c, float(v), f)
                width = max(width, len(f"{float(v):.1f}"))
            elif isinstance(v, pd.Timestamp):
                ws.write_string(top + 1 + r, c, v.strftime("%Y-%m-%d %H:%M:%S"), f)
                width = max(width, 19)
            else:
                ws.write_string(top + 1 + r, c, str(v), f)
                width = max(width, display_width(v))
        widths.append(min(max(width + 2, 6), 60))
    for c, w in enumerate(widths):
        ws.set_column(c, c, w)
    ws.freeze_panes(top + 1, freeze_cols)
    if len(df.columns):
        ws.autofilter(top, 0, top + max(len(df), 1), len(df.columns) - 1)
    return ws


def xlsx_bytes(sheets: dict[str, pd.DataFrame], titles: dict[str, str] | None = None) -> bytes:
    """An XLSX workbook with one sheet per frame."""
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "nan_inf_to_errors": True})
    for name, df in sheets.items():
        write_sheet(wb, name, df, (titles or {}).get(name))
    wb.close()
    return buf.getvalue()


def mart_frame(con, table: str, period: str) -> pd.DataFrame:
    """One mart for one period with Chinese headers (for `bizenv export --table`)."""
    if table not in schema.MART_SHORT_NAMES:
        raise ValueError(table)
    df = con.execute(
        f'SELECT * FROM "{schema.MART_SHORT_NAMES[table]}" WHERE period = ? ORDER BY {SORT[table]}',
        [period],
    ).df()
    return df.rename(columns=COLUMN_LABELS)


def write_table(df: pd.DataFrame, path: Path, fmt: str, sheet: str = "数据") -> Path:
    """Write a frame as CSV (UTF-8 BOM) or XLSX."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = csv_bytes(df) if fmt == "csv" else xlsx_bytes({sheet: df})
    path.write_bytes(data)
    return path
