"""季度评议材料: the workbook office staff hand to leaders for the quarterly review.

Sheets: 总览 (overall ranking, with a note where a district's index rests on fewer domains than
the spec has), one sheet per domain (indicators down the rows — 值/得分/排名/环比 under each — and
the districts across, with RAG as cell colours and a 说明 list of every score left blank and why),
红黄绿预警 (the warning list), 进步退步榜 (kpi.read.movers), 对标提升清单 (every district's),
数据质量 (填报及时率, indicators with data, records quarantined, per district) and 单位记分卡 (the
12345 承办单位, 办理部门 and 评价部门 ranked on their own records). Every
sheet has a title with the period (marked 进行中 for the quarter in progress) and the data
timestamp, a frozen header, fitted column widths, numbers stored as numbers with display formats,
and a page setup for printing: A4 landscape, one page wide, title and header repeated on every
page, and a footer with the page number and 数据截至.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pandas as pd
import xlsxwriter

from kpi.read import exports, movers, queries
from kpi.read.exports import display_width

RAG_FILL = {"green": "#C6EFCE", "amber": "#FFEB9C", "red": "#FFC7CE"}
RAG_FONT = {"green": "#006100", "amber": "#9C5700", "red": "#9C0006"}
RAG_TEXT = exports.RAG_TEXT
TREND_TEXT = exports.TREND_TEXT
SHEET_OVERVIEW, SHEET_WARN, SHEET_MOVERS, SHEET_BENCH = (
    "总览",
    "红黄绿预警",
    "进步退步榜",
    "对标提升清单",
)
SHEET_QUALITY, SHEET_UNITS = "数据质量", "单位记分卡"


def _value_format(unit: str | None) -> str:
    return '0.0"%"' if unit == "%" else "0.0"


def _sheet_name(text: str, used: set[str]) -> str:
    name = re.sub(r"[\[\]:*?/\\]", "", text)[:31]
    base, i = name, 2
    while name in used:
        name = f"{base[:28]}_{i}"
        i += 1
    used.add(name)
    return name


class Pack:
    """What every sheet's title and footer say: city, period (进行中 or not), data timestamps."""

    def __init__(self, meta: dict, period: str, partial: bool):
        self.city = meta.get("city_name", "")
        self.partial = partial
        self.period = f"{period}（进行中）" if partial else period
        self.as_of = str(meta.get("data_as_of", "—")).replace("T", " ")[:16]
        self.built = str(meta.get("built_at", "—")).replace("T", " ")[:16]

    def title(self, what: str) -> str:
        return (
            f"{self.city}营商环境季度评议材料 · {self.period} · {what}\n"
            f"数据截至 {self.as_of} · 更新于 {self.built}"
        )

    @property
    def footer(self) -> tuple[str, str]:
        return "&A", exports.footer_text(f"{self.city} · {self.period} · 数据截至 {self.as_of}")


def _rag_cells(rags: list, columns: set[str]):
    def cell(r: int, col: str):
        if col in columns and isinstance(rags[r], str) and rags[r] in RAG_FILL:
            return {"bg_color": RAG_FILL[rags[r]], "font_color": RAG_FONT[rags[r]]}
        return None

    return cell


def _domain_notes(matrix: pd.DataFrame, n_domains: int) -> tuple[dict[str, str], list[str]]:
    """Where an index rests on fewer domains than the spec has: (district_code → 说明, notes for
    below the table). Domains no one could score this quarter are named once, below the table."""
    missing = matrix[matrix["score"].isna()].sort_values("domain_id")

    def why(rows) -> str:
        return "、".join(
            f"{r.label_zh}（{r.suppressed_reason}）"
            if isinstance(r.suppressed_reason, str)
            else r.label_zh
            for r in rows.itertuples()
        )

    everyone = set(matrix["district_code"])
    by_domain = missing.groupby("domain_key")["district_code"].agg(set)
    common = {k for k, codes in by_domain.items() if codes == everyone}
    per_row, below = {}, []
    for code, rows in matrix.groupby("district_code", sort=False):
        scored = int(rows["score"].notna().sum())
        if scored >= n_domains:
            continue
        own = missing[(missing["district_code"] == code) & ~missing["domain_key"].isin(common)]
        text = f"只基于 {scored}/{n_domains} 个领域" if scored else "没有可评分的领域"
        per_row[code] = text + (f"；本区县另有未评分：{why(own)}" if len(own) else "")
    if common:
        shared = missing[missing["domain_key"].isin(common)].drop_duplicates("domain_key")
        below.append(f"说明：本季度所有区县都未评分的领域（不计入综合指数）：{why(shared)}。")
    return per_row, below


