"""CSV and XLSX writers for every table the dashboard shows, and the analysts' mart exports.

CSV is UTF-8 with a BOM so that Excel and WPS open Chinese headers correctly on a double click.
XLSX keeps numbers as numbers (with a display format), dates as Excel dates, freezes the header,
fits column widths and prints on A4 landscape, one page wide, with the header repeated.

Text cells that a spreadsheet would read as a formula (starting with = + - @, a tab or a carriage
return) are written with a leading ' in CSV (formula injection: the cells come from exports we do
not control, e.g. file names and quarantined rows); XLSX cells are always written as strings,
never as formulas. Numbers stay numbers in both.
"""

from __future__ import annotations

import datetime as dt
import io
import numbers
import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter

from kpi import schema
from kpi.schema import SOURCE_LABELS

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


# Chinese values for the marts' code columns (bizenv export --table).
TREND_TEXT = {"improved": "进步", "worsened": "退步", "unchanged": "持平"}
RAG_TEXT = {"red": "红", "amber": "黄", "green": "绿"}
DIRECTION_TEXT = {"higher_is_better": "越高越好", "lower_is_better": "越低越好"}
MART_VALUE_TEXT = {
    "trend_qoq": TREND_TEXT,
    "trend_yoy": TREND_TEXT,
    "rag": RAG_TEXT,
    "direction": DIRECTION_TEXT,
    "source": SOURCE_LABELS,
}
YES_NO = {True: "是", False: "否"}

# A cell a spreadsheet would run as a formula; a plain number such as -1.5 or +3 is harmless text
# (it opens as that number) and is left as it is.
_FORMULA_START = r"[=+\-@\t\r]"
_PLAIN_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"


def csv_safe_text(text: str) -> str:
    """`text` with a leading ' when a spreadsheet would read it as a formula."""
    if re.match(_FORMULA_START, text) and not re.fullmatch(_PLAIN_NUMBER, text):
        return "'" + text
    return text


def _csv_column(series: pd.Series) -> pd.Series:
    """Booleans as 是/否, formula-like text escaped; numbers and dates untouched."""
    if pd.api.types.is_bool_dtype(series):
        return series.map(YES_NO)
    if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_datetime64_any_dtype(series):
        return series
    s = series
    if s.dtype == object:  # mixed cells: booleans among them are 是/否 too
        bools = s.map(lambda v: isinstance(v, (bool, np.bool_)))
        if bools.any():
            s = s.mask(bools, s[bools].map(lambda v: YES_NO[bool(v)]))
    try:
        risky = s.str.match(_FORMULA_START, na=False) & ~s.str.fullmatch(_PLAIN_NUMBER, na=False)
    except AttributeError:  # no text in this column
        return s
    if risky.any():
        s = s.mask(risky, "'" + s[risky].astype(str))
    return s


def csv_frame(df: pd.DataFrame) -> pd.DataFrame:
    """`df` as it goes into a CSV: 是/否 for booleans, formula-like text (cells and headers) escaped."""
    out = pd.DataFrame({i: _csv_column(df[c]) for i, c in enumerate(df.columns)})
    out.columns = [csv_safe_text(str(c)) for c in df.columns]
    return out


def csv_bytes(df: pd.DataFrame) -> bytes:
    """CSV in UTF-8 with BOM (Excel/WPS read the Chinese correctly), safe to double-click.

    Lines end in CRLF (RFC 4180, as Excel writes them), which also makes the writer quote a cell
    holding a bare carriage return instead of breaking the row."""
    return csv_frame(df).to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def display_width(text) -> int:
    """Columns a string takes in a spreadsheet: CJK (wide) characters count twice."""
    s = "" if text is None else str(text)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def _blank(v) -> bool:
    try:
        return v is None or bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
# Workbook options for every XLSX we write: a cell that starts with "=" stays text, never a formula.
WORKBOOK_OPTIONS = {
    "in_memory": True,
    "nan_inf_to_errors": True,
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "remove_timezone": True,
}


def number_format(series: pd.Series) -> str | None:
    if pd.api.types.is_bool_dtype(series):
        return None
    if pd.api.types.is_integer_dtype(series):
        return "0"
    if pd.api.types.is_float_dtype(series):
        return "0.0"
    if pd.api.types.is_datetime64_any_dtype(series):
        days = series.dropna()
        return DATE_FORMAT if len(days) and (days == days.dt.normalize()).all() else DATETIME_FORMAT
    return None


