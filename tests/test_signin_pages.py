"""Sign-in end to end through dashboard.py (AppTest): the login at every URL, a password login and
sign-out, lockout, the first-run setup, the 演示账号 while the demo is live and gone after
`bizenv reset --demo`, navigation and scope by role, and the audit trail they leave."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest
from streamlit.util import calc_hash

from kpi.settings import DataDir
from office import accounts, store
from office.audit import Actor
from office.models import AuditEvent
from tests import signin

DASHBOARD = str(Path(__file__).resolve().parents[1] / "dashboard.py")
PASSWORD = "Bizenv-口令-2026"


@pytest.fixture(autouse=True)
def navigation_as_on_a_server(monkeypatch):
    """On a running server Streamlit's pages/-folder fallback is off for good once a session has
    called st.navigation. AppTest switches it back on before every run, so each run first executes
    the page file alone, which reruns through dashboard.py (ui.state.ensure_entry) — and that
    rerun drops a clicked button's trigger. Keep it off here, as on the server."""
    from streamlit.runtime import pages_manager

    init = pages_manager.PagesManager.__init__

    def server_like(self, *args, **kwargs):
        init(self, *args, **kwargs)
        pages_manager.PagesManager.uses_pages_directory = False

    monkeypatch.setattr(pages_manager.PagesManager, "__init__", server_like)


@pytest.fixture
def snapshot(fixture_snapshot_dir, isolated_data_dir) -> DataDir:
    """The fixture snapshot in this test's own data dir (so its app.db is this test's alone)."""
    isolated_data_dir.mkdir(parents=True)
    shutil.copy(fixture_snapshot_dir / "CURRENT", isolated_data_dir / "CURRENT")
    shutil.copytree(fixture_snapshot_dir / "snapshots", isolated_data_dir / "snapshots")
    return DataDir.of(isolated_data_dir)


def open_app(url_path: str = "", **params: str) -> AppTest:
    """The app as a browser opening /<url_path>?<params> sees it."""
    at = AppTest.from_file(DASHBOARD, default_timeout=30)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    if url_path:
        at._page_hash = calc_hash(url_path)  # what the browser sends for that URL path
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def _events(dd: DataDir, action: str | None = None) -> list[AuditEvent]:
    with store.session(dd) as s:
        q = sa.select(AuditEvent).order_by(AuditEvent.id)
        if action:
            q = q.where(AuditEvent.action == action)
        return list(s.scalars(q))


def _is_login(at: AppTest) -> bool:
    labels = [t.label for t in at.text_input]
    return [t.value for t in at.title] == ["营商环境指标看板"] and labels[:2] == ["账号", "密码"]


# ── not signed in ────────────────────────────────────────────────────────────────────────────


@pytest.mark.signed_out
@pytest.mark.parametrize(
    "url_path",
    ["", "records", "district", "data_status", "audit", "accounts", "account", "led"],
)
def test_every_url_shows_the_login_and_no_data(snapshot, url_path):
    at = open_app(url_path, period="2026Q3", district="330802", source="approvals")
    assert _is_login(at)
    assert not at.dataframe and not at.metric  # no table, no number of the dashboard
    assert at.text_input[1].proto.type == at.text_input[1].proto.PASSWORD  # typed unseen


@pytest.mark.signed_out
def test_a_password_login_opens_the_page_of_the_url_and_survives_reruns(snapshot):
    accounts.create_account(
        snapshot, "zhang", "营商办", Actor.cli(), display_name="张三", password=PASSWORD
    )
    at = open_app("district", period="2026Q3", district="330803")
    at.text_input(key="login_username").input("zhang")
    at.text_input(key="login_password").input(PASSWORD)
    _button(at, "登录").click().run()
    assert not at.exception
    assert [t.value for t in at.title] == ["区县画像"]  # the bookmark's page, once signed in
    assert at.selectbox(key="district").value == "330803"
    assert "当前账号：张三（营商办）" in [c.value for c in at.sidebar.caption]
    at.run()  # another click: still signed in
    assert [t.value for t in at.title] == ["区县画像"]
    # the password is nowhere in the session's state once the form is submitted
    assert PASSWORD not in json.dumps(
        {k: str(at.session_state[k]) for k in at.session_state}, ensure_ascii=False
    )
    _button(at, "退出登录").click().run()
    assert _is_login(at)
    assert "您已退出登录。" in [i.value for i in at.info]
    assert [e.action for e in _events(snapshot) if e.actor == "zhang"][-2:] == ["login", "logout"]


