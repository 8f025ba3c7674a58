"""Page state in the URL (?period=2026Q3&district=330802&domain=…) so every view can be shared.

Rules: a valid value in the URL wins (a bookmark or a drill-down link); otherwise the value the
user last chose on any page (kept in session state, since page switches drop query parameters);
otherwise the default. A picker's on_change writes the URL before the script reruns, so the URL
always holds the newest choice.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from ui import format as fmt
from ui.data import Snapshot, live_snapshot

PAGES = {
    "overview": "pages/overview.py",
    "domains": "pages/domains.py",
    "district": "pages/district.py",
    "trends": "pages/trends.py",
    "records": "pages/records.py",
    "data": "pages/data_status.py",
}


def _keep(name: str) -> str:
    return f"_keep_{name}"


def _on_change(name: str) -> None:
    value = st.session_state.get(name)
    if value is not None:
        st.query_params[name] = value
        st.session_state[_keep(name)] = value


def picker(
    name: str,
    label: str,
    options: list[str],
    default: str | None = None,
    format_func: Callable[[str], str] = str,
    container=None,
    **kwargs,
) -> str | None:
    """A selectbox whose value lives in the URL parameter `name` (and session state key `name`).

    A value in the URL that is not among the options (a stale bookmark, a mistyped link) is not
    silently replaced: a notice says what was not found and what is shown instead.
    """
    if not options:
        return None
    url = st.query_params.get(name)
    kept = st.session_state.get(_keep(name))
    if url in options:
        value = url
    elif st.session_state.get(name) in options:
        value = st.session_state[name]
    elif kept in options:
        value = kept
    else:
        value = default if default in options else options[0]
    st.session_state[name] = value
    box = container or st
    chosen = box.selectbox(
        label,
        options,
        format_func=format_func,
        key=name,
        on_change=_on_change,
        args=(name,),
        **kwargs,
    )
    if url is not None and url not in options:
        st.warning(
            f"网址中的{label} {url} 没有数据，显示的是 {format_func(chosen)}。",
            icon=":material/link_off:",
        )
    st.query_params[name] = chosen
    st.session_state[_keep(name)] = chosen
    return chosen


def ensure_entry() -> None:
    """Re-run through dashboard.py when Streamlit ran this page file on its own.

    Streamlit keeps a process-wide "pages/ directory" fallback switched on until some session
    calls st.navigation. A bookmark such as /district opened first after a restart is then run as
    a bare pages/ script (no page config, a file-name menu) — and keeps every later deep link that
    way. Switching the fallback off and re-running sends this run through the entry point.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


def require_snapshot() -> Snapshot:
    """The live snapshot, or a message with a link to the fix and st.stop()."""
    ensure_entry()
    live = live_snapshot()
    if live.problem:
        st.warning(live.problem, icon="⚠️")
    path = str(live.path) if live.path else None
    if path is None and live.problem:
        st.page_link(PAGES["data"], label="查看数据页：导入记录与数据状态", icon="🗄️")
        st.stop()
    if path is None:
        st.info(
            "还没有数据快照：尚未导入任何数据。请在命令行运行 `uv run bizenv sample --load` 生成并导入演示数据，"
            "或 `uv run bizenv load 文件…` 导入本地导出的数据，然后刷新本页。"
        )
        st.page_link(PAGES["data"], label="查看数据页：导入步骤与数据状态", icon="🗄️")
        st.stop()
    snap = Snapshot(path)
    if not snap.has_marts():
        st.warning(
            "当前数据快照里还没有评分结果：数据已导入，但尚未计算。请运行 `uv run bizenv build` 后刷新本页。"
        )
        st.page_link(PAGES["data"], label="查看数据页：已导入的数据与隔离记录", icon="🗄️")
        st.stop()
    return snap


def period_picker(snap: Snapshot, container=None, key: str = "period") -> tuple[str | None, bool]:
    """Quarter picker: defaults to the latest complete quarter; 进行中 quarters are labelled."""
    periods = snap.periods()
    options = list(periods["period"])[::-1]  # newest first
    partial = dict(zip(periods["period"], periods["is_partial"].astype(bool), strict=False))
    meta = snap.meta()
    default = meta.get("latest_complete_period")
    if default not in options:
        complete = [p for p in options if not partial.get(p)]
        default = complete[0] if complete else (options[0] if options else None)
    chosen = picker(
        key,
        "季度",
        options,
        default,
        format_func=lambda p: fmt.period_label(p, partial.get(p, False)),
        container=container,
    )
    return chosen, bool(partial.get(chosen, False))


def district_picker(
    snap: Snapshot, container=None, key: str = "district", allow_all: bool = False
) -> str | None:
    """District picker (6-digit codes in the URL, names on screen)."""
    d = snap.districts()
    names = dict(zip(d["district_code"], d["district_name"], strict=False))
    options = (["all"] if allow_all else []) + list(d["district_code"])
    chosen = picker(
        key,
        "区县",
        options,
        options[0] if options else None,
        format_func=lambda c: "全部区县" if c == "all" else names.get(c, c),
        container=container,
    )
    return None if chosen == "all" else chosen


def domain_picker(
    snap: Snapshot, container=None, key: str = "domain", allow_all: bool = False
) -> str | None:
    """Domain picker (domain_key in the URL)."""
    d = snap.domains()
    labels = dict(zip(d["domain_key"], d["label_zh"], strict=False))
    options = (["all"] if allow_all else []) + list(d["domain_key"])
    chosen = picker(
        key,
        "指标领域",
        options,
        options[0] if options else None,
        format_func=lambda k: "全部领域" if k == "all" else labels.get(k, k),
        container=container,
    )
    return None if chosen == "all" else chosen


def go(page: str, **params: str) -> None:
    """Drill down: switch to another page with its state in the URL (and remembered)."""
    for name, value in params.items():
        st.session_state[_keep(name)] = value
        st.session_state.pop(name, None)
    st.switch_page(PAGES[page], query_params={k: v for k, v in params.items() if v is not None})


def freshness_caption(snap: Snapshot, partial: bool = False) -> str:
    """'数据截至 2026-11-19 17:45 · 更新于 2026-11-20 08:30', and a warning when the chosen
    quarter is still in progress."""
    meta = snap.meta()
    text = f"数据截至 {fmt.timestamp(meta.get('data_as_of'))} · 更新于 {fmt.timestamp(meta.get('built_at'))}"
    return text + (" · 本季度进行中，数据尚不完整" if partial else "")