def footer_text(text: str) -> str:
    """Literal text for a header/footer (& is a code there)."""
    return text.replace("&", "&&")


WRAP_AT = 40  # text columns wider than this many characters wrap instead of widening the page

# Printable area of an A4 landscape page with the margins below, in points (1/72 inch).
PAGE_WIDTH_PT, PAGE_HEIGHT_PT = 842 - 0.8 * 72, 595 - 1.2 * 72


def print_setup(
    ws, repeat_rows: int, footer_left: str = "&A", footer_right: str = "", pages_tall: int = 0
) -> None:
    """A4 landscape, one page wide and `pages_tall` tall (0: as many as needed), rows
    0..repeat_rows repeated on every page, and a small footer: `footer_left` · 第 1 页，共 3 页 ·
    `footer_right` (header/footer codes such as &A, the sheet name, work; see `footer_text`)."""
    ws.set_paper(9)  # A4
    ws.set_landscape()
    ws.fit_to_pages(1, pages_tall)
    ws.repeat_rows(0, repeat_rows)
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.7)
    ws.set_footer(f"&L&8{footer_left}&C&8第 &P 页，共 &N 页&R&8{footer_right}", {"margin": 0.3})


def printed_pages(column_widths: Sequence[float], row_heights_pt: float) -> float:
    """About how many pages tall a sheet prints once scaled to one page wide."""
    width_pt = sum(w * 7 + 5 for w in column_widths) * 0.75  # character units → pixels → points
    scale = min(1.0, PAGE_WIDTH_PT / max(width_pt, 1))
    return row_heights_pt * scale / PAGE_HEIGHT_PT


