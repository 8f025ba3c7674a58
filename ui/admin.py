"""Building blocks of the 账号与设置 page (管理员): accounts, kiosk links for the lobby screens,
sign-in settings. Every change goes through office.accounts, which audits it."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from kpi.errors import UserInputError
from kpi.read import scope as record_scope
from office import accounts
from office.accounts import AuthSettings
from office.audit import BEIJING
from office.models import utcnow
from office.roles import LABELS, Role, parse
from ui import auth, data


def _local(at: dt.datetime | None) -> str:
    if at is None:
        return ""
    return at.replace(tzinfo=dt.UTC).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


def accounts_table(dd) -> pd.DataFrame:
    names = data.district_names()
    now = utcnow()
    rows = []
    for a in accounts.list_accounts(dd):
        state = "停用" if a.disabled else "正常"
        if a.locked_until and a.locked_until > now:
            state = f"锁定至 {_local(a.locked_until)}"
        rows.append(
            {
                "账号": a.username,
                "姓名": a.display_name,
                "角色": LABELS[Role(a.role)],
                "区县": names.get(a.district_code or "", a.district_code or ""),
                "部门": a.department or "",
                "邮箱（统一身份认证）": a.email or "",
                "状态": state,
                "最近登录": _local(a.last_login_at),
                "演示账号": "是" if a.is_demo else "",
            }
        )
    return pd.DataFrame(rows)


def _binding_inputs(prefix: str, role: Role, districts: dict[str, str], departments: list[str]):
    district = department = None
    if role == Role.DISTRICT:
        district = st.selectbox(
            "所属区县",
            list(districts),
            format_func=lambda c: districts.get(c, c),
            key=f"{prefix}_district",
        )
    if role == Role.DEPARTMENT:
        department = st.selectbox(
            "所属部门（指标的责任部门，见 metrics.yaml 的 owner）",
            departments,
            key=f"{prefix}_department",
        )
    return district, department


def _role_picker(prefix: str, default: Role = Role.OFFICE) -> Role:
    return parse(
        st.selectbox(
            "角色",
            [r.value for r in Role],
            index=list(Role).index(default),
            format_func=lambda r: LABELS[Role(r)],
            key=f"{prefix}_role",
        )
    )


def add_account(dd, districts: dict[str, str], departments: list[str]) -> None:
    # Not a form: the district / department box depends on the role chosen.
    st.markdown("**新建账号**")
    role = _role_picker("new")
    district, department = _binding_inputs("new", role, districts, departments)
    c = st.columns(2)
    username = c[0].text_input("账号（登录名）", key="new_username")
    name = c[1].text_input("姓名", key="new_name")
    email = st.text_input("统一身份认证邮箱（可不填）", key="new_email")
    c = st.columns(2)
    password = c[0].text_input(
        "初始密码", type="password", key="new_password", autocomplete="new-password"
    )
    again = c[1].text_input(
        "再次输入", type="password", key="new_again", autocomplete="new-password"
    )
    st.caption("初始密码请当面或电话告诉本人；本人第一次登录时须改成自己的密码。")
    if st.button("创建账号", type="primary", key="new_create"):
        if password != again:
            st.error("两次输入的密码不一致。")
            return
        try:
            accounts.create_account(
                dd,
                username,
                role,
                auth.actor(),
                display_name=name,
                password=password,
                district_code=district,
                department=department,
                email=email or None,
                must_change=True,
            )
        except UserInputError as err:
            st.error(str(err))
            return
        for key in ("new_username", "new_name", "new_email", "new_password", "new_again"):
            st.session_state.pop(key, None)
        st.success(f"已创建账号 {username.strip()}（{LABELS[role]}）。")


def edit_account(dd, districts: dict[str, str], departments: list[str]) -> None:
    st.markdown("**修改账号**")
    people = [a for a in accounts.list_accounts(dd, include_demo=False)]
    if not people:
        return
    names = {a.username: f"{a.display_name}（{a.username}）" for a in people}
    username = st.selectbox(
        "账号", list(names), format_func=lambda u: names.get(u, u), key="edit_user"
    )
    account = next((a for a in people if a.username == username), None)
    if username is None or account is None:
        return
    role = _role_picker("edit", Role(account.role))
    district, department = _binding_inputs("edit", role, districts, departments)
    row = st.container(horizontal=True, gap="small")
    try:
        if row.button("保存角色", key="edit_save"):
            accounts.set_role(dd, username, role, auth.actor(), district, department)
            st.success("已保存；该账号需要重新登录。")
        if account.disabled:
            if row.button("启用账号", key="edit_enable"):
                accounts.set_disabled(dd, username, False, auth.actor())
                st.rerun()
        elif row.button("停用账号", key="edit_disable"):
            accounts.set_disabled(dd, username, True, auth.actor())
            st.rerun()
    except UserInputError as err:
        st.error(str(err))
    with st.form("edit_reset", clear_on_submit=True, border=False):
        c = st.columns([2, 2, 1], vertical_alignment="bottom")
        password = c[0].text_input("新的临时密码", type="password", key="edit_password")
        again = c[1].text_input("再次输入", type="password", key="edit_again")
        if c[2].form_submit_button("重置密码"):
            if password != again:
                st.error("两次输入的密码不一致。")
            else:
                try:
                    accounts.reset_password(dd, username, password, auth.actor())
                    st.success("密码已重置，账号已解锁；本人下次登录时须改密码。")
                except UserInputError as err:
                    st.error(str(err))


def kiosk_links(dd) -> None:
    st.markdown(
        "大厅 LED 屏用的长期链接：只能打开 `/led`，不会超时，撤销后立即失效；每次打开都记入审计日志。"
    )
    with st.form("kiosk_new", clear_on_submit=True, border=False):
        c = st.columns([3, 1], vertical_alignment="bottom")
        label = c[0].text_input("名称（如“政务服务大厅一号屏”）", key="kiosk_label")
        if c[1].form_submit_button("生成链接"):
            try:
                _, token = accounts.create_kiosk_link(dd, label, auth.actor())
            except UserInputError as err:
                st.error(str(err))
            else:
                base = (st.context.url or "http://localhost:8501").rstrip("/")
                st.success("链接已生成。只显示这一次，请复制到大厅电脑的浏览器 kiosk 设置里：")
                st.code(f"{base}/led?{auth.KIOSK_PARAM}={token}", language=None)
    links = accounts.kiosk_links(dd)
    if not links:
        return
    st.dataframe(
        pd.DataFrame(
            {
                "编号": [k.id for k in links],
                "名称": [k.label for k in links],
                "创建人": [k.created_by or "" for k in links],
                "创建时间": [_local(k.created_at) for k in links],
                "最近打开": [_local(k.last_seen_at) for k in links],
                "状态": ["已撤销" if k.revoked_at else "有效" for k in links],
            }
        ),
        hide_index=True,
        key="kiosk_table",
    )
    live = {k.id: f"{k.id} · {k.label}" for k in links if k.revoked_at is None}
    if live:
        c = st.columns([3, 1], vertical_alignment="bottom")
        pick = c[0].selectbox(
            "撤销链接", list(live), format_func=lambda k: live.get(k, str(k)), key="kiosk_pick"
        )
        if c[1].button("撤销", key="kiosk_revoke") and pick is not None:
            accounts.revoke_kiosk_link(dd, pick, auth.actor())
            st.rerun()


def settings_form(dd) -> None:
    current = accounts.settings(dd)
    with st.form("auth_settings", border=False):
        values = {}
        cols = st.columns(2)
        for i, (name, (low, high)) in enumerate(AuthSettings.LIMITS.items()):
            now = getattr(current, name)
            values[name] = cols[i % 2].number_input(
                AuthSettings.LABELS[name],
                min_value=type(now)(low),
                max_value=type(now)(high),
                value=now,
                step=type(now)(1),
                key=f"setting_{name}",
                help=f"默认值可用环境变量 {AuthSettings.ENV[name]} 设置；这里保存的值优先。",
            )
        if st.form_submit_button("保存设置", type="primary"):
            try:
                accounts.save_settings(dd, values, auth.actor())
            except UserInputError as err:
                st.error(str(err))
            else:
                st.success("设置已保存。")


def departments() -> list[str]:
    return record_scope.departments(data.spec())
