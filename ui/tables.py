"""Ranked tables with direction-aware colours, the district × domain heatmap, and downloads.

Every table is shown with CSV (UTF-8 BOM) and XLSX downloads of what is on screen, with numbers
kept as numbers: where the screen shows text such as "▲ +1.6 个百分点" or "● 黄", the download has
the number in its column and the unit and the status (进步/退步/持平, 红/黄/绿) in columns of their
own, so a spreadsheet sorts and sums them. Colours always come with text (▲▼, 红/黄/绿) for
colour-blind readers.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from kpi import store
from kpi.read import exports, queries, review
from kpi.schema import SOURCE_LABELS
from office import roles
from ui import auth, data
from ui import format as fmt


class _DomainShortNames(Mapping):
    """domain_key → short name (开办企业, 劳动市场 …): the short_name column of
    data/catalog/domains.csv, as the live snapshot's domains table carries it; the one set the
    pages and the LED screen use."""

    def __getitem__(self, key: str) -> str:
        return data.domain_short_names()[key]

    def __iter__(self):
        return iter(data.domain_short_names())

    def __len__(self) -> int:
        return len(data.domain_short_names())


SHORT_DOMAIN = _DomainShortNames()


def _export(name: str, fmt: str, rows: int, build, action: str = "table_export"):
    """A download's data callable that writes the export to the audit log when clicked."""
    return auth.audited(data.data_dir(), action, name, {"格式": fmt, "行数": rows}, build)


def downloads(df: pd.DataFrame, name: str, key: str) -> None:
    """CSV + XLSX download buttons for a table (files are built only when clicked), for roles
    that may export tables (office.roles.EXPORT_TABLES); each download is audited."""
    if not auth.may(roles.EXPORT_TABLES):
        return
    row = st.container(horizontal=True, gap="small")
    row.download_button(
        "下载 CSV",
        _export(name, "CSV", len(df), lambda: exports.csv_bytes(df)),
        file_name=f"{name}.csv",
        mime="text/csv",
        key=f"{key}_csv",
        on_click="ignore",
        icon=":material/download:",
    )
    row.download_button(
        "下载 XLSX",
        _export(name, "XLSX", len(df), lambda: exports.xlsx_bytes({name[:31]: df})),
        file_name=f"{name}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key=f"{key}_xlsx",
        on_click="ignore",
        icon=":material/download:",
    )


def _colour_css(colour: str, bold: bool = True) -> str:
    return f"color: {colour};" + (" font-weight: 600;" if bold else "")


def styled(
    df: pd.DataFrame,
    colours: dict[str, list[str]] | None = None,
    backgrounds: dict[str, list[str]] | None = None,
    digits: dict[str, int] | None = None,
):
    """A Styler: per-cell text colours / backgrounds, numbers to 1 decimal, '—' for missing."""
    colours, backgrounds = colours or {}, backgrounds or {}

    def css(_):
        out = pd.DataFrame("", index=df.index, columns=df.columns)
        for col, values in colours.items():
            out[col] = [_colour_css(v) if v else "" for v in values]
        for col, values in backgrounds.items():
            out[col] = [
                (f"background-color: {v};" if v else "") + out.at[i, col]
                for i, v in zip(df.index, values, strict=False)
            ]
        return out

    floats = [c for c in df.columns if pd.api.types.is_float_dtype(df[c])]
    formats = {c: "{:." + str((digits or {}).get(c, 1)) + "f}" for c in floats}
    return df.style.apply(css, axis=None).format(formats, na_rep="—")


def show(
    df: pd.DataFrame,
    key: str,
    name: str,
    styler=None,
    select: str | None = None,
    column_config: dict | None = None,
    height: int | str = "auto",
    download: pd.DataFrame | None = None,
):
    """Render a table (optionally clickable) and its downloads; returns the selection or None.

    `download`: the frame the CSV/XLSX buttons hand out when it differs from the one shown
    (numbers instead of display text); by default the shown frame itself.
    """
    if (
        styler is None
    ):  # plain tables: every float column to 1 decimal (Styler tables format themselves)
        floats = {
            c: st.column_config.NumberColumn(c, format="%.1f")
            for c in df.columns
            if pd.api.types.is_float_dtype(df[c])
        }
        times = {
            c: st.column_config.DatetimeColumn(
                c, format="YYYY-MM-DD" if _dates_only(df[c]) else "YYYY-MM-DD HH:mm"
            )
            for c in df.columns
            if pd.api.types.is_datetime64_any_dtype(df[c])
        }
        column_config = {**floats, **times, **(column_config or {})}
    kwargs: dict[str, Any] = {
        "hide_index": True,
        "key": key,
        "column_config": column_config,
        "height": height,
        "placeholder": "—",
    }
    if select:
        kwargs.update(on_select="rerun", selection_mode=select)
    event = st.dataframe(styler if styler is not None else df, **kwargs)
    downloads(df if download is None else download, name, key)
    return event.selection if select else None


