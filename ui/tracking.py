"""Building blocks of the 督办 pages: who is acting, running an office action with its Chinese
refusal on screen, the 台账 buttons (template, export in the template's shape, import), filters,
and the 红黄绿 colouring of a table. The rules (who may change what) are office.tracking's."""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import streamlit as st

from kpi.errors import BizenvError
from office import roles
from office.tracking import items, ledgers
from office.tracking.views import STATE_ZH
from ui import auth, data

RAG_FILL = {"绿": "#d6f5e3", "黄": "#fff1c2", "红": "#ffd9d6"}


def today() -> dt.date:
    return dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()


def who() -> tuple[roles.Scope, object]:
    scope = auth.scope()
    if scope is None:
        st.warning("请先登录。")
        st.stop()
    return scope, auth.actor()


def is_office(scope: roles.Scope) -> bool:
    return items.is_office(scope)


def act(fn: Callable, *args, done: str = "已保存。", **kwargs) -> bool:
    """Run an office.tracking change; a refusal or bad input is shown in Chinese, never raised."""
    try:
        fn(*args, **kwargs)
    except BizenvError as err:
        st.error(str(err), icon=":material/block:")
        return False
    st.toast(done)
    return True


def scope_note(scope: roles.Scope) -> None:
    if scope.role == roles.Role.DEPARTMENT:
        st.caption(f"您的账号（部门：{scope.department}）可以更新本部门负责事项的进展和佐证。")
    elif scope.role == roles.Role.DISTRICT:
        st.caption(f"您的账号（{scope.label}）可以更新本区县事项的进展和佐证。")
    elif not is_office(scope):
        st.caption("只读：事项由营商办维护。")


def pick(container, label: str, values, key: str, all_label: str = "全部") -> str | None:
    """A select box with 全部 first; returns None for 全部."""
    opts = [all_label, *sorted({v for v in values if v is not None and v == v})]
    chosen = container.selectbox(label, opts, key=key)
    return None if chosen == all_label else chosen


def colour_rows(df: pd.DataFrame, column: str = "红黄绿"):
    """A Styler filling the 红黄绿 cell (and the 逾期 cell red) — colour plus the word."""

    def fill(v):
        return f"background-color: {RAG_FILL[v]}" if v in RAG_FILL else ""

    styler = df.style
    if column in df.columns:
        styler = styler.map(fill, subset=[column])
    if "逾期" in df.columns:
        styler = styler.map(
            lambda v: "color: #b3261e; font-weight: 700" if v == "逾期" else "", subset=["逾期"]
        )
    dates = {
        c: (lambda d: d.strftime("%Y-%m-%d") if pd.notna(d) else "—")
        for c in df.columns
        if pd.api.types.is_datetime64_any_dtype(df[c]) and c != "更新时间"
    }
    styler = styler.format(precision=1, na_rep="—")
    # subset: without it the second format() re-formats every column (pandas' 6 decimals)
    return styler.format(dates, subset=list(dates), na_rep="—") if dates else styler


def ledger_bar(kind: str, scope: roles.Scope, key: str) -> None:
    """台账: the export in the template's shape, a blank template, and (营商办) an import."""
    dd = data.data_dir()
    name = ledgers.KIND_NAMES[kind]
    bar = st.container(horizontal=True, gap="small", vertical_alignment="center")
    if auth.may(roles.EXPORT_TABLES):
        bar.download_button(
            f"导出{name}（Excel）",
            auth.audited(
                dd, "table_export", name, {"格式": "XLSX"}, lambda: ledgers.export_bytes(dd, kind)
            ),
            file_name=f"{name}.xlsx",
            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            key=f"{key}_export",
            on_click="ignore",
        )
    bar.download_button(
        "空白模板",
        ledgers.template_bytes(kind),
        file_name=f"{name}_模板.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key=f"{key}_template",
        on_click="ignore",
    )
    if not is_office(scope):
        return
    with st.expander(f"导入{name}"):
        st.caption(
            "按模板表头填写的 Excel 台账：已有的行（按编号）更新，新的行新增；有错误时整份不导入并列出每处错误。"
        )
        up = st.file_uploader("选择文件", type=["xlsx"], key=f"{key}_upload")
        if up is not None and st.button("导入", key=f"{key}_import", type="primary"):
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / up.name
                path.write_bytes(up.getvalue())
                found = ledgers.sniff(path)
                if not found or found[0] != kind:
                    st.error(f"{up.name} 的表头与{name}模板不符：请用“空白模板”的表头。")
                    return
                try:
                    done = ledgers.import_file(dd, path, auth.actor(), found)
                except BizenvError as err:
                    st.error(str(err))
                    return
            st.success(f"已导入 {done.rows} 行：新增 {done.inserted}，更新 {done.updated}。")


def empty(text: str) -> None:
    st.info(text, icon=":material/inbox:")


__all__ = ["STATE_ZH"]


def snapshot_cursor(path: str):
    """A cursor on the live snapshot (the pages' shared read-only connection)."""
    return data._connection(path).cursor()


def text(value) -> str:
    """A cell as a form's starting text: '' for an empty cell (None or NaN), never 'nan'."""
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)
