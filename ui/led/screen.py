"""The Streamlit side of the LED screen: chrome-free dark page, one timed fragment, nightly reload.

The fragment runs every `tick` seconds. Each run asks `kpi.led.rotation` which view is due by the wall
clock and which board (snapshot) is current, and re-emits the title and the view as two st.html
elements. Streamlit's Html element is memoised on its body, so a run that changes nothing (same
view, same minute, same data) leaves the DOM untouched: no flash, no animation replay.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import time

import streamlit as st

from kpi.led import board as led_board
from kpi.led import loop as loop_views
from kpi.led import mapview
from kpi.led import rotation as led
from ui import auth, data
from ui.led import loop as led_loop
from ui.led import maps, style, widgets

log = logging.getLogger(__name__)

# Module level: shared by every screen on this server and kept across page reloads, so a broken
# or missing snapshot after a nightly reload still shows the last good data.
_BOARDS = led_board.BoardCache()
_LAST_HTML: dict[str, str] = {}

# Client side, run once per page load (guarded on window): the scheduled full reload, and a
# watchdog that marks the page offline while the server does not answer (Streamlit's own English
# "Connection error" modal is hidden on this page; it reconnects by itself when the server is back).
_KIOSK_JS = """<script>(function () {
  var health = location.pathname.replace(/[^/]*$/, "") + "_stcore/health";
  function ping(ok, fail) {
    fetch(health, {cache: "no-store"}).then(function (r) { r.ok ? ok() : fail(); }).catch(fail);
  }
  if (!window.__bizenvLedWatch) {
    window.__bizenvLedWatch = setInterval(function () {
      ping(function () { document.body.classList.remove("led-offline"); },
           function () { document.body.classList.add("led-offline"); });
    }, WATCH_MS);
  }
  if (DELAY_MS > 0 && !window.__bizenvLedReload) {
    var tryReload = function () {  // only when the server answers, else Chromium shows an error page
      ping(function () { location.reload(); }, function () { setTimeout(tryReload, 60000); });
    };
    window.__bizenvLedReload = setTimeout(tryReload, DELAY_MS);
  }
})();</script>"""

OFFLINE_NOTE = (
    '<div class="led-frame led-offline-note"><div>⚠ 与看板服务的连接已中断，正在自动重连'
    "（显示的是断开前的数据）</div></div>"
)


def _frame(inner: str, **data: str) -> str:
    attrs = "".join(
        f' data-{k.replace("_", "-")}="{widgets.escape(str(v))}"' for k, v in data.items()
    )
    return f'<div class="led-frame"{attrs}>{inner}</div>'


def run() -> None:
    """Draw the LED screen (call from pages/led.py)."""
    options = led.LedOptions.from_params(st.query_params)
    st.html(style.style_tag() + maps.style_tag())
    delay = led.reload_delay_seconds(led.now_local(), options) or 0
    script = _KIOSK_JS.replace("DELAY_MS", str(int(delay * 1000))).replace(
        "WATCH_MS", str(int(options.watchdog * 1000))
    )
    st.html(
        '<div class="led-frame led-bg"></div>' + OFFLINE_NOTE + script, unsafe_allow_javascript=True
    )

    @st.fragment(run_every=options.tick)
    def screen() -> None:
        # The fragment redraws without the entry's login check: a revoked kiosk link or account
        # must still go dark, so the sign-in is re-checked about once a minute (ui.auth).
        if not auth.still_signed_in(data.data_dir()):
            if not st.session_state.get("_led_signed_out"):
                st.session_state["_led_signed_out"] = True
                st.rerun(scope="app")  # the entry then shows the login instead of the screen
            st.html(_frame(widgets.message("大屏链接已失效", "请联系管理员重新生成大屏链接")))
            return
        try:
            top, body = _render(options)
        except Exception as exc:  # noqa: BLE001 — never an error page on the lobby screen
            _log_failure(exc)
            top = _LAST_HTML.get("top", _frame(widgets.title_bar("", led.now_local(), "", True)))
            body = _LAST_HTML.get("body", _frame(widgets.message("正在恢复显示", "请稍候")))
        else:
            _LAST_HTML.update(top=top, body=body)
        st.html(top)
        st.html(body)

    screen()


_LOGGED: dict[str, float] = {}  # failure text → when it was last written to the log
_LOG_EVERY = 600.0  # seconds: the fragment runs every tick; one traceback per failure is enough


def _log_failure(exc: Exception) -> None:
    """The traceback into the data dir's log (ui.data.data_dir set it up), at most every 10 min
    for the same failure, before the screen shows its calm Chinese placeholder."""
    text = f"{type(exc).__name__}: {exc}"
    now = time.monotonic()
    if now - _LOGGED.get(text, -_LOG_EVERY) < _LOG_EVERY:
        return
    _LOGGED[text] = now
    log.exception("LED screen could not be drawn; showing the last good screen")


def _render(options: led.LedOptions) -> tuple[str, str]:
    now = led.now_local()
    epoch = time.time()
    board, problem = _BOARDS.get(now, data.data_dir(), refresh=options.refresh)
    if board is None:
        top = _frame(widgets.title_bar("", now, widgets.stamp_text(None, None, problem), True))
        body = _frame(
            widgets.message(
                "暂无可显示的数据", "请先导入数据（bizenv load），导入完成后本屏自动显示"
            ),
            view="none",
        )
        return top, body
    # 更新于 and 数据截至 both count: a rebuild over exports that stopped is stale too
    note = led.staleness(board.built_at, board.data_as_of, now, options)
    top = _frame(
        widgets.title_bar(
            board.city_name,
            now,
            widgets.stamp_text(board.data_as_of, board.built_at, note),
            note is not None,
            board.demo,
        )
    )
    # views with nothing for the period are left out; the 督办 views (ui.led.loop) follow
    tracking = led_loop.load(data.data_dir(), now.date(), options.refresh)
    keys = loop_views.rotation(board.view_keys, options.views, tracking)
    if not keys:
        period = led.quarter_label(board.period) if board.period else "本期"
        body = _frame(
            widgets.message(
                f"{period}暂无可显示的数据", "所选画面在本期都没有数据，导入后本屏自动显示"
            ),
            view="none",
            snapshot=board.snapshot,
        )
        return top, body
    index = led.view_index(epoch, options.dwell, len(keys))
    notice = f"{problem}，继续显示 {board.loaded_at:%m-%d %H:%M} 读取的数据" if problem else None
    if keys[index] in loop_views.LOOP_VIEWS and tracking is not None:
        key = keys[index]
        body = _frame(
            widgets.view_strip(loop_views.LOOP_VIEWS[key], None, index, len(keys), notice)
            + led_loop.body(key, tracking),
            view=key,
            view_index=str(index),
            snapshot=board.snapshot,
            counters=json.dumps(
                {
                    label: widgets.fmt_number(v, d)
                    for label, v, _, d in tracking.counters.get(key, [])
                },
                ensure_ascii=False,
            ),
        )
        return top, body
    view = board.view(keys[index])
    if view.key == mapview.MAP_VIEW and tracking is not None and tracking.map_counts is not None:
        # the board's views are cached per snapshot; the 督办 counts are re-read each refresh
        view = dataclasses.replace(view, map=mapview.map_data(board, tracking.map_counts))
    view_start = math.floor(epoch / options.dwell) * options.dwell
    body = _frame(
        widgets.view_strip(
            view.title, board.period, index, len(keys), notice, partial=board.period_partial
        )
        + widgets.view_body(view, view_start),
        view=view.key,
        view_index=str(index),
        snapshot=board.snapshot,
        counters=json.dumps(
            {c.label: widgets.fmt_number(c.value, c.decimals) for c in view.counters},
            ensure_ascii=False,
        ),
    )
    return top, body