def _dates_only(values: pd.Series) -> bool:
    """A column of days (评议日期, 完成时限): every time is midnight, so 00:00 says nothing."""
    known = values.dropna()
    return not known.empty and bool((known == known.dt.normalize()).all())


def selected_row(selection) -> int | None:
    rows = list(getattr(selection, "rows", None) or (selection or {}).get("rows", []) or [])
    return rows[0] if rows else None


def selected_cell(selection) -> tuple[int, str] | None:
    cells = list(getattr(selection, "cells", None) or (selection or {}).get("cells", []) or [])
    if not cells:
        return None
    row, col = cells[0]
    return int(row), str(col)


# ── specific tables ──────────────────────────────────────────────────────────────────────────


def _trend_text(trends) -> list[str | None]:
    return [fmt.TREND_LABEL.get(t) if isinstance(t, str) else None for t in trends]


def _rag_plain(rags) -> list[str | None]:
    return [fmt.RAG_LABEL.get(r) if isinstance(r, str) else None for r in rags]


def _coverage(notes) -> list[str]:
    """A ranking's 覆盖 column: ⚠ and the note where a district rests on less than the others."""
    return [f"⚠ {n}" if isinstance(n, str) and n else "" for n in notes]


def ranking_download(scores: pd.DataFrame, score_label: str, names) -> pd.DataFrame:
    """An overall or domain ranking for download: 名次变化 and 环比 as numbers, 环比趋势 and 等级
    as words (进步/退步/持平, 红/黄/绿), 覆盖 where a district is ranked on less than the others."""
    out = _ranking_download(scores, score_label, names)
    if "coverage_note" in scores.columns:
        out["覆盖"] = [n if isinstance(n, str) else "" for n in scores["coverage_note"]]
    return out


def _ranking_download(scores: pd.DataFrame, score_label: str, names) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "排名": scores["rank"].astype("Int64").to_numpy(),
            "区县": list(names),
            score_label: scores["score"].round(1).to_numpy(),
            "名次变化": scores["rank_change"].astype("Int64").to_numpy(),
            "环比": scores["score_qoq"].round(2).to_numpy(),
            "环比趋势": _trend_text(scores["trend_qoq"]),
            "红色指标": scores["n_red"].astype("Int64").to_numpy(),
            "等级": _rag_plain(scores["rag"]),
        }
    )


def _ranking(
    scores: pd.DataFrame, score_label: str, names
) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """The columns an overall or domain ranking shows (rank, name, score, changes, RAG) and their
    text colours; `scores` are rows of overall_scores or domain_scores."""
    table = pd.DataFrame(
        {
            "排名": scores["rank"].astype("Int64"),
            "区县": list(names),
            score_label: scores["score"].round(1),
            "名次变化": [fmt.rank_change_text(v) for v in scores["rank_change"]],
            "环比": [
                fmt.delta_text(v, trend=t)
                for v, t in zip(scores["score_qoq"], scores["trend_qoq"], strict=False)
            ],
            "红色指标": scores["n_red"].astype("Int64"),
            "等级": [fmt.rag_text(v) for v in scores["rag"]],
        }
    )
    if "coverage_note" in scores.columns:  # ranked on fewer indicators/domains than others
        table["覆盖"] = _coverage(scores["coverage_note"])
    colours = {
        "名次变化": [fmt.rank_change_colour(v) for v in scores["rank_change"]],
        "环比": [
            fmt.delta_colour(v, trend=t)
            for v, t in zip(scores["score_qoq"], scores["trend_qoq"], strict=True)
        ],
        "等级": [fmt.RAG_FG.get(v, "") if isinstance(v, str) else "" for v in scores["rag"]],
    }
    return table, colours


def overall_ranking(ov: pd.DataFrame, key: str, name: str) -> str | None:
    """Districts by overall index with rank change and QoQ; returns the clicked district code."""
    d = ov[~ov["is_city"].astype(bool)].reset_index(drop=True)
    table, colours = _ranking(d, "综合指数", d["district_name"])
    sel = show(
        table,
        key,
        name,
        styler=styled(table, colours=colours),
        select="single-row",
        download=ranking_download(d, "综合指数", d["district_name"]),
    )
    row = selected_row(sel)
    return None if row is None or row >= len(d) else str(d.at[row, "district_code"])


