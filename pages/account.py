"""我的账号: who I am signed in as, what my role may see and do, my password, 退出登录."""

import streamlit as st

from office.roles import DESCRIPTIONS
from ui import auth, data, login
from ui.state import ensure_entry

ensure_entry()
dd = data.data_dir()
me = auth.current()
who = auth.scope()
st.title("我的账号")
st.markdown(
    f"**{me.display_name}**（账号 `{me.username}`）· 角色：**{who.label}**  \n"
    f"可以看到和做的：{DESCRIPTIONS[who.role]}。"
)
if me.is_demo:
    st.info("这是演示账号，没有密码；删除演示数据（bizenv reset --demo）后随之取消。")
else:
    st.subheader("修改密码")
    login.change_password_form(dd, me)
st.subheader("退出")
if st.button("退出登录", key="account_sign_out", icon=":material/logout:"):
    auth.sign_out(dd)
    st.rerun()