@pytest.mark.signed_out
def test_wrong_passwords_are_said_then_lock_the_account(snapshot):
    accounts.create_account(snapshot, "zhang", "营商办", Actor.cli(), password=PASSWORD)
    at = open_app()
    for tries_left in (4, 3, 2, 1):
        at.text_input(key="login_username").input("zhang")
        at.text_input(key="login_password").input("not-the-password")
        _button(at, "登录").click().run()
        assert [e.value for e in at.error] == [
            f"账号或密码不正确。再输错 {tries_left} 次，账号将锁定 15 分钟。"
        ]
    at.text_input(key="login_username").input("zhang")
    at.text_input(key="login_password").input("not-the-password")
    _button(at, "登录").click().run()
    [locked] = at.error
    assert locked.value.startswith("该账号因连续输错密码已被锁定")
    at.text_input(key="login_username").input("zhang")
    at.text_input(key="login_password").input(PASSWORD)
    _button(at, "登录").click().run()
    assert _is_login(at) and at.error[0].value.startswith("该账号因连续输错密码已被锁定")


@pytest.mark.signed_out
def test_the_first_run_creates_the_administrator_and_signs_in(snapshot):
    at = open_app()
    assert any(s.value == "首次使用：创建管理员账号" for s in at.subheader)
    at.text_input(key="setup_username").input("wang")
    at.text_input(key="setup_name").input("王管理")
    at.text_input(key="setup_password").input(PASSWORD)
    at.text_input(key="setup_again").input(PASSWORD)
    _button(at, "创建管理员并登录").click().run()
    assert not at.exception
    assert "当前账号：王管理（管理员）" in [c.value for c in at.sidebar.caption]
    [made] = _events(snapshot, "account_create")
    assert made.actor == "wang" and "首次设置" in made.details
    at = open_app()  # another visitor: the setup form is gone
    assert not any(s.value == "首次使用：创建管理员账号" for s in at.subheader)


@pytest.mark.signed_out
def test_a_revoked_session_returns_to_the_login_and_says_why(snapshot):
    token = signin.token_for("营商办")
    at = AppTest.from_file(DASHBOARD, default_timeout=30)
    at.session_state["_bizenv_token"] = token
    at.run()
    assert not _is_login(at)
    with store.session(snapshot) as s:  # 31 minutes without a click
        s.execute(sa.text("UPDATE sessions SET last_seen_at = '2000-01-01 00:00:00'"))
    at.run()
    assert _is_login(at)
    assert "登录已超时（长时间没有操作），请重新登录。" in [i.value for i in at.info]


# ── the 演示账号 ───────────────────────────────────────────────────────────────────────────────


@pytest.fixture
def demo_snapshot(tmp_path, isolated_data_dir) -> DataDir:
    from etl.commands.load import expand_paths
    from etl.demo import generate
    from etl.load import load_files
    from tests.test_demo_data import SMALL_DEMO

    generate(tmp_path / "demo", **SMALL_DEMO)
    load_files(expand_paths([str(tmp_path / "demo")]))
    return DataDir.of(isolated_data_dir)


@pytest.mark.signed_out
def test_the_demo_offers_one_account_per_role_until_reset(demo_snapshot):
    from etl.cli import main

    at = open_app()
    buttons = [b.label for b in at.button if b.label.endswith("身份进入")]
    assert buttons == [
        f"以{r}身份进入" for r in ("管理员", "营商办", "部门", "区县", "领导", "大屏")
    ]
    _button(at, "以区县身份进入").click().run()
    assert not at.exception
    caption = [c.value for c in at.sidebar.caption]
    assert "当前账号：演示区县（柯城区）（区县 · 柯城区）" in caption
    token = at.session_state["_bizenv_token"]
    assert main(["reset", "--demo"]) == 0
    assert accounts.resolve(demo_snapshot, token).principal is None
    at.run()  # the next click of the demo user
    assert _is_login(at)
    at = open_app()
    assert not [b for b in at.button if b.label.endswith("身份进入")]
    assert not any(s.value == "演示账号" for s in at.subheader)


# ── navigation and scope by role ─────────────────────────────────────────────────────────────


