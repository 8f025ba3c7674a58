"""The login page (served at every URL to a visitor who is not signed in, so a bookmark opens
where it pointed once signed in), the first-run setup form, the 演示账号, the forced password
change after a reset, and the 无权访问 notice.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from kpi import demo
from kpi.errors import UserInputError
from kpi.read import scope as record_scope
from office import accounts
from office.audit import Actor
from office.roles import DESCRIPTIONS, LABELS, Role
from ui import auth, data


def _demo_live() -> dict | None:
    """The live snapshot's meta when it holds the demo, else None."""
    path = data.snapshot_path()
    if not path:
        return None
    meta = data.Snapshot(path).meta()
    return meta if demo.from_meta(meta) is not None else None


def _demo_bindings() -> tuple[tuple[str, str], str]:
    """The district the 区县 demo account is bound to (the first in the snapshot) and the
    department of the 部门 one (the first domain's 牵头部门, with records to drill into)."""
    path = data.snapshot_path()
    assert path is not None  # offered only while the live snapshot holds the demo
    d = data.Snapshot(path).districts()
    district = (str(d["district_code"].iloc[0]), str(d["district_name"].iloc[0]))
    spec = data.spec()
    owners = [
        o
        for o in record_scope.departments(spec)
        if any(ind.source != "reports" for ind, _ in record_scope.owned_indicators(spec, o))
    ]
    return district, owners[0] if owners else "市市场监管局"


def _finish(result: accounts.LoginResult) -> None:
    if result.token is None:
        st.error(result.message or accounts.WRONG, icon=":material/lock:")
        return
    auth.signed_in(result.token)
    st.rerun()


def page() -> None:
    """登录."""
    dd = data.data_dir()
    _oidc_sign_in(dd)
    meta = _demo_live()
    first_run = not accounts.any_account(dd)
    if meta is None and not first_run:
        main, side = st.columns([1, 1.6, 1])[1], None
    else:
        main, side = st.columns([1, 1.2], gap="large")
    with main:
        st.title("营商环境指标看板")
        st.caption("请登录后使用。看板上的数据仅供本单位工作使用。")
        notice = st.session_state.get(auth.NOTICE_KEY)
        if notice:
            st.info(notice, icon=":material/info:")
        with st.form("login", clear_on_submit=True, border=True):
            st.subheader("登录")
            username = st.text_input("账号", key="login_username", autocomplete="username")
            password = st.text_input(
                "密码", type="password", key="login_password", autocomplete="current-password"
            )
            if st.form_submit_button("登录", type="primary", icon=":material/login:"):
                _finish(accounts.authenticate(dd, username, password, auth.client()))
        if _oidc_configured():
            if st.button("统一身份认证登录", icon=":material/badge:", key="login_oidc"):
                st.login()
        if first_run:
            _first_run(dd)
    if side is not None and meta is not None:
        with side:
            _demo_accounts(dd)


def _first_run(dd) -> None:
    st.subheader("首次使用：创建管理员账号")
    st.caption(
        "系统里还没有任何账号。请为本单位的系统管理员创建第一个账号，之后在“账号与设置”页为其他人员"
        "开通账号。也可以在服务器上运行 `bizenv user add 账号 --role 管理员`。"
    )
    with st.form("first_admin", border=True):
        username = st.text_input("账号（登录名）", key="setup_username")
        name = st.text_input("姓名", key="setup_name")
        password = st.text_input(
            f"密码（至少 {accounts.PASSWORD_MIN_LENGTH} 个字符）",
            type="password",
            key="setup_password",
            autocomplete="new-password",
        )
        again = st.text_input(
            "再次输入密码", type="password", key="setup_again", autocomplete="new-password"
        )
        if st.form_submit_button("创建管理员并登录", type="primary"):
            if password != again:
                st.error("两次输入的密码不一致。")
                return
            who = Actor(username.strip() or None, Role.ADMIN.value, "web", auth.client())
            try:
                accounts.create_account(
                    dd,
                    username,
                    Role.ADMIN,
                    who,
                    display_name=name,
                    password=password,
                    first_admin=True,
                )
            except UserInputError as err:
                st.error(str(err))
                return
            _finish(accounts.authenticate(dd, username, password, auth.client()))


