"""The frame around every page: page config, the login check, first-run demo bootstrap, navigation
by role, the 演示数据 banner."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import uuid
from collections.abc import Callable
from urllib.parse import urlparse

import streamlit as st
from streamlit.runtime.scriptrunner_utils.exceptions import ScriptControlException

from kpi import demo, logs, store
from kpi.errors import BizenvError
from office.roles import Role
from ui import auth, data, login

LED_URL_PATH = "led"
_LOG = logging.getLogger(__name__)


BOOTSTRAP_THREAD = "bizenv-demo-bootstrap"

# The first-run demo bootstrap (etl.bootstrap.ensure_demo_snapshot), handed in by the entry point:
# ui draws its progress but does not import etl.
Bootstrap = Callable[..., object]


def _bootstrap_demo(ensure_demo_snapshot: Bootstrap | None) -> None:
    """First run with no snapshot: generate the demo exports and load them through the real ETL.

    The work runs in a thread of its own, and this session only draws its progress: Streamlit
    stops a session's script when the visitor closes the tab or clicks, and the first visitor
    leaving after ten seconds must not abort the bootstrap halfway (the next one would start over).
    A second session arriving meanwhile waits on etl.bootstrap's file lock, then finds the snapshot.
    """
    dd = data.data_dir()
    if ensure_demo_snapshot is None or not store.needs_first_run(dd):
        return
    state: dict = {"fraction": 0.0, "text": "准备中……", "error": None}

    def work() -> None:
        try:
            ensure_demo_snapshot(
                data_dir=dd,
                progress=lambda fraction, text: state.update(fraction=fraction, text=text),
            )
        except Exception as err:  # noqa: BLE001 - shown by the session below, as if raised there
            state["error"] = err

    worker = threading.Thread(target=work, name=BOOTSTRAP_THREAD, daemon=True)
    worker.start()
    with st.status("首次运行：正在生成演示数据并导入……", expanded=True) as status:
        bar = st.progress(0.0)
        while worker.is_alive():
            bar.progress(min(max(state["fraction"], 0.0), 1.0), text=state["text"])
            worker.join(0.25)
        error = state["error"]
        if isinstance(
            error, BizenvError
        ):  # a message written for the user (disk full, no rights …)
            status.update(label="演示数据准备失败", state="error", expanded=True)
            st.error(str(error))
            st.stop()
        if error is not None:
            raise error
        status.update(label="演示数据已就绪", state="complete", expanded=False)


def _demo_banner() -> None:
    """演示数据, on every page, while the live snapshot holds demo records (kpi.demo)."""
    path = data.snapshot_path()
    found = demo.from_meta(data.Snapshot(path).meta()) if path else None
    if found is None:
        return
    records, other = found
    mixed = f"，和 {other:,} 条真实数据混在一起" if other else ""
    st.warning(
        f"**演示数据**：看板上有 {sum(records.values()):,} 条自动生成的演示记录{mixed}，不是真实业务数据。"
        "导入真实导出文件后，运行 `bizenv reset --demo` 删除演示数据（真实数据保留）。",
        icon=":material/science:",
    )


def _led_requested() -> bool:
    """The lobby screen is asked for: /led, or ?mode=led on any page."""
    path = urlparse(st.context.url or "").path.rstrip("/")
    return path.endswith("/" + LED_URL_PATH) or st.query_params.get("mode") == "led"


def page_key(page) -> str:
    """A page's name in office.roles.PAGES: its url path, also for the default page (whose
    public url_path is ""; Streamlit keys every page by this same name)."""
    return getattr(page, "_url_path", None) or page.url_path


def _stand_in(page, body: Callable[[], None], visible: bool = False):
    """A page at the same URL (and so the same Streamlit page) that runs `body` instead."""
    return st.Page(
        body,
        title=page.title,
        icon=page.icon or None,
        url_path=page_key(page),
        default=bool(getattr(page, "_default", False)),
        visibility="visible" if visible else "hidden",
    )


def _routes(pages: dict, principal) -> dict:
    """The navigation for this visitor. Every page stays registered at its URL, so a bookmark
    always resolves; a page the role may not open is replaced by a hidden 无权访问 notice (not
    merely left out of the menu), and a visitor who is not signed in gets the login at every URL."""
    if principal is None:
        return {"": [_stand_in(p, login.page) for s in pages.values() for p in s]}
    if principal.must_change_password:
        return {"": [_stand_in(p, login.change_password_page) for s in pages.values() for p in s]}
    scope = principal.scope
    routed: dict[str, list] = {}
    spare: list = []
    for section, items in pages.items():
        shown = [p for p in items if scope.may_open(page_key(p))]
        hidden = [_stand_in(p, login.forbidden(p.title)) for p in items if p not in shown]
        if shown:
            routed[section] = shown + hidden
        else:
            spare += hidden
    if routed:
        routed[next(iter(routed))] += spare
    else:
        routed[""] = spare
    return routed


# Streamlit's file uploader has English words of its own ("Upload", "200MB per file"; no setting
# translates them, and the size contradicts our own limits): they are replaced in Chinese, and
# each uploader's label states its limit.
_CHINESE_WIDGETS_CSS = """<style>
[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p { font-size: 0; }
[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p::after {
  content: "选择文件"; font-size: 0.875rem; }
[data-testid="stFileUploaderDropzoneInstructions"] span { font-size: 0; }
[data-testid="stFileUploaderDropzoneInstructions"] span::after {
  content: "或把文件拖到这里"; font-size: 0.875rem; }
</style>"""


def run(pages: dict, bootstrap: Bootstrap | None = None) -> None:
    st.set_page_config(page_title="营商环境指标看板", page_icon="📊", layout="wide")
    st.html(_CHINESE_WIDGETS_CSS)
    dd = data.data_dir()
    try:
        principal = auth.check(dd)  # the login check: one indexed lookup in the app database
    except BizenvError as err:  # the application database cannot be opened: nothing is shown
        _LOG.error("application database: %s", err)
        st.error(str(err), icon=":material/database:")
        st.stop()
    if principal is not None and principal.is_demo and not _demo_live():
        auth.sign_out(dd)  # bizenv reset --demo ran: the 演示账号 go with the demo
        principal = None
    routes = _routes(pages, principal)
    led_pages = [p for section in routes.values() for p in section if page_key(p) == LED_URL_PATH]
    kiosk = principal is not None and principal.scope.role == Role.SCREEN
    if principal is None or principal.must_change_password:
        page = st.navigation(routes, position="hidden")
    elif led_pages and (kiosk or _led_requested()):
        # Navigation hidden: no sidebar, no menu, nothing to click on a kiosk. All pages stay
        # registered (a page alone would become the default, served at "/" rather than "/led").
        page = st.navigation(routes, position="hidden")
        if page_key(page) != LED_URL_PATH:  # ?mode=led on another page; a 大屏 anywhere but /led
            params = {k: v for k, v in st.query_params.to_dict().items() if k != "mode"}
            st.switch_page(led_pages[0], query_params=params)
    else:
        page = st.navigation(routes, expanded=True)  # all pages: no English "View N more"
    # After st.navigation: until it runs, Streamlit lists the files of pages/ by their English
    # names in the sidebar, and the first run's bootstrap takes ~25 s.
    try:
        _bootstrap_demo(bootstrap)
        if page_key(page) != LED_URL_PATH:  # the lobby screen marks it in its own title bar
            _demo_banner()
            if principal is not None:
                _account_box(dd, principal)
        auth.write_cookie()
        auth.clear_cookie_if_asked()
        page.run()
    except ScriptControlException:  # st.stop / st.rerun / st.switch_page: Streamlit's control flow
        raise
    except Exception:  # noqa: BLE001 - a page bug: a Chinese notice on screen, the traceback in the log
        _page_failed(page.title)


def _demo_live() -> bool:
    """The live snapshot holds the demo (kpi.demo): the 演示账号 may be used."""
    path = data.snapshot_path()
    return path is not None and demo.from_meta(data.Snapshot(path).meta()) is not None


def _account_box(dd, principal) -> None:
    """Who is signed in, and 退出登录, at the foot of the menu."""
    bar = st.sidebar.container()
    who = auth.scope()
    bar.caption(f"当前账号：{principal.display_name}（{who.label if who else ''}）")
    if bar.button("退出登录", key="_bizenv_sign_out", icon=":material/logout:"):
        auth.sign_out(dd)
        st.rerun()


def _page_failed(title: str) -> None:
    """Log the current exception with its traceback and tell the user in Chinese where it went.

    No traceback on screen (office users can do nothing with one, and it shows paths and data);
    the time and a short code on screen match the line in <data dir>/logs/bizenv.log.
    """
    code = uuid.uuid4().hex[:6]
    when = dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S")
    data.data_dir()  # sets up the log if the failure came before anything else did
    # a kiosk link's token is a credential: never into the log
    params = {
        k: ["…"] if k == auth.KIOSK_PARAM else st.query_params.get_all(k) for k in st.query_params
    }
    _LOG.exception("页面“%s”出错（编号 %s，网址参数 %s）", title, code, params)
    st.error(
        f"页面出错了：“{title}”未能完整显示。错误已记录到服务器的日志（数据目录下 logs/{logs.LOG_FILE}）"
        f"（{when}，编号 {code}）。请把这个时间和编号告诉维护人员；"
        "可以先刷新页面，或换一个季度、区县再试。",
        icon=":material/error:",
    )