@pytest.mark.signed_in_as("区县", district="330802")
def test_a_district_account_reads_its_own_district_only(snapshot):
    at = open_app("records", period="2026Q3", source="approvals")
    assert not at.warning or all("权限" not in w.value for w in at.warning)
    box = at.selectbox(key="district_own")
    assert box.value == "柯城区" and box.disabled
    shown = next(d.value for d in at.dataframe if "办件编号" in d.value.columns)
    assert set(shown["办件编号"]).issubset(_case_ids(snapshot, "330802"))
    assert len(shown) == len(_case_ids(snapshot, "330802"))
    # the URL of another district (a drill-down link, a bookmark): nothing, and why
    at = open_app("records", period="2026Q3", source="approvals", district="330803")
    [why] = [w.value for w in at.warning if "权限" in w.value]
    assert why.startswith("您的账号只能查看柯城区的明细；网址中请求的是衢江区（330803）的记录")
    assert not any("办件编号" in d.value.columns for d in at.dataframe)
    [denied] = _events(snapshot, "records_denied")
    assert denied.outcome == "denied" and "330803" in denied.details


def _case_ids(dd: DataDir, district: str) -> set[str]:
    from kpi import store as kstore

    con = kstore.connect_snapshot(data_dir=dd)
    try:
        rows = con.execute(
            "SELECT case_id FROM approvals WHERE district_code = ? AND period = '2026Q3'",
            [district],
        ).fetchall()
    finally:
        con.close()
    return {r[0] for r in rows}


def _export_script():
    """What the 明细 page's download does when clicked: data.all_records' callable, built in a
    signed-in run (district as ?district=), called — its case ids kept in session state."""
    import streamlit as st

    from ui import auth, data

    auth.check(data.data_dir())
    asked = st.query_params.get("district")
    build = data.all_records(data.snapshot_path(), "approvals", 10_000, district=asked)
    st.session_state["exported"] = sorted(build()["办件编号"])


@pytest.mark.signed_in_as("区县", district="330802")
def test_a_district_download_holds_its_own_district_only(snapshot):
    at = open_app("records", period="2026Q3", source="approvals")
    assert [b.proto.label for b in at.get("download_button")] == ["下载 CSV", "下载 XLSX"]
    assert not at.get("download_button") or all(
        "季度评议材料" not in b.proto.label for b in at.get("download_button")
    )
    from kpi import store as kstore

    con = kstore.connect_snapshot(data_dir=snapshot)
    own = sorted(
        r[0]
        for r in con.execute(
            "SELECT case_id FROM approvals WHERE district_code = '330802'"
        ).fetchall()
    )
    con.close()
    at = AppTest.from_function(_export_script, default_timeout=30)
    at.run()
    assert at.session_state["exported"] == own and own
    at = AppTest.from_function(_export_script, default_timeout=30)
    at.query_params["district"] = "330803"  # another district, by URL: an empty file
    at.run()
    assert at.session_state["exported"] == []


@pytest.mark.signed_in_as("区县", district="330802")
def test_a_district_account_is_offered_no_table_downloads(snapshot):
    at = open_app()  # 总览: rankings and the review workbook are for roles that export tables
    assert not at.get("download_button")


@pytest.mark.signed_in_as("区县", district="330802")
@pytest.mark.parametrize("url_path", ["data_status", "audit", "accounts", "led"])
def test_a_district_account_gets_no_other_page(snapshot, url_path):
    at = open_app(url_path)
    [notice] = [w.value for w in at.warning if "权限" in w.value]
    assert "没有打开" in notice and "区县 · 柯城区" in notice
    assert not at.dataframe
    assert _events(snapshot, "page_denied")[-1].outcome == "denied"


@pytest.mark.signed_in_as("部门", department="市市场监管局")
def test_a_department_reads_its_own_indicators_records_only(snapshot):
    at = open_app("records", period="2026Q3", source="approvals", indicator="approval_online_rate")
    [why] = [w.value for w in at.warning if "负责" in w.value]
    assert why.startswith(
        "指标“全程网办率”由市政务服务管理办公室负责；您的账号（部门：市市场监管局）"
    )
    assert not any("办件编号" in d.value.columns for d in at.dataframe)
    at = open_app("records", period="2026Q3", source="approvals")  # no indicator: its own only
    shown = next(d.value for d in at.dataframe if "办件编号" in d.value.columns)
    from kpi import store as kstore

    con = kstore.connect_snapshot(data_dir=snapshot)
    expected = {
        r[0]
        for r in con.execute(
            "SELECT case_id FROM approvals WHERE period = '2026Q3' AND status = '已办结' "
            "AND domain_key IN ('starting_business', 'market_regulation')"
        ).fetchall()
    }
    con.close()
    assert set(shown["办件编号"]) == expected and expected