def _demo_accounts(dd) -> None:
    st.subheader("演示账号")
    st.caption(
        "看板上现在是自动生成的演示数据。可以用下面的演示账号体验每个角色能看到什么、能做什么。"
        "导入真实数据后运行 `bizenv reset --demo`，演示数据和这些演示账号一起删除。"
    )
    district, department = _demo_bindings()
    made = {Role(a.role): a for a in accounts.ensure_demo_accounts(dd, district, department)}
    for role in Role:
        account = made.get(role)
        if account is None:
            continue
        row = st.container(horizontal=True, vertical_alignment="center", border=True)
        row.markdown(f"**{LABELS[role]}** · {account.display_name}  \n{DESCRIPTIONS[role]}")
        if row.button(
            f"以{LABELS[role]}身份进入", key=f"demo_{role.value}", icon=":material/arrow_forward:"
        ):
            if _demo_live() is None:  # checked again on the click: the demo may be gone
                st.error("演示数据已删除，演示账号不再可用。")
                return
            _finish(accounts.sign_in_demo(dd, role, auth.client()))


def _oidc_configured() -> bool:
    """Streamlit's st.login is set up ([auth] in .streamlit/secrets.toml; see README)."""
    try:
        return "auth" in st.secrets
    except Exception:  # noqa: BLE001 - no secrets.toml at all
        return False


def _oidc_sign_in(dd) -> None:
    """Back from the identity provider: map the vouched-for e-mail to an account of ours."""
    if not _oidc_configured():
        return
    try:
        user = st.user
        if not user.is_logged_in:
            return
        email, issuer = str(user.get("email") or ""), str(user.get("iss") or "")
    except Exception:  # noqa: BLE001
        return
    result = accounts.sign_in_identity(dd, email, issuer, auth.client())
    if result.token is None:
        st.session_state[auth.NOTICE_KEY] = result.message
        st.logout()  # so the next attempt can use another identity
        return
    _finish(result)


def change_password_form(dd, principal, forced: bool = False) -> None:
    with st.form("change_password", clear_on_submit=True, border=True):
        old = st.text_input(
            "当前密码" if not forced else "管理员设置的临时密码",
            type="password",
            key="pw_old",
            autocomplete="current-password",
        )
        new = st.text_input(
            f"新密码（至少 {accounts.PASSWORD_MIN_LENGTH} 个字符）",
            type="password",
            key="pw_new",
            autocomplete="new-password",
        )
        again = st.text_input(
            "再次输入新密码", type="password", key="pw_again", autocomplete="new-password"
        )
        if st.form_submit_button("修改密码", type="primary"):
            if new != again:
                st.error("两次输入的新密码不一致。")
                return
            try:
                accounts.change_password(dd, principal, old, new, auth.client())
            except UserInputError as err:
                st.error(str(err))
                return
            st.session_state[auth.NOTICE_KEY] = None
            st.success("密码已修改。")
            if forced:
                st.rerun()


def change_password_page() -> None:
    """After a 管理员 reset the password: a password of one's own before anything else."""
    dd = data.data_dir()
    principal = auth.current()
    box = st.columns([1, 1.6, 1])[1]
    with box:
        st.title("请修改密码")
        st.info("管理员为您重置了密码。请先设置一个只有您自己知道的新密码，再继续使用看板。")
        change_password_form(dd, principal, forced=True)
        if st.button("退出登录", key="_bizenv_sign_out_forced"):
            auth.sign_out(dd)
            st.rerun()


def forbidden(title: str) -> Callable[[], None]:
    """The page shown at the URL of a page this account may not open."""

    def page() -> None:
        who = auth.scope()
        label = who.label if who else ""
        auth.record(data.data_dir(), "page_denied", title, outcome="denied")
        st.title(title)
        st.warning(
            f"您的账号（{label}）没有打开“{title}”页的权限，因此这里不显示任何内容。"
            "如需此权限，请联系管理员。",
            icon=":material/block:",
        )

    page.__name__ = "forbidden"
    return page
