"""The 指标填报 workbook departments fill in for the `source: reports` indicators.

Sheet 指标填报: a title row, then 所属区县 · 统计期 · 指标编码 (the indicator's id, D09.01) · 指标名称 ·
单位 · 指标值 · 分子 · 分母 · 填报单位 · 填报要求 · 备注, one row for every filing that is due: an indicator
filed in parts (metrics.yaml `reported`: 审结数 / 应结数 …) per district with 分子 and 分母 to fill (the
city's value is Σ 分子 ÷ Σ 分母); a plain one per district and for the city (the city's figure is
its own, never a mean of district rates); a city-level one (`applies_to: city`) for the city only.
The cells to fill are yellow, the others grey; 填报要求 says which in words. The header names are
the ones etl/profiles/reports.yaml reads, so a filled-in copy loads back with `bizenv load` (填报要求
is not read). Definitions and the bounds' basis go on a second sheet (指标说明), not in a column:
说明 is an alias of 备注 in the reports profile and would be read as a note.
"""

from __future__ import annotations

from pathlib import Path

import xlsxwriter

from kpi import catalog, periods
from kpi.errors import UserInputError
from kpi.read.scope import owner_of
from kpi.spec.models import MetricsSpec

COLUMNS = [
    "所属区县",
    "统计期",
    "指标编码",
    "指标名称",
    "单位",
    "指标值",
    "分子",
    "分母",
    "填报单位",
    "填报要求",
    "备注",
]
WIDTHS = [14, 10, 12, 30, 10, 12, 12, 12, 26, 36, 24]
GUIDE_COLUMNS = [
    "指标编码",
    "指标名称",
    "所属领域",
    "单位",
    "方向",
    "填报方式",
    "分子",
    "分母",
    "指标定义",
    "最优值",
    "最差值",
    "上下界依据",
    "预警值",
    "先进值",
    "牵头部门",
]


def districts(catalog_dir: Path | None = None) -> tuple[tuple[str, str], list[tuple[str, str]]]:
    """((city code, name), [(district code, name), …]) from the catalogue's districts.csv."""
    path = catalog.path("districts.csv", catalog_dir)
    if not path.exists():
        raise UserInputError(
            f"找不到区县目录 {path}。改法：检查 --catalog 参数或 BIZENV_CATALOG_DIR。"
        )
    rows = catalog.districts(catalog_dir)
    city = next(
        ((r["district_code"], r["district_name"]) for r in rows if r.get("level") == "city"),
        ("", ""),
    )
    return city, [
        (r["district_code"], r["district_name"]) for r in rows if r.get("level") == "district"
    ]