def heatmap(matrix: pd.DataFrame, key: str, name: str) -> tuple[str, str] | None:
    """Domains (rows) × 全市 and districts (columns), coloured by RAG with the score in each cell.

    Domains run down the rows so that all 18 fit on a desk screen without scrolling sideways.
    Returns (district_code, domain_key) of a clicked cell.
    """
    if matrix.empty:
        st.info("本季度没有领域得分。")
        return None
    domains = matrix.drop_duplicates("domain_key").sort_values("domain_id")
    keys = list(domains["domain_key"])
    who = matrix.drop_duplicates("district_code").sort_values(
        ["is_city", "district_code"], ascending=[False, True]
    )
    codes = list(who["district_code"])
    names = {
        c: ("全市" if ic else n)
        for c, n, ic in zip(
            who["district_code"], who["district_name"], who["is_city"], strict=False
        )
    }
    score = matrix.pivot(index="domain_key", columns="district_code", values="score").reindex(keys)
    rag = matrix.pivot(index="domain_key", columns="district_code", values="rag").reindex(keys)
    table = pd.DataFrame(
        {
            "指标领域": [
                SHORT_DOMAIN.get(k, lbl) for k, lbl in zip(keys, domains["label_zh"], strict=False)
            ]
        }
    )
    for c in codes:
        table[names[c]] = score[c].round(1).to_numpy()
    backgrounds = {
        names[c]: [
            fmt.RAG_BG.get(v, "#f0f0f0") if isinstance(v, str) else "#f0f0f0" for v in rag[c]
        ]
        for c in codes
    }
    download = table[["指标领域"]].copy()
    for c in codes:  # each score with its 红/黄/绿 beside it (the colour of the cell on screen)
        download[names[c]] = table[names[c]]
        download[f"{names[c]}等级"] = _rag_plain(rag[c])
    config = {"指标领域": st.column_config.TextColumn("指标领域", pinned=True)}
    sel = show(
        table,
        key,
        name,
        styler=styled(table, backgrounds=backgrounds),
        select="single-cell",
        column_config=config,
        height=min(35 * (len(keys) + 1) + 3, 700),
        download=download,
    )
    cell = selected_cell(sel)
    if cell is None:
        return None
    row, label = cell
    by_name = {v: k for k, v in names.items()}
    if label not in by_name or row >= len(keys):
        return None
    return by_name[label], keys[row]


def indicator_download(ind: pd.DataFrame, with_district: bool = True) -> pd.DataFrame:
    """Indicator rows for download: 指标值 and 环比 as numbers with 单位 / 环比单位 (个百分点,
    个工作日) and 环比趋势 / 等级 as words beside them."""
    out = {
        "指标": ind["label_zh"].to_numpy(),
        "领域": [SHORT_DOMAIN.get(k, k) for k in ind["domain_key"]],
    }
    if with_district:
        out["区县"] = [
            "全市" if c else n for c, n in zip(ind["is_city"], ind["district_name"], strict=False)
        ]
    out |= {
        "指标值": ind["value"].round(2).to_numpy(),
        "单位": [u if isinstance(u, str) else None for u in ind["unit"]],
        "样本量": pd.array(ind["n"], dtype="Int64"),
        "得分": ind["score"].round(1).to_numpy(),
        "排名": pd.array(ind["rank"], dtype="Int64"),
        "等级": _rag_plain(ind["rag"]),
        "环比": ind["value_qoq"].round(2).to_numpy(),
        "环比单位": [fmt.delta_unit(u) or None for u in ind["unit"]],
        "环比趋势": _trend_text(ind["trend_qoq"]),
        "说明": [r if isinstance(r, str) else None for r in ind["suppressed_reason"]],
    }
    return pd.DataFrame(out)


def indicator_brief(ind: pd.DataFrame):
    """(table, styler): 指标 · 指标值 · 得分 · 排名 · 等级 · 环比 for a few indicator rows."""
    table = pd.DataFrame(
        {
            "指标": ind["label_zh"].to_numpy(),
            "领域": [SHORT_DOMAIN.get(k, k) for k in ind["domain_key"]],
            "指标值": [fmt.value(v, u) for v, u in zip(ind["value"], ind["unit"], strict=False)],
            "得分": ind["score"].round(1).to_numpy(),
            "排名": pd.array(ind["rank"], dtype="Int64"),
            "等级": [fmt.rag_text(v) for v in ind["rag"]],
            "环比": [
                fmt.delta_text(v, u, trend=t)
                for v, u, t in zip(ind["value_qoq"], ind["unit"], ind["trend_qoq"], strict=False)
            ],
        }
    )
    return table, styled(
        table,
        colours={
            "等级": [fmt.RAG_FG.get(v, "") if isinstance(v, str) else "" for v in ind["rag"]],
            "环比": [
                fmt.delta_colour(v, d, t)
                for v, d, t in zip(
                    ind["value_qoq"], ind["direction"], ind["trend_qoq"], strict=False
                )
            ],
        },
    )