@pytest.mark.signed_in_as("领导")
def test_a_leader_sees_every_board_but_manages_nothing(snapshot):
    at = open_app("data_status")
    assert [t.value for t in at.title] == ["数据"]
    for url_path in ("audit", "accounts"):
        at = open_app(url_path)
        assert any("没有打开" in w.value for w in at.warning)
    at = open_app()  # table downloads are offered to leaders (export tables)
    assert any("季度评议材料" in b.proto.label for b in at.get("download_button"))


@pytest.mark.signed_in_as("大屏")
@pytest.mark.parametrize("url_path", ["", "records", "district"])
def test_a_screen_account_is_sent_to_the_led_screen(snapshot, url_path):
    at = open_app(url_path, period="2026Q3")
    assert not at.title and not at.dataframe and not at.sidebar.caption
    assert any("led-frame" in h.proto.body for h in at.get("html"))


@pytest.mark.signed_out
def test_a_kiosk_link_opens_the_led_screen_and_is_audited(snapshot):
    link_id, token = accounts.create_kiosk_link(snapshot, "大厅一号屏", Actor.cli())
    at = open_app("records", kiosk=token)
    assert not at.dataframe and not at.title
    assert any("led-frame" in h.proto.body for h in at.get("html"))
    [opened] = _events(snapshot, "kiosk_open")
    assert opened.object == "大厅一号屏" and opened.via == "kiosk"
    at.run()  # the same page load: audited once
    assert len(_events(snapshot, "kiosk_open")) == 1
    accounts.revoke_kiosk_link(snapshot, link_id, Actor.cli())
    at = open_app("led", kiosk=token)
    assert _is_login(at)
    assert any("大屏链接已失效" in i.value for i in at.info)


# ── the audit trail of what a reader looked at ───────────────────────────────────────────────


@pytest.mark.signed_in_as("营商办")
def test_viewing_records_is_audited_once_per_view(snapshot):
    at = open_app("records", period="2026Q3", source="hotline", district="330802")
    at.run()  # a rerun of the same view is not a new view
    [seen] = _events(snapshot, "records_view")
    details = json.loads(seen.details)
    assert seen.actor == "test-office" and seen.object == "明细·12345 工单"
    assert (details["季度"], details["区县"], details["页码"]) == ("2026Q3", "330802", 1)
    at.text_input(key="q").input("噪音").run()
    assert len(_events(snapshot, "records_view")) == 2


@pytest.mark.signed_in_as("管理员")
def test_the_audit_page_filters_by_person_and_action(snapshot):
    accounts.create_account(snapshot, "zhang", "营商办", Actor.cli(), password=PASSWORD)
    accounts.authenticate(snapshot, "zhang", "wrong-password")
    accounts.authenticate(snapshot, "zhang", PASSWORD)
    at = open_app("audit")
    assert [t.value for t in at.title] == ["审计日志"]
    at.selectbox(key="audit_person").select("zhang").run()
    table = at.dataframe[0].value
    assert list(table["操作"]) == ["登录", "登录失败"]
    at.multiselect(key="audit_actions").select("login_failed").run()
    assert list(at.dataframe[0].value["操作"]) == ["登录失败"]
    assert [b.proto.label for b in at.get("download_button")] == ["下载 CSV", "下载 XLSX"]


@pytest.mark.signed_in_as("管理员")
def test_an_administrator_creates_an_account_on_the_accounts_page(snapshot):
    at = open_app("accounts")
    at.selectbox(key="new_role").select("district").run()
    at.selectbox(key="new_district").select("330803").run()
    at.text_input(key="new_username").input("qujiang")
    at.text_input(key="new_name").input("衢江区营商办")
    at.text_input(key="new_password").input(PASSWORD)
    at.text_input(key="new_again").input(PASSWORD)
    _button(at, "创建账号").click().run()
    assert not at.exception and not at.error
    account = accounts.find(snapshot, "qujiang")
    assert (account.role, account.district_code, account.must_change_password) == (
        "district",
        "330803",
        True,
    )
    result = accounts.authenticate(snapshot, "qujiang", PASSWORD)
    assert result.principal.must_change_password