def title_rows(text: str, total_width: float) -> int:
    """Lines a wrapped 13-pt title takes over columns of `total_width` character units."""
    per_line = max(total_width / 1.2, 10)  # a 13-pt bold character is ~1.2 units of an 11-pt one
    return sum(max(1, -(-display_width(line) // int(per_line))) for line in text.split("\n"))


def write_sheet(
    wb,
    name: str,
    df: pd.DataFrame,
    title: str | None = None,
    formats: dict[str, str] | None = None,
    cell_formats=None,
    freeze_cols: int = 0,
    footer: tuple[str, str] = ("&A", ""),
    notes: list[str] | None = None,
):
    """Write `df` to a new sheet: optional title row, bold frozen header, numbers as numbers,
    dates as Excel dates, text as text (long text wrapped), optional `notes` lines below the
    table; printable (see `print_setup`; footer = (left, right)).

    `cell_formats(row_index, column) -> dict | None` may add per-cell formatting (e.g. RAG fills).
    Returns the worksheet.
    """
    ws = wb.add_worksheet(name[:31])
    bold = wb.add_format(
        {"bold": True, "bg_color": "#eef2f7", "border": 1, "text_wrap": True, "valign": "vcenter"}
    )
    title_fmt = wb.add_format({"bold": True, "font_size": 13, "text_wrap": True, "valign": "top"})
    cache: dict[tuple, object] = {}

    def fmt_for(num_fmt: str | None, extra: dict | None):
        key = (num_fmt, tuple(sorted((extra or {}).items())))
        if key not in cache:
            props = dict(extra or {})
            if num_fmt:
                props["num_format"] = num_fmt
            cache[key] = wb.add_format(props) if props else None
        return cache[key]

    top = 1 if title else 0
    formats = formats or {}
    widths = []
    # row → lines its wrapped text needs (LibreOffice does not grow a row to fit)
    lines: dict[int, int] = {}
    for c, col in enumerate(df.columns):
        ws.write_string(top, c, str(col), bold)
        series = df[col]
        num_fmt = formats.get(col, number_format(series))
        width = display_width(col)
        text_widths: dict[str, int] = {}  # measured once per distinct text: columns repeat a lot
        for v in series:
            if isinstance(v, str) and v not in text_widths:
                text_widths[v] = display_width(v)
        longest = max(text_widths.values(), default=0)
        wrap = {"text_wrap": True, "valign": "top"} if longest > WRAP_AT else {}
        column_fmt = fmt_for(num_fmt, wrap or None)
        for r, v in enumerate(series.tolist()):
            extra = cell_formats(r, col) if cell_formats else None
            f = fmt_for(num_fmt, {**extra, **wrap}) if extra else column_fmt
            if _blank(v):
                ws.write_blank(top + 1 + r, c, None, f)
            elif isinstance(v, (bool, np.bool_)):
                ws.write_string(top + 1 + r, c, "是" if v else "否", f)
            elif isinstance(v, numbers.Real):
                ws.write_number(top + 1 + r, c, float(v), f)
                width = max(width, len(f"{float(v):.1f}"))
            elif isinstance(v, (dt.date, np.datetime64)):
                v = pd.Timestamp(v).to_pydatetime() if isinstance(v, np.datetime64) else v
                has_time = isinstance(v, dt.datetime)
                if not num_fmt:  # a date in a column of mixed values
                    f = fmt_for(DATETIME_FORMAT if has_time else DATE_FORMAT, extra)
                ws.write_datetime(top + 1 + r, c, v, f)
                width = max(width, 19 if num_fmt != DATE_FORMAT and has_time else 10)
            else:
                ws.write_string(top + 1 + r, c, str(v), f)
                if not isinstance(v, str):
                    width = max(width, display_width(v))
                elif wrap:
                    need = -(-text_widths[v] // WRAP_AT)
                    lines[top + 1 + r] = max(lines.get(top + 1 + r, 1), need)
        width = max(width, longest)
        widths.append(WRAP_AT + 2 if wrap else min(max(width + 2, 6), 60))
    for c, w in enumerate(widths):
        ws.set_column(c, c, w)
    for r, n in lines.items():
        if n > 1:
            ws.set_row(r, 15 * n)
    if notes:  # below the table, each across its width and wrapped
        note_fmt = wb.add_format({"text_wrap": True, "valign": "top"})
        first = top + 2 + len(df)
        for k, text in enumerate(notes):
            if len(widths) > 1:
                ws.merge_range(first + k, 0, first + k, len(widths) - 1, "", note_fmt)
            ws.write_string(first + k, 0, text, note_fmt)
            ws.set_row(first + k, 15 * title_rows(text, 1.2 * sum(widths)))
    if title:  # across the table's width, wrapped, so that it prints whole
        if len(widths) > 1:
            ws.merge_range(0, 0, 0, len(widths) - 1, "", title_fmt)
        ws.write_string(0, 0, title, title_fmt)
        ws.set_row(0, 18 * title_rows(title, sum(widths) or 60))
    ws.freeze_panes(top + 1, freeze_cols)
    if len(df.columns):
        ws.autofilter(top, 0, top + max(len(df), 1), len(df.columns) - 1)
    print_setup(ws, top, *footer)
    return ws


def xlsx_bytes(sheets: dict[str, pd.DataFrame], titles: dict[str, str] | None = None) -> bytes:
    """An XLSX workbook with one sheet per frame."""
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, WORKBOOK_OPTIONS)
    for name, df in sheets.items():
        write_sheet(wb, name, df, (titles or {}).get(name))
    wb.close()
    return buf.getvalue()


def mart_frame(con, table: str, period: str) -> pd.DataFrame:
    """One mart for one period with Chinese headers and values (进步/退步/持平, 红/黄/绿, 是/否,
    越高越好, 办件 …) for `bizenv export --table`; numbers stay numbers."""
    if table not in schema.MART_SHORT_NAMES:
        raise ValueError(table)
    df = con.execute(
        f'SELECT * FROM "{schema.MART_SHORT_NAMES[table]}" WHERE period = ? ORDER BY {SORT[table]}',
        [period],
    ).df()
    for col, labels in MART_VALUE_TEXT.items():
        if col in df.columns:
            df[col] = df[col].replace(labels)
    for col in df.columns:
        if pd.api.types.is_bool_dtype(df[col]):
            df[col] = df[col].map(YES_NO)
    return df.rename(columns=COLUMN_LABELS)


def write_table(df: pd.DataFrame, path: Path, fmt: str, sheet: str = "数据") -> Path:
    """Write a frame as CSV (UTF-8 BOM) or XLSX."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = csv_bytes(df) if fmt == "csv" else xlsx_bytes({sheet: df})
    path.write_bytes(data)
    return path