BEST_SELF = "本区县即最优"


def benchmark_table(bm: pd.DataFrame) -> pd.DataFrame:
    """对标提升清单 with Chinese headers; numbers stay numbers (1 decimal)."""
    return pd.DataFrame(
        {
            "领域": [SHORT_DOMAIN.get(k, k) for k in bm["domain_key"]],
            "指标": bm["label_zh"],
            "单位": bm["unit"],
            "方向": [fmt.DIRECTION_LABEL.get(d, d) for d in bm["direction"]],
            "本区县值": bm["value"].round(1),
            "得分": bm["score"].round(1),
            "排名": bm["rank"].astype("Int64"),
            "等级": _rag_plain(bm["rag"]),
            "最优区县": [
                BEST_SELF if not fmt.missing(b) and bool(b) else n
                for b, n in zip(bm["is_best"], bm["best_district"], strict=True)
            ],
            "最优值": bm["best_value"].round(1),
            "与最优差距": bm["gap"].round(1),
            "先进值": bm["advanced"].round(1),
            "距先进值": bm["to_advanced"].round(1),
        }
    )


def benchmark_view(bm: pd.DataFrame):
    """(table, styler): the 对标提升清单 as shown — 等级 as coloured dots (● 红/黄/绿), and
    最优区县 saying so when the district itself ranks first (compared with 先进值 only)."""
    table = benchmark_table(bm)
    table["等级"] = [fmt.rag_text(v) for v in bm["rag"]]
    colours = {"等级": [fmt.RAG_FG.get(v, "") if isinstance(v, str) else "" for v in bm["rag"]]}
    return table, styled(table, colours=colours)


HIGHLIGHT = "#ddf4ff"


def domain_ranking(
    dr: pd.DataFrame, key: str, name: str, highlight: str | None = None
) -> str | None:
    """Districts on one domain (city on top, not ranked); returns the clicked district code.

    highlight: a district code whose row is tinted (the one the user came from).
    """
    names = ["全市" if c else n for c, n in zip(dr["is_city"], dr["district_name"], strict=False)]
    table, colours = _ranking(dr, "领域得分", names)
    styler = styled(
        table,
        colours=colours,
        backgrounds={"区县": [HIGHLIGHT if c == highlight else "" for c in dr["district_code"]]},
    )
    row = selected_row(
        show(
            table,
            key,
            name,
            styler=styler,
            select="single-row",
            download=ranking_download(dr, "领域得分", names),
        )
    )
    if row is None or row >= len(dr) or bool(dr.iloc[row]["is_city"]):
        return None
    return str(dr.iloc[row]["district_code"])


def indicator_matrix(ind: pd.DataFrame, key: str, name: str, highlight: str | None = None):
    """One row per indicator × district: value, n, score, rank, RAG, QoQ; returns the clicked row."""
    table = pd.DataFrame(
        {
            "指标": ind["label_zh"].to_numpy(),
            "区县": [
                "全市" if c else n
                for c, n in zip(ind["is_city"], ind["district_name"], strict=False)
            ],
            "指标值": [fmt.value(v, u) for v, u in zip(ind["value"], ind["unit"], strict=False)],
            "样本量": pd.array(ind["n"], dtype="Int64"),
            "得分": ind["score"].round(1).to_numpy(),
            "排名": pd.array(ind["rank"], dtype="Int64"),
            "等级": [fmt.rag_text(v) for v in ind["rag"]],
            "环比": [
                fmt.delta_text(v, u, trend=t)
                for v, u, t in zip(ind["value_qoq"], ind["unit"], ind["trend_qoq"], strict=False)
            ],
            "说明": [r if isinstance(r, str) else "" for r in ind["suppressed_reason"]],
        }
    )
    styler = styled(
        table,
        colours={
            "等级": [fmt.RAG_FG.get(v, "") if isinstance(v, str) else "" for v in ind["rag"]],
            "环比": [
                fmt.delta_colour(v, d, t)
                for v, d, t in zip(
                    ind["value_qoq"], ind["direction"], ind["trend_qoq"], strict=False
                )
            ],
        },
        backgrounds={"区县": [HIGHLIGHT if c == highlight else "" for c in ind["district_code"]]},
    )
    row = selected_row(
        show(
            table,
            key,
            name,
            styler=styler,
            select="single-row",
            height=420,
            download=indicator_download(ind),
        )
    )
    if row is None or row >= len(ind):
        return None
    r = ind.iloc[row]
    return None if bool(r["is_city"]) else r


