"""账号与设置 (管理员): accounts and their roles, kiosk links for the lobby screens, sign-in settings."""

import streamlit as st

from office import roles
from ui import admin, auth, data, state

state.ensure_entry()
dd = data.data_dir()
st.title("账号与设置")
if not auth.may(roles.MANAGE_ACCOUNTS):  # the menu hides the page too; this is the server's word
    st.warning("只有管理员可以管理账号和设置。")
    st.stop()

st.subheader("账号")
st.dataframe(admin.accounts_table(dd), hide_index=True, key="accounts_table")
with st.expander("角色说明"):
    st.markdown("\n".join(f"- **{roles.LABELS[r]}**：{roles.DESCRIPTIONS[r]}" for r in roles.Role))
districts = data.district_names()
departments = admin.departments()
left, right = st.columns(2, gap="large")
with left:
    admin.add_account(dd, districts, departments)
with right:
    admin.edit_account(dd, districts, departments)

st.subheader("大屏链接")
admin.kiosk_links(dd)

st.subheader("登录设置")
admin.settings_form(dd)
