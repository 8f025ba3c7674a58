"""Who is at the browser: the login check each run makes, the session cookie, sign-out, the
kiosk link — and the one way pages write the audit log.

A signed-in browser keeps a random token in the cookie `bizenv_session` (only its hash is in
the application database, office.accounts). Streamlit reads cookies (st.context.cookies, sent
with the page's first request) but cannot set them, so a tiny script in the page does that
once after sign-in; until the next page load the token also lives in this session's state. The
cookie is SameSite=Strict (never sent by another site's form or link), Secure over https, and
ends with the browser; the server ends the session after the idle timeout whatever the cookie
says. A lobby screen instead carries a kiosk token in its URL (/led?kiosk=…).
"""

from __future__ import annotations

import dataclasses
import json
import time

import streamlit as st

from kpi.settings import DataDir
from office import accounts, audit
from office.accounts import Principal
from office.audit import Actor
from office.roles import Scope

COOKIE = "bizenv_session"
KIOSK_PARAM = "kiosk"
TOKEN_KEY = "_bizenv_token"  # the browser session's token (this websocket session)
PRINCIPAL_KEY = "_bizenv_principal"
NOTICE_KEY = "_bizenv_signin_notice"  # why the login page is shown again (超时, 已退出 …)
_KIOSK_SEEN = "_bizenv_kiosk_seen"  # kiosk links audited once per page load, not every run
_RECHECK_KEY = "_bizenv_rechecked"
RECHECK_SECONDS = 60.0  # the LED fragment re-checks its sign-in this often (revocation, idle)

REASONS = {
    "expired": "登录已超时（长时间没有操作），请重新登录。",
    "revoked": "登录已失效，请重新登录。",
    "disabled": "该账号已停用，请联系管理员。",
}
SIGNED_OUT = "您已退出登录。"
_DEAD_COOKIE = "_bizenv_dead_cookie"  # a cookie this session saw revoked: not looked up again


def client() -> str | None:
    """The browser's address (None on localhost and in tests) — for the audit log and the
    per-address throttle of failed sign-ins."""
    try:
        ip = st.context.ip_address
    except Exception:  # noqa: BLE001 - no client context (a bare script run)
        return None
    return ip if isinstance(ip, str) else None  # AppTest's stand-in client is a mock


def _cookie() -> str | None:
    try:
        value = st.context.cookies.get(COOKIE)
    except Exception:  # noqa: BLE001 - no client context
        return None
    return value if isinstance(value, str) and value else None


def current() -> Principal | None:
    """The principal this run signed in as (set by `check`)."""
    return st.session_state.get(PRINCIPAL_KEY)


def scope() -> Scope | None:
    """The signed-in reader's scope, with its district's name for messages."""
    p = current()
    if p is None:
        return None
    found = p.scope
    if found.district_code:
        from ui import data

        name = data.district_names().get(found.district_code)
        found = dataclasses.replace(found, district_name=name)
    return found


def may(action: str) -> bool:
    """The signed-in reader's role allows `action` (office.roles: EXPORT_TABLES, …)."""
    found = scope()
    return found is not None and found.may(action)


def actor() -> Actor:
    """The current principal as an audit actor (an anonymous one when nobody is signed in)."""
    p = current()
    return p.actor(client()) if p else Actor(None, None, "web", client())


