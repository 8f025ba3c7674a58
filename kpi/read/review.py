"""季度评议材料: the workbook office staff hand to leaders for the quarterly review.

Sheets: 总览 (overall ranking), one sheet per domain (districts × indicators: value, score, rank,
QoQ, with RAG as cell colours), 红黄绿预警 (the warning list), 进步退步榜 (kpi.read.movers), 对标提升清单 (every
district's). Every sheet has a title row with the period and the data timestamp, a frozen header,
fitted column widths, and numbers stored as numbers with display formats.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pandas as pd
import xlsxwriter

from kpi.read import exports, movers, queries

RAG_FILL = {"green": "#C6EFCE", "amber": "#FFEB9C", "red": "#FFC7CE"}
RAG_FONT = {"green": "#006100", "amber": "#9C5700", "red": "#9C0006"}
RAG_TEXT = {"green": "绿", "amber": "黄", "red": "红"}
TREND_TEXT = {"improved": "进步", "worsened": "退步", "unchanged": "持平"}
SHEET_OVERVIEW, SHEET_WARN, SHEET_MOVERS, SHEET_BENCH = (
    "总览",
    "红黄绿预警",
    "进步退步榜",
    "对标提升清单",
)


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


def _title(meta: dict, period: str, what: str) -> str:
    city = meta.get("city_name", "")
    return (
        f"{city}营商环境季度评议材料 · {period} · {what} · 数据截至 {str(meta.get('data_as_of', '—'))[:16]}"
        f" · 更新于 {str(meta.get('built_at', '—')).replace('T', ' ')[:16]}"
    )


def _rag_cells(rags: list, columns: set[str]):
    def cell(r: int, col: str):
        if col in columns and isinstance(rags[r], str) and rags[r] in RAG_FILL:
            return {"bg_color": RAG_FILL[rags[r]], "font_color": RAG_FONT[rags[r]]}
        return None

    return cell


def overview_frame(con, period: str) -> tuple[pd.DataFrame, list]:
    ov = queries.overall(con, period)
    d = ov[~ov["is_city"].astype(bool)]
    c = ov[ov["is_city"].astype(bool)]
    rows = pd.concat([d, c])
    return pd.DataFrame(
        {
            "排名": rows["rank"].astype("Int64").to_numpy(dtype=object, na_value=None),
            "区县": [
                "全市" if ic else n
                for ic, n in zip(rows["is_city"], rows["district_name"], strict=False)
            ],
            "综合指数": rows["score"].to_numpy(),
            "名次变化": rows["rank_change"].astype("Int64").to_numpy(dtype=object, na_value=None),
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
        }
    ), list(rows["rag"])


def _write_domain_sheet(
    wb, name: str, title: str, dom_rows: pd.DataFrame, ind: pd.DataFrame
) -> None:
    """Districts × indicators with a two-row header: indicator label over 值/得分/排名/环比."""
    ws = wb.add_worksheet(name)
    f_title = wb.add_format({"bold": True, "font_size": 13})
    f_head = wb.add_format(
        {
            "bold": True,
            "bg_color": "#EEF2F7",
            "border": 1,
            "align": "center",
            "valign": "vcenter",
            "text_wrap": True,
        }
    )
    f_num = wb.add_format({"num_format": "0.0", "border": 1})
    f_int = wb.add_format({"num_format": "0", "border": 1})
    f_signed = wb.add_format({"num_format": "+0.0;-0.0;0.0", "border": 1})
    f_text = wb.add_format({"border": 1})
    rag_formats: dict[tuple, object] = {}

    def rag_fmt(num_format: str, rag) -> object:
        key = (num_format, rag if isinstance(rag, str) else None)
        if key not in rag_formats:
            props = {"num_format": num_format, "border": 1}
            if key[1] in RAG_FILL:
                props.update(bg_color=RAG_FILL[key[1]], font_color=RAG_FONT[key[1]])
            rag_formats[key] = wb.add_format(props)
        return rag_formats[key]

    ws.write(0, 0, title, f_title)
    districts = dom_rows.sort_values(
        ["is_city", "rank"], ascending=[True, True], na_position="last"
    )
    fixed = ["区县", "领域得分", "领域排名", "领域环比"]
    for c, h in enumerate(fixed):
        ws.merge_range(1, c, 2, c, h, f_head)
    indicators = ind.drop_duplicates("indicator_key").sort_values("indicator_id")
    sub = ["值", "得分", "排名", "环比"]
    col = len(fixed)
    starts = {}
    for _, i in indicators.iterrows():
        unit = i["unit"] or ""
        ws.merge_range(
            1, col, 1, col + 3, f"{i['label_zh']}（{unit}）" if unit else i["label_zh"], f_head
        )
        for k, h in enumerate(sub):
            ws.write(2, col + k, h, f_head)
        starts[i["indicator_key"]] = (col, unit)
        col += 4
    by_key = {(r.district_code, r.indicator_key): r for r in ind.itertuples()}
    for r, d in enumerate(districts.itertuples(), start=3):
        ws.write(r, 0, "全市" if d.is_city else d.district_name, f_text)
        _num(ws, r, 1, d.score, rag_fmt("0.0", d.rag))
        _num(ws, r, 2, d.rank, f_int)
        _num(ws, r, 3, d.score_qoq, f_signed)
        for key, (c0, unit) in starts.items():
            x = by_key.get((d.district_code, key))
            if x is None:
                continue
            _num(ws, r, c0, x.value, rag_fmt(_value_format(unit), x.rag))
            _num(ws, r, c0 + 1, x.score, f_num)
            _num(ws, r, c0 + 2, x.rank, f_int)
            _num(ws, r, c0 + 3, x.value_qoq, f_signed)
    ws.set_column(0, 0, 10)
    ws.set_column(1, 3, 9)
    ws.set_column(4, max(col - 1, 4), 9)
    ws.set_row(1, 32)
    ws.freeze_panes(3, 1)


def _num(ws, r: int, c: int, v, f) -> None:
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        ws.write_blank(r, c, None, f)
    else:
        ws.write_number(r, c, float(v), f)


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


def review_bytes(con, period: str) -> bytes:
    """The whole 季度评议材料 workbook for `period` as XLSX bytes."""
    meta = queries.meta(con)
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    used = {SHEET_OVERVIEW, SHEET_WARN, SHEET_MOVERS, SHEET_BENCH}

    ov, ov_rag = overview_frame(con, period)
    exports.write_sheet(
        wb,
        SHEET_OVERVIEW,
        ov,
        _title(meta, period, "综合排名"),
        formats={"综合指数": "0.0", "上季度得分": "0.0", "环比": "+0.0;-0.0;0.0"},
        cell_formats=_rag_cells(ov_rag, {"综合指数", "等级"}),
        freeze_cols=2,
    )

    matrix = queries.domain_matrix(con, period)
    ind_all = queries.indicators(con, period)
    for dom in queries.domains(con).itertuples():
        name = _sheet_name(f"{dom.domain_id} {dom.label_zh}", used)
        _write_domain_sheet(
            wb,
            name,
            _title(meta, period, dom.label_zh),
            matrix[matrix["domain_key"] == dom.domain_key],
            ind_all[ind_all["domain_key"] == dom.domain_key],
        )

    warn, warn_rag = warning_frame(con, period)
    exports.write_sheet(
        wb,
        SHEET_WARN,
        warn,
        _title(meta, period, "红黄绿预警清单"),
        formats={"排名": "0"},
        cell_formats=_rag_cells(warn_rag, {"等级", "指标值"}),
        freeze_cols=2,
    )
    exports.write_sheet(
        wb,
        SHEET_MOVERS,
        movers_frame(con, period),
        _title(
            meta, period, "进步榜 · 退步榜（较上季综合指数变化超出持平带宽的区县，按变化幅度排列）"
        ),
        formats={"环比": "+0.0;-0.0;0.0", "名次变化": "+0;-0;0"},
    )
    exports.write_sheet(
        wb,
        SHEET_BENCH,
        benchmark_frame(con, period),
        _title(meta, period, "对标提升清单"),
        formats={"排名": "0"},
        freeze_cols=3,
    )
    wb.close()
    return buf.getvalue()


def write_review(con, period: str, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(review_bytes(con, period))
    return path