def overview_frame(con, period: str) -> tuple[pd.DataFrame, list, list[str]]:
    """The 总览 table, its RAG per row, and the notes for below it."""
    ov = queries.overall(con, period)
    d = ov[~ov["is_city"].astype(bool)]
    c = ov[ov["is_city"].astype(bool)]
    rows = pd.concat([d, c])
    notes, below = _domain_notes(queries.domain_matrix(con, period), len(queries.domains(con)))
    return (
        pd.DataFrame(
            {
                "排名": rows["rank"].astype("Int64").to_numpy(dtype=object, na_value=None),
                "区县": [
                    "全市" if ic else n
                    for ic, n in zip(rows["is_city"], rows["district_name"], strict=False)
                ],
                "综合指数": rows["score"].to_numpy(),
                "名次变化": rows["rank_change"]
                .astype("Int64")
                .to_numpy(dtype=object, na_value=None),
                "上季度得分": rows["score_prev"].to_numpy(),
                "环比": rows["score_qoq"].to_numpy(),
                "环比趋势": [
                    TREND_TEXT.get(t, "") if isinstance(t, str) else "" for t in rows["trend_qoq"]
                ],
                "红色指标数": rows["n_red"].astype("Int64").to_numpy(dtype=object, na_value=None),
                "评分领域数": rows["n_domains_scored"]
                .astype("Int64")
                .to_numpy(dtype=object, na_value=None),
                "等级": [RAG_TEXT.get(r, "") if isinstance(r, str) else "" for r in rows["rag"]],
                "说明": [
                    "；".join(
                        x for x in (notes.get(code, ""), cov if isinstance(cov, str) else "") if x
                    )
                    for code, cov in zip(
                        rows["district_code"],
                        rows["coverage_note"] if "coverage_note" in rows else [None] * len(rows),
                        strict=True,
                    )
                ],
            }
        ),
        list(rows["rag"]),
        below,
    )


MEASURES = (("值", "value"), ("得分", "score"), ("排名", "rank"), ("环比", "value_qoq"))