def check(data_dir: DataDir) -> Principal | None:
    """The login check of this run: a kiosk link in the URL, else this session's token, else
    the cookie. One indexed lookup in the application database (see tests/benchmarks/pages.py)."""
    kiosk = st.query_params.get(KIOSK_PARAM)
    if kiosk:
        found = accounts.resolve(data_dir, kiosk, kind="kiosk", client=client())
        if found.principal is None:
            st.session_state.pop(PRINCIPAL_KEY, None)
            st.session_state[NOTICE_KEY] = (
                "大屏链接已失效（已被撤销或不存在），请联系管理员重新生成。"
            )
            return None
        if st.session_state.get(_KIOSK_SEEN) != found.principal.session_id:
            accounts.kiosk_opened(data_dir, found.principal, client())
            st.session_state[_KIOSK_SEEN] = found.principal.session_id
        st.session_state[PRINCIPAL_KEY] = found.principal
        return found.principal
    token = st.session_state.get(TOKEN_KEY)
    if not token:
        cookie = _cookie()  # what the browser sent when this page was loaded
        token = cookie if cookie != st.session_state.get(_DEAD_COOKIE) else None
    if not token:
        st.session_state.pop(PRINCIPAL_KEY, None)
        return None
    found = accounts.resolve(data_dir, token, kind="browser", client=client())
    if found.principal is None:
        st.session_state.pop(TOKEN_KEY, None)
        st.session_state.pop(PRINCIPAL_KEY, None)
        st.session_state[_DEAD_COOKIE] = token
        if NOTICE_KEY not in st.session_state:
            st.session_state[NOTICE_KEY] = REASONS.get(found.reason or "", None)
        return None
    st.session_state[TOKEN_KEY] = token
    st.session_state[PRINCIPAL_KEY] = found.principal
    st.session_state.pop(NOTICE_KEY, None)
    return found.principal


def signed_in(token: str) -> None:
    """After a successful sign-in: this session holds the token; the cookie follows (write_cookie)."""
    st.session_state[TOKEN_KEY] = token
    st.session_state.pop(NOTICE_KEY, None)


def write_cookie() -> None:
    """Put this session's token into the browser's cookie when the cookie does not hold it yet
    (right after sign-in). The element's body is the same on every run, so Streamlit leaves it in
    place and the script runs once per page load."""
    token = st.session_state.get(TOKEN_KEY)
    who = current()
    if not token or _cookie() == token or who is None or who.kind == "kiosk":
        return
    st.html(_cookie_script(token), unsafe_allow_javascript=True)


def _cookie_script(value: str | None) -> str:
    # token_urlsafe is [A-Za-z0-9_-]: nothing to escape inside the JS string (json.dumps anyway)
    tail = "; Max-Age=0" if value is None else ""
    return (
        "<script>(function(){var s=location.protocol==='https:'?'; Secure':'';"
        f"document.cookie={json.dumps(COOKIE + '=' + (value or ''))}+'; Path=/; SameSite=Strict'"
        f"+{json.dumps(tail)}+s;}})();</script>"
    )


def sign_out(data_dir: DataDir) -> None:
    """退出登录: the session is revoked on the server (the cookie becomes worthless) and the
    cookie is cleared in the browser."""
    token = st.session_state.get(TOKEN_KEY) or _cookie()
    accounts.end_session(data_dir, token, client())
    for key in (TOKEN_KEY, PRINCIPAL_KEY):
        st.session_state.pop(key, None)
    st.session_state[_DEAD_COOKIE] = _cookie()
    st.session_state[NOTICE_KEY] = SIGNED_OUT
    st.session_state["_bizenv_clear_cookie"] = True


def clear_cookie_if_asked() -> None:
    """After sign-out: remove the cookie in the browser (the server has revoked it already)."""
    if st.session_state.pop("_bizenv_clear_cookie", False) and _cookie():
        st.html(_cookie_script(None), unsafe_allow_javascript=True)


def still_signed_in(data_dir: DataDir) -> bool:
    """For a page that redraws itself without a full run (the LED fragment): re-check the
    sign-in about once a minute, so a revoked kiosk link or account goes dark within a minute."""
    now = time.monotonic()
    if now - st.session_state.get(_RECHECK_KEY, 0.0) < RECHECK_SECONDS:
        return current() is not None
    st.session_state[_RECHECK_KEY] = now
    return check(data_dir) is not None


def record(
    data_dir: DataDir,
    action: str,
    object: str | None = None,
    details: dict | None = None,
    outcome: str = "ok",
) -> None:
    """Audit an action of the signed-in person (a page view of 明细, an export …)."""
    audit.record(data_dir, action, actor(), object, details, outcome)


def audited(data_dir: DataDir, action: str, object: str, details: dict, build):
    """A download's deferred data callable that audits itself when the user clicks: Streamlit
    runs it outside the page's run, so who and where are taken now."""
    who = actor()

    def run():
        audit.record(data_dir, action, who, object, details)
        return build()

    return run