def write_template(
    spec: MetricsSpec,
    period: str,
    out: Path,
    catalog_dir: Path | None = None,
    with_city: bool = False,
) -> int:
    """Write the workbook; returns the number of rows to fill in.

    The city's row is there for every indicator whose city value is a figure of its own (plain and
    city-level ones); with_city adds it for those filed in parts too (a city total that then
    replaces Σ 分子 ÷ Σ 分母).
    """
    periods.parse(period)  # a clear error for '2026-3' and the like
    (_, city_name), districts_ = districts(catalog_dir)  # the city as the catalogue names it
    reported = [(d, i) for d, i in spec.indicators() if i.source == "reports"]
    if not reported:
        raise UserInputError("metrics.yaml 中没有 source 为 reports 的指标，无需填报模板。")
    if not districts_ and any(i.applies_to == "district" for _, i in reported):
        raise UserInputError(
            "区县目录 districts.csv 中没有 level 为 district 的区县，无法生成填报行。"
        )
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(out))
    try:
        title = wb.add_format(
            {"bold": True, "font_size": 14, "align": "center", "valign": "vcenter"}
        )
        head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "align": "center"})
        cell = wb.add_format({"border": 1})
        todo = wb.add_format({"border": 1, "bg_color": "#FFF2CC", "num_format": "0.00"})
        grey = wb.add_format({"border": 1, "bg_color": "#EDEDED"})
        wrap = wb.add_format({"border": 1, "text_wrap": True, "valign": "top"})

        ws = wb.add_worksheet("指标填报")
        ws.merge_range(
            0,
            0,
            0,
            len(COLUMNS) - 1,
            f"{city_name}营商环境指标填报表（{periods.label_zh(period)}）",
            title,
        )
        ws.set_row(0, 28)
        ws.write_row(1, 0, COLUMNS, head)
        for c, w in enumerate(WIDTHS):
            ws.set_column(c, c, w)
        r = 2
        for dom, ind in reported:
            for name, parts in _rows(ind, city_name, districts_, with_city):
                ws.write_row(r, 0, [name, period, ind.id, ind.label_zh, ind.unit], cell)
                if parts and ind.reported is not None:
                    ws.write_blank(r, 5, None, grey)
                    ws.write_blank(r, 6, None, todo)
                    ws.write_blank(r, 7, None, todo)
                    need = f"填分子（{ind.reported.numerator}）和分母（{ind.reported.denominator}）"
                else:
                    ws.write_blank(r, 5, None, todo)
                    ws.write_blank(r, 6, None, grey)
                    ws.write_blank(r, 7, None, grey)
                    need = "填指标值" + (
                        "（全市的数值，不是各区县的平均）" if name == city_name else ""
                    )
                ws.write_row(r, 8, [owner_of(ind, dom) or "", need, ""], cell)
                r += 1
        for col, title in ((5, "指标值"), (6, "分子"), (7, "分母")):
            ws.data_validation(
                2,
                col,
                r - 1,
                col,
                {
                    "validate": "decimal",
                    "criteria": "between",
                    "minimum": -1e12,
                    "maximum": 1e12,
                    "input_title": title,
                    "input_message": "填写数字，单位见“单位”列；百分比填 95.5 而不是 95.5%。"
                    if col == 5
                    else "填写数字（件数、天数合计等，见“填报要求”）。",
                    "error_message": f"{title}必须是数字。",
                },
            )
        ws.freeze_panes(2, 0)
        ws.autofilter(1, 0, r - 1, len(COLUMNS) - 1)

        guide = wb.add_worksheet("指标说明")
        guide.write_row(0, 0, GUIDE_COLUMNS, head)
        for c, w in enumerate([12, 30, 18, 10, 10, 16, 20, 20, 60, 10, 10, 40, 10, 10, 24]):
            guide.set_column(c, c, w)
        for g, (dom, ind) in enumerate(reported, start=1):
            how = (
                "只填全市"
                if ind.applies_to == "city"
                else "各区县填分子、分母"
                if ind.reported is not None
                else "各区县和全市填指标值"
            ) + ("；年度指标，逐季填最新年度值" if ind.update_cycle == "annual" else "")
            guide.write_row(
                g,
                0,
                [
                    ind.id,
                    ind.label_zh,
                    dom.label_zh,
                    ind.unit,
                    "越大越好" if ind.higher_is_better else "越小越好",
                    how,
                    ind.reported.numerator if ind.reported else "",
                    ind.reported.denominator if ind.reported else "",
                    ind.description,
                    ind.dtf.best,
                    ind.dtf.worst,
                    ind.dtf.basis or "",
                    "" if ind.warn is None else ind.warn,
                    "" if ind.advanced is None else ind.advanced,
                    owner_of(ind, dom) or "",
                ],
                wrap,
            )
        guide.freeze_panes(1, 0)
    finally:
        wb.close()
    return r - 2


def _rows(ind, city_name: str, districts_: list[tuple[str, str]], with_city: bool):
    """(所属区县, filed in parts) of the rows to fill for one indicator, the city first."""
    if ind.applies_to == "city":
        return [(city_name, False)]
    parts = ind.reported is not None
    rows = [(city_name, parts)] if (with_city or not parts) else []
    return rows + [(name, parts) for _, name in districts_]