def _write_domain_sheet(
    wb, name: str, pack: Pack, label: str, dom_rows: pd.DataFrame, ind: pd.DataFrame
) -> None:
    """Indicators down the rows (值/得分/排名/环比 under each, the domain score first), districts
    across (best first, 全市 last): as many columns as districts, so it prints one page wide at a
    readable size however many indicators the domain has. Below: every blank score and why."""
    ws = wb.add_worksheet(name)
    border = {"border": 1, "valign": "vcenter"}
    f_title = wb.add_format({"bold": True, "font_size": 13, "text_wrap": True, "valign": "top"})
    f_head = wb.add_format(
        {**border, "bold": True, "bg_color": "#EEF2F7", "align": "center", "text_wrap": True}
    )
    f_label = wb.add_format({**border, "text_wrap": True})
    f_label_bold = wb.add_format({**border, "text_wrap": True, "bold": True})
    f_measure = wb.add_format({**border, "align": "center", "font_color": "#57606A"})
    f_dash = wb.add_format({**border, "align": "center", "font_color": "#8C959F"})
    f_note = wb.add_format({"text_wrap": True, "valign": "top"})
    formats: dict[tuple, object] = {}

    def num_fmt(num_format: str, rag=None) -> object:
        key = (num_format, rag if isinstance(rag, str) and rag in RAG_FILL else None)
        if key not in formats:
            props = {**border, "num_format": num_format}
            if key[1]:
                props.update(bg_color=RAG_FILL[key[1]], font_color=RAG_FONT[key[1]])
            formats[key] = wb.add_format(props)
        return formats[key]

    def cell(r: int, c: int, v, f) -> None:
        if v is None or (not isinstance(v, str) and pd.isna(v)):
            ws.write_string(r, c, "—", f_dash)
        else:
            ws.write_number(r, c, float(v), f)

    districts = dom_rows.sort_values(
        ["is_city", "rank", "district_code"], ascending=[True, True, True], na_position="last"
    )
    columns = [
        ("全市" if d.is_city else d.district_name, d.district_code) for d in districts.itertuples()
    ]
    heads = ["指标", "单位", "项目", *(n for n, _ in columns)]
    for c, h in enumerate(heads):
        ws.write_string(1, c, h, f_head)

    blanks: dict[tuple[str, str], list[str]] = {}  # (what, why) → who: every blank score, grouped
    r = 2
    # the domain score first
    ws.merge_range(r, 0, r + 2, 0, "", f_label_bold)
    ws.write_string(r, 0, f"{label}（领域得分）", f_label_bold)
    ws.merge_range(r, 1, r + 2, 1, "", f_label)
    ws.write_string(r, 1, "分", f_label)
    by_code = {d.district_code: d for d in districts.itertuples()}
    for k, (m, fmt) in enumerate((("得分", "0.0"), ("排名", "0"), ("环比", "+0.0;-0.0;0.0"))):
        ws.write_string(r + k, 2, m, f_measure)
        for c, (_, code) in enumerate(columns, start=3):
            d = by_code[code]
            v = {"得分": d.score, "排名": d.rank, "环比": d.score_qoq}[m]
            cell(r + k, c, v, num_fmt(fmt, d.rag if m == "得分" else None))
    for _, code in columns:
        d = by_code[code]
        if pd.isna(d.score) and isinstance(d.suppressed_reason, str):
            who = "全市" if d.is_city else d.district_name
            blanks.setdefault(("领域得分", d.suppressed_reason), []).append(who)
    r += 3

    by_key = {(x.district_code, x.indicator_key): x for x in ind.itertuples()}
    for i in ind.drop_duplicates("indicator_key").sort_values("indicator_id").itertuples():
        unit = i.unit if isinstance(i.unit, str) else ""
        ws.merge_range(r, 0, r + 3, 0, "", f_label)
        ws.write_string(r, 0, i.label_zh, f_label)
        ws.merge_range(r, 1, r + 3, 1, "", f_label)
        ws.write_string(r, 1, unit, f_label)
        formats_by_measure = {
            "值": _value_format(unit),
            "得分": "0.0",
            "排名": "0",
            "环比": "+0.0;-0.0;0.0",
        }
        for k, (m, col) in enumerate(MEASURES):
            ws.write_string(r + k, 2, m, f_measure)
            for c, (_, code) in enumerate(columns, start=3):
                x = by_key.get((code, i.indicator_key))
                v = None if x is None else getattr(x, col)
                rag = x.rag if x is not None and m == "值" else None
                cell(r + k, c, v, num_fmt(formats_by_measure[m], rag))
        for who, code in columns:
            x = by_key.get((code, i.indicator_key))
            if x is not None and pd.isna(x.score) and isinstance(x.suppressed_reason, str):
                blanks.setdefault((i.label_zh, x.suppressed_reason), []).append(who)
        r += 4

    widths = [
        min(max([display_width(f"{label}（领域得分）") // 2 + 2, 12]), 22),
        6,
        6,
        *(max(display_width(n) + 2, 9) for n, _ in columns),
    ]
    for c, w in enumerate(widths):
        ws.set_column(c, c, w)
    total = sum(widths)

    notes = [
        f"{what}：{why}，不评分、不排名（"
        + ("所有区县和全市" if len(who) == len(columns) else "、".join(who))
        + "）"
        for (what, why), who in blanks.items()
    ]
    r += 1
    if notes or pack.partial:
        head = "说明：“—”表示没有得分或不可比" + (
            "；进行中的季度不与完整季度比较，环比和名次变化为空。" if pack.partial else "。"
        )
        for k, text in enumerate([head, *(f"{n}. {t}" for n, t in enumerate(notes, 1))]):
            ws.merge_range(r + k, 0, r + k, len(heads) - 1, "", f_note)
            ws.write_string(r + k, 0, text, f_note)
            ws.set_row(r + k, 15 * exports.title_rows(text, total * 1.2))
    title = pack.title(label)
    ws.merge_range(0, 0, 0, len(heads) - 1, "", f_title)
    ws.write_string(0, 0, title, f_title)
    ws.set_row(0, 18 * exports.title_rows(title, total))
    ws.freeze_panes(2, 3)
    # A domain that runs a little over one page is shrunk onto one rather than split mid-block.
    height = 18 * exports.title_rows(title, total) + 15 * (r + len(notes) + 2)
    tall = 1 if exports.printed_pages(widths, height) <= 1.6 else 0
    exports.print_setup(ws, 1, *pack.footer, pages_tall=tall)


def warning_frame(con, period: str) -> tuple[pd.DataFrame, list]:
    ind = queries.indicators(con, period)
    w = ind[~ind["is_city"].astype(bool) & ind["rag"].isin(["red", "amber"])].copy()
    w["_o"] = w["rag"].map({"red": 0, "amber": 1})
    w = w.sort_values(["_o", "domain_id", "indicator_id", "rank"])
    return pd.DataFrame(
        {
            "等级": [RAG_TEXT[r] for r in w["rag"]],
            "区县": w["district_name"].to_numpy(),
            "领域": w["domain_key"].map(_domain_labels(con)).to_numpy(),
            "指标": w["label_zh"].to_numpy(),
            "单位": w["unit"].to_numpy(),
            "指标值": w["value"].to_numpy(),
            "预警值": w["warn"].to_numpy(),
            "先进值": w["advanced"].to_numpy(),
            "得分": w["score"].to_numpy(),
            "排名": w["rank"].astype("Int64").to_numpy(dtype=object, na_value=None),
            "环比": w["value_qoq"].to_numpy(),
        }
    ), list(w["rag"])


def _domain_labels(con) -> dict[str, str]:
    d = queries.domains(con)
    return dict(zip(d["domain_key"], d["label_zh"], strict=False))


def movers_frame(con, period: str) -> pd.DataFrame:
    up, down = movers.select(queries.overall(con, period), n=None)  # every mover, same rule
    both = pd.concat([up.assign(榜单="进步"), down.assign(榜单="退步")])
    return pd.DataFrame(
        {
            "榜单": both["榜单"].to_numpy(),
            "区县": both["district_name"].to_numpy(),
            "综合指数": both["score"].to_numpy(),
            "环比": both["score_qoq"].to_numpy(),
            "名次": both["rank"].astype("Int64").to_numpy(dtype=object, na_value=None),
            "名次变化": both["rank_change"].astype("Int64").to_numpy(dtype=object, na_value=None),
            "红色指标数": both["n_red"].astype("Int64").to_numpy(dtype=object, na_value=None),
        }
    )


def benchmark_frame(con, period: str) -> pd.DataFrame:
    labels = _domain_labels(con)
    parts = []
    for code, name in queries.districts(con)[["district_code", "district_name"]].itertuples(
        index=False
    ):
        bm = queries.benchmark(con, period, code)
        if bm.empty:
            continue
        parts.append(
            pd.DataFrame(
                {
                    "区县": name,
                    "领域": bm["domain_key"].map(labels),
                    "指标": bm["label_zh"],
                    "单位": bm["unit"],
                    "本区县值": bm["value"],
                    "得分": bm["score"],
                    "排名": bm["rank"].astype("Int64").to_numpy(dtype=object, na_value=None),
                    "最优区县": bm["best_district"],
                    "最优值": bm["best_value"],
                    "与最优差距": bm["gap"],
                    "先进值": bm["advanced"],
                    "距先进值": bm["to_advanced"],
                }
            )
        )
    cols = [
        "区县",
        "领域",
        "指标",
        "单位",
        "本区县值",
        "得分",
        "排名",
        "最优区县",
        "最优值",
        "与最优差距",
        "先进值",
        "距先进值",
    ]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=cols)


def review_bytes(con, period: str, extra: dict[str, pd.DataFrame] | None = None) -> bytes:
    """The whole 季度评议材料 workbook for `period` as XLSX bytes. `extra`: sheets the caller adds
    after the score sheets, by name (the 督办 sheets: office.tracking.views.review_sheets — the
    application database's items, which this module does not read)."""
    quarters = queries.periods(con)
    partial = bool(quarters.loc[quarters["period"] == period, "is_partial"].any())
    pack = Pack(queries.meta(con), period, partial)
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, exports.WORKBOOK_OPTIONS)
    used = {SHEET_OVERVIEW, SHEET_WARN, SHEET_MOVERS, SHEET_BENCH, SHEET_QUALITY, SHEET_UNITS}

    ov, ov_rag, ov_notes = overview_frame(con, period)
    exports.write_sheet(
        wb,
        SHEET_OVERVIEW,
        ov,
        pack.title("综合排名"),
        formats={"综合指数": "0.0", "上季度得分": "0.0", "环比": "+0.0;-0.0;0.0"},
        cell_formats=_rag_cells(ov_rag, {"综合指数", "等级"}),
        freeze_cols=2,
        footer=pack.footer,
        notes=ov_notes,
    )

    matrix = queries.domain_matrix(con, period)
    ind_all = queries.indicators(con, period)
    for dom in queries.domains(con).itertuples():
        name = _sheet_name(f"{dom.domain_id} {dom.label_zh}", used)
        _write_domain_sheet(
            wb,
            name,
            pack,
            dom.label_zh,
            matrix[matrix["domain_key"] == dom.domain_key],
            ind_all[ind_all["domain_key"] == dom.domain_key],
        )

    warn, warn_rag = warning_frame(con, period)
    exports.write_sheet(
        wb,
        SHEET_WARN,
        warn,
        pack.title("红黄绿预警清单"),
        formats={"排名": "0"},
        cell_formats=_rag_cells(warn_rag, {"等级", "指标值"}),
        freeze_cols=2,
        footer=pack.footer,
    )
    mover_rows = movers_frame(con, period)
    ws = exports.write_sheet(
        wb,
        SHEET_MOVERS,
        mover_rows,
        pack.title("进步榜 · 退步榜（较上季综合指数变化超出持平带宽的区县，按变化幅度排列）"),
        formats={"环比": "+0.0;-0.0;0.0", "名次变化": "+0;-0;0"},
        footer=pack.footer,
    )
    if mover_rows.empty:
        ws.write_string(
            3,
            0,
            "本季度没有环比进步或退步的区县"
            + ("（进行中的季度不与完整季度比较）。" if partial else "。"),
        )
    exports.write_sheet(
        wb,
        SHEET_BENCH,
        benchmark_frame(con, period),
        pack.title("对标提升清单"),
        formats={"排名": "0"},
        freeze_cols=3,
        footer=pack.footer,
    )
    quality = queries.data_quality_table(queries.data_quality(con, period))
    if not quality.empty:
        exports.write_sheet(
            wb,
            SHEET_QUALITY,
            quality,
            pack.title("数据质量（填报及时率、有数据的指标、隔离记录）"),
            formats={c: "0.0" for c in quality.columns if c.endswith("（%）")},
            freeze_cols=1,
            footer=pack.footer,
            notes=[
                "填报及时率 = 在报送期限内报送的填报 ÷ 应报的填报；应报未报的指标计 0 分并标红。",
                "有数据指标占比 = 有数值的指标 ÷ 适用的指标（市级指标、没有此类记录的不算适用）。",
                "隔离记录按行中写明的区县和时间归属；全市行含区县不明的行。",
            ],
        )
    units = queries.unit_table(queries.unit_scorecards(con, period))
    if not units.empty:
        exports.write_sheet(
            wb,
            SHEET_UNITS,
            units,
            pack.title("单位记分卡（12345 承办单位、办件办理部门、好差评评价部门）"),
            formats={
                c: "0.0"
                for c in units.columns
                if c not in ("排名", "评分指标数", "单位", "区县", "说明") and "样本量" not in c
            },
            freeze_cols=3,
            footer=pack.footer,
            notes=[
                "每个单位按自己的记录计算各指标（定义同指标体系）；样本量不足的为空、不评分；"
                "综合得分为已评分指标得分的平均，排名在全市所有单位中。",
            ],
        )
    for name, frame in (extra or {}).items():
        ws = exports.write_sheet(
            wb,
            _sheet_name(name, used),
            frame,
            pack.title(name),
            formats={c: "0.0" for c in frame.columns if c.endswith(("率", "（%）", "差距"))},
            footer=pack.footer,
        )
        if frame.empty:
            ws.write_string(3, 0, f"暂无{name}。")
    wb.close()
    return buf.getvalue()


def write_review(
    con, period: str, path: Path, extra: dict[str, pd.DataFrame] | None = None
) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(review_bytes(con, period, extra))
    return path
