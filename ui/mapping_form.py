"""列对应: the mapping form for an export the loader does not recognise — each column with sample
values and a selectbox of the canonical fields in Chinese, code tables where a field needs one,
a preview of the first rows as they would load, saved as a named profile (etl.mapping).

The one place ui/ calls etl/: reading a file's columns and staging a preview in memory (no
warehouse write — every write still goes through a job)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from kpi.errors import BizenvError
from kpi.schema import SOURCE_LABELS
from kpi.settings import DataDir
from office import roles
from ui import auth

NONE = "（不读取）"


@st.cache_data(show_spinner=False, max_entries=8)
def _inspect(path: str, source: str | None):
    from etl import mapping

    return mapping.inspect(Path(path), source)


def form(dd: DataDir, path: str) -> None:
    """The form for the export at `path` (a file of the data dir's inbox)."""
    from etl import mapping

    if not auth.may(roles.LOAD):
        return
    key = f"map_{abs(hash(path)) % 10**8}"
    try:
        guess = _inspect(path, None)
    except BizenvError as err:
        st.error(str(err))
        return
    sources = list(SOURCE_LABELS)
    source = st.selectbox(
        "这是哪类数据",
        sources,
        index=sources.index(guess.source),
        format_func=SOURCE_LABELS.__getitem__,
        key=f"{key}_source",
    )
    found = guess if source == guess.source else _inspect(path, source)
    choices = mapping.fields(source)
    labels = {c.name: c.label + ("（必需）" if c.required else "") for c in choices}
    by_column = {i: f for f, i in found.proposed.items()}
    st.caption("为每一列选择它对应的字段；不需要的列选“不读取”。必需字段都要有对应的列。")
    picked: dict[str, str] = {}
    for col in found.columns:
        left, mid, right = st.columns([2, 3, 3])
        left.markdown(f"**{col.header or '（无表头）'}**")
        mid.caption(f"例如：{col.samples}")
        options = [NONE, *labels]
        default = by_column.get(col.index)
        choice = right.selectbox(
            f"“{col.header}”对应的字段",
            options,
            index=options.index(default) if default in labels else 0,
            format_func=lambda n: n if n == NONE else labels[n],
            key=f"{key}_col_{col.index}",
            label_visibility="collapsed",
        )
        if choice != NONE:
            if choice in picked:
                st.warning(f"“{labels[choice]}”被选给了两列：{picked[choice]}、{col.header}。")
            picked[choice] = col.header
    missing = [labels[c.name] for c in choices if c.required and c.name not in picked]
    if missing:
        st.warning("还缺少必需字段：" + "、".join(missing))
    codes: dict[str, dict[str, str]] = {}
    columns = {c.header: c for c in found.columns}
    for c in choices:
        if c.name not in picked or not c.canonical_values:
            continue
        values = columns[picked[c.name]].values
        if not values:
            continue
        st.markdown(f"**编码表：{c.label}**（“{picked[c.name]}”列的值 → 规范值）")
        table = {}
        for v in values:
            options = ["（按原值）", *c.canonical_values]
            pre = v if v in c.canonical_values else "（按原值）"
            chosen = st.selectbox(
                f"{v}",
                options,
                index=options.index(pre),
                key=f"{key}_code_{c.name}_{v}",
            )
            if chosen != "（按原值）" and chosen != v:
                table[v] = chosen
        codes[c.name] = table
    name = st.text_input(
        "画像名称", value=f"{found.file_name.rsplit('.', 1)[0]}画像", key=f"{key}_name"
    )
    try:
        doc = mapping.profile_doc(name, source, picked, codes)
    except BizenvError as err:
        st.error(str(err))
        return
    st.markdown("**按这个对应读取的前几行**")
    if missing:
        st.caption("选好必需字段后，这里显示按这个对应读取的前 10 行。")
        return
    pv = mapping.preview(Path(path), doc)
    if pv.refusal:
        st.error(pv.refusal)
    else:
        st.caption(
            f"读取 {pv.rows_read:,} 行：可导入 {pv.rows_loaded:,}，隔离 {pv.rows_quarantined:,}"
            + (
                "（" + "、".join(f"{r} {n:,} 行" for r, n in pv.quarantine_by_reason.items()) + "）"
                if pv.quarantine_by_reason
                else ""
            )
        )
        from kpi.schema import COLUMN_LABELS

        names = COLUMN_LABELS.get(source, {})
        frame = pd.DataFrame(pv.rows, columns=pv.columns)
        st.dataframe(frame.rename(columns=lambda c: names.get(c, c)), hide_index=True)
    if st.button("保存画像", disabled=bool(missing), key=f"{key}_save", type="primary"):
        try:
            saved = mapping.save(dd, doc)
        except BizenvError as err:
            st.error(str(err))
            return
        auth.record(dd, "settings_change", f"表头画像 {saved.name}", {"来源": source})
        st.success(
            f"已保存画像“{doc['name']}”。以后表头相同的文件会自动按它读取；现在可以重新上传这个文件。"
        )