def definitions_from_marts(defs: pd.DataFrame) -> pd.DataFrame:
    """Indicator definitions as far as the marts carry them (when metrics.yaml cannot be read)."""
    return pd.DataFrame(
        {
            "编号": defs["indicator_id"],
            "指标": defs["label_zh"],
            "单位": defs["unit"],
            "方向": [fmt.DIRECTION_LABEL.get(d, d) for d in defs["direction"]],
            "数据来源": [SOURCE_LABELS.get(s, s) for s in defs["source"]],
            "最优值": defs["dtf_best"],
            "最差值": defs["dtf_worst"],
            "预警值": defs["warn"],
            "先进值": defs["advanced"],
            "权重": defs["weight"],
        }
    )


LOAD_STATUS = {
    "ok": "成功",
    "refused": "拒收",
    "failed": "失败",
    "duplicate_file": "重复文件",
    "undone": "已撤销",
}


def loads_table(loads: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "导入时间": pd.to_datetime(loads["started_at"]),
            "文件": loads["file_name"],
            "来源": [
                SOURCE_LABELS.get(s, s) if isinstance(s, str) else "—" for s in loads["source"]
            ],
            "状态": [LOAD_STATUS.get(s, s) for s in loads["status"]],
            "读取行数": loads["rows_read"].astype("Int64"),
            "导入": loads["rows_loaded"].astype("Int64"),
            "隔离": loads["rows_quarantined"].astype("Int64"),
            "跳过（合计行/空行）": loads["rows_skipped"].astype("Int64"),
            "新增": loads["rows_inserted"].astype("Int64"),
            "更新": loads["rows_updated"].astype("Int64"),
            "说明": [m if isinstance(m, str) else "" for m in loads["message"]],
        }
    )


def review_download(snapshot_path: str, period: str, key: str = "review_xlsx") -> None:
    """One click: the 季度评议材料 workbook of this quarter (built when clicked)."""

    def build() -> bytes:
        from office.tracking import views as tracking

        con = store.connect_snapshot(Path(snapshot_path))
        try:
            today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()
            return review.review_bytes(
                con, period, tracking.review_sheets(con, data.data_dir(), period, today)
            )
        finally:
            con.close()

    if not auth.may(roles.EXPORT_TABLES):
        return
    st.download_button(
        f"下载 {period} 季度评议材料（XLSX）",
        _export(f"{period}季度评议材料", "XLSX", 0, build),
        file_name=f"{period}季度评议材料.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key=key,
        on_click="ignore",
        icon=":material/description:",
        type="primary",
    )


def quarantine_file_bytes(snapshot_path: str, load_id: str, fmt: str) -> bytes:
    """Every quarantined row of one load as CSV (UTF-8 BOM) or XLSX (`queries.quarantine_rows`)."""
    con = store.connect_snapshot(Path(snapshot_path))
    try:
        frame = queries.quarantine_rows(con, load_id)
    finally:
        con.close()
    return exports.csv_bytes(frame) if fmt == "csv" else exports.xlsx_bytes({"隔离行": frame})


def quarantine_by_file(snapshot_path: str, loads: pd.DataFrame, key: str = "quarantine_file"):
    """Pick a loaded file; download every one of its quarantined rows (built when clicked)."""
    labels = {
        r.load_id: f"{r.file_name}（{SOURCE_LABELS.get(r.source, r.source)}，{int(r.rows):,} 行，"
        f"{fmt.timestamp(r.started_at)} 导入）"
        for r in loads.itertuples()
    }
    if not auth.may(roles.EXPORT_RECORDS):
        return
    load_id = st.selectbox("文件", list(labels), format_func=labels.__getitem__, key=key)
    if load_id is None:
        return
    stem = Path(str(loads.set_index("load_id").at[load_id, "file_name"])).stem
    row = st.container(horizontal=True, gap="small")
    for kind, mime in (
        ("csv", "text/csv"),
        ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ):
        row.download_button(
            f"下载全部隔离行 {kind.upper()}",
            _export(
                f"{stem}_隔离行",
                kind.upper(),
                int(loads.set_index("load_id").at[load_id, "rows"]),
                functools.partial(quarantine_file_bytes, snapshot_path, load_id, kind),
                "records_export",
            ),
            file_name=f"{stem}_隔离行.{kind}",
            mime=mime,
            key=f"{key}_{kind}",
            on_click="ignore",
            icon=":material/download:",
        )
