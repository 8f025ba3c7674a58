"""Accounts, sign-in, sessions, lockout and kiosk links (office.accounts) on both backends.

Times are moved by rewriting the stored timestamps (the clock is the database's business here),
never by patching the code under test."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa

from kpi.errors import UserInputError
from office import accounts, audit, store
from office.audit import Actor
from office.models import Account, AuditEvent, AuthSession
from office.roles import Role

PASSWORD = "Bizenv-口令-2026"
ADMIN = Actor("root", via="cli", os_user="root")


@pytest.fixture
def zhang(app_db):
    accounts.create_account(
        app_db, "zhang", "营商办", ADMIN, display_name="张三", password=PASSWORD
    )
    return app_db


def _events(dd, action=None) -> list[AuditEvent]:
    with store.session(dd) as s:
        q = sa.select(AuditEvent).order_by(AuditEvent.id)
        if action:
            q = q.where(AuditEvent.action == action)
        return list(s.scalars(q))


def _age_session(dd, token: str, **delta) -> None:
    """Move a session's last activity (and creation) into the past."""
    with store.session(dd) as s:
        sess = s.scalar(
            sa.select(AuthSession).where(AuthSession.token_hash == accounts.token_hash(token))
        )
        sess.last_seen_at -= dt.timedelta(**delta)
        sess.created_at -= dt.timedelta(**delta)


def test_passwords_are_stored_as_argon2id_hashes_only(zhang):
    with store.session(zhang) as s:
        stored = s.scalar(sa.select(Account.password_hash).where(Account.username == "zhang"))
    assert stored.startswith("$argon2id$v=19$")
    assert PASSWORD not in stored


def test_a_right_password_signs_in_and_the_token_resolves(zhang):
    result = accounts.authenticate(zhang, "zhang", PASSWORD, client="10.0.0.8")
    assert result.token and result.principal.username == "zhang"
    assert result.principal.role == Role.OFFICE
    found = accounts.resolve(zhang, result.token)
    assert found.principal.display_name == "张三" and found.reason is None
    with store.session(zhang) as s:  # only the token's hash is kept
        hashes = list(s.scalars(sa.select(AuthSession.token_hash)))
    assert hashes == [accounts.token_hash(result.token)] and result.token not in hashes
    [login] = _events(zhang, "login")
    assert (login.actor, login.actor_role, login.client, login.via) == (
        "zhang",
        "office",
        "10.0.0.8",
        "web",
    )


@pytest.mark.parametrize("token", [None, "", "not-a-token"])
def test_no_token_or_an_unknown_one_is_nobody(zhang, token):
    assert accounts.resolve(zhang, token) == accounts.Resolved(None, "unknown")


def test_a_wrong_password_says_how_many_tries_are_left(zhang):
    result = accounts.authenticate(zhang, "zhang", "wrong-password")
    assert result.token is None
    assert result.message == "账号或密码不正确。再输错 4 次，账号将锁定 15 分钟。"
    [failed] = _events(zhang, "login_failed")
    assert failed.actor == "zhang" and failed.outcome == "failed"
    assert "密码错误" in failed.details and "wrong-password" not in (failed.details or "")


def test_an_unknown_name_is_not_written_down(zhang):
    """People type their password into the name field: a name without an account is not logged."""
    result = accounts.authenticate(zhang, PASSWORD, "whatever")
    assert result.message == "账号或密码不正确。"
    [failed] = _events(zhang, "login_failed")
    assert failed.actor is None and failed.object is None
    assert PASSWORD not in (failed.details or "")


def test_five_wrong_passwords_lock_the_account_even_against_the_right_one(zhang):
    for _ in range(4):
        accounts.authenticate(zhang, "zhang", "wrong-password")
    fifth = accounts.authenticate(zhang, "zhang", "wrong-password")
    assert fifth.message.startswith("该账号因连续输错密码已被锁定，请在 ")
    assert accounts.authenticate(zhang, "zhang", PASSWORD).token is None  # still locked
    assert len(_events(zhang, "lockout")) == 1
    # the lock ends by itself after lockout_minutes (15): move it into the past
    with store.session(zhang) as s:
        account = s.scalar(sa.select(Account).where(Account.username == "zhang"))
        account.locked_until = dt.datetime(2000, 1, 1)
    assert accounts.authenticate(zhang, "zhang", PASSWORD).token


def test_a_reset_password_unlocks_and_asks_for_a_new_one(zhang):
    for _ in range(5):
        accounts.authenticate(zhang, "zhang", "wrong-password")
    accounts.reset_password(zhang, "zhang", "Temporary-2026", ADMIN)
    result = accounts.authenticate(zhang, "zhang", "Temporary-2026")
    assert result.principal.must_change_password
    with pytest.raises(UserInputError, match="原密码不正确"):
        accounts.change_password(zhang, result.principal, "wrong", "Mine-only-2026")
    accounts.change_password(zhang, result.principal, "Temporary-2026", "Mine-only-2026")
    again = accounts.authenticate(zhang, "zhang", "Mine-only-2026")
    assert again.token and not again.principal.must_change_password
    assert [e.action for e in _events(zhang) if e.action.startswith("password")] == [
        "password_reset",
        "password_change",
    ]


def test_one_address_failing_on_many_accounts_is_throttled(app_db, monkeypatch):
    monkeypatch.setenv("BIZENV_CLIENT_FAILURES", "6")
    accounts._SETTINGS_CACHE.clear()
    for i in range(6):
        accounts.authenticate(app_db, f"nobody{i}", "guess", client="10.9.9.9")
    refused = accounts.authenticate(app_db, "nobody", "guess", client="10.9.9.9")
    assert refused.message == "登录失败次数过多，请 15 分钟后再试，或联系管理员。"
    # another address is not affected
    assert accounts.authenticate(app_db, "nobody", "guess", client="10.1.1.1").message == (
        "账号或密码不正确。"
    )
    accounts._SETTINGS_CACHE.clear()


def test_a_disabled_account_cannot_sign_in_and_its_sessions_end(zhang):
    token = accounts.authenticate(zhang, "zhang", PASSWORD).token
    accounts.set_disabled(zhang, "zhang", True, ADMIN)
    assert accounts.resolve(zhang, token).principal is None
    assert accounts.authenticate(zhang, "zhang", PASSWORD).message == "该账号已停用，请联系管理员。"
    accounts.set_disabled(zhang, "zhang", False, ADMIN)
    assert accounts.authenticate(zhang, "zhang", PASSWORD).token


def test_an_idle_session_ends_after_the_idle_timeout(zhang):
    token = accounts.authenticate(zhang, "zhang", PASSWORD).token
    _age_session(zhang, token, minutes=29)
    assert accounts.resolve(zhang, token).principal is not None  # 29 of 30 minutes: still in
    _age_session(zhang, token, minutes=31)
    assert accounts.resolve(zhang, token).reason == "expired"
    assert accounts.resolve(zhang, token).reason == "revoked"  # and it stays ended
    [ended] = _events(zhang, "session_expired")
    assert ended.actor == "zhang" and "无操作超时" in ended.details


def test_a_busy_session_still_ends_after_the_session_limit(zhang):
    token = accounts.authenticate(zhang, "zhang", PASSWORD).token
    with store.session(zhang) as s:
        sess = s.scalar(sa.select(AuthSession))
        sess.created_at -= dt.timedelta(hours=13)  # active a minute ago, but opened 13 h ago
    assert accounts.resolve(zhang, token).reason == "expired"


def test_the_idle_timeout_is_a_setting_a_manager_changes(zhang):
    token = accounts.authenticate(zhang, "zhang", PASSWORD).token
    accounts.save_settings(zhang, {"idle_minutes": 5}, Actor("wang", "admin"))
    _age_session(zhang, token, minutes=6)
    assert accounts.resolve(zhang, token).reason == "expired"
    [change] = _events(zhang, "settings_change")
    assert change.actor == "wang" and json.loads(change.details) == {
        "无操作自动退出（分钟）": "30 → 5"
    }
    with pytest.raises(UserInputError, match="应在 1 到 1440 之间"):
        accounts.save_settings(zhang, {"idle_minutes": 0}, Actor("wang", "admin"))


def test_signing_out_revokes_the_token(zhang):
    token = accounts.authenticate(zhang, "zhang", PASSWORD).token
    accounts.end_session(zhang, token)
    assert accounts.resolve(zhang, token).reason == "revoked"
    assert [e.action for e in _events(zhang)][-1] == "logout"


def test_a_role_change_ends_the_sessions_and_binds_the_district(zhang):
    token = accounts.authenticate(zhang, "zhang", PASSWORD).token
    accounts.set_role(zhang, "zhang", "区县", ADMIN, district_code="330802")
    assert accounts.resolve(zhang, token).principal is None
    p = accounts.authenticate(zhang, "zhang", PASSWORD).principal
    assert (p.role, p.district_code, p.department) == (Role.DISTRICT, "330802", None)


@pytest.mark.parametrize(
    ("role", "binding", "message"),
    [
        ("区县", {}, "区县账号必须指定所属区县"),
        ("区县", {"district_code": "柯城"}, "区县代码应为 6 位数字"),
        ("部门", {}, "部门账号必须指定所属部门"),
        ("科长", {}, "没有角色“科长”"),
    ],
)
def test_a_role_needs_its_binding(app_db, role, binding, message):
    with pytest.raises(UserInputError, match=message):
        accounts.create_account(app_db, "x", role, ADMIN, **binding)


@pytest.mark.parametrize(
    ("password", "message"), [("short", "至少 8 个字符"), ("zhangsan", "不能与账号相同")]
)
def test_weak_passwords_are_refused(app_db, password, message):
    with pytest.raises(UserInputError, match=message):
        accounts.create_account(app_db, "zhangsan", "领导", ADMIN, password=password)


def test_names_are_unique_and_kiosk_is_reserved(zhang):
    with pytest.raises(UserInputError, match="已存在"):
        accounts.create_account(zhang, "zhang", "领导", ADMIN)
    with pytest.raises(UserInputError, match="系统保留"):
        accounts.create_account(zhang, accounts.KIOSK_ACCOUNT, "大屏", ADMIN)


def test_the_first_run_form_creates_one_administrator_only(app_db):
    assert not accounts.any_account(app_db)
    who = Actor("wang", "admin", "web")
    accounts.create_account(app_db, "wang", "管理员", who, password=PASSWORD, first_admin=True)
    assert accounts.any_account(app_db)
    with pytest.raises(UserInputError, match="首次设置只能创建第一个管理员"):
        accounts.create_account(
            app_db, "intruder", "管理员", who, password=PASSWORD, first_admin=True
        )


def test_a_kiosk_link_never_idles_out_and_dies_when_revoked(app_db):
    link_id, token = accounts.create_kiosk_link(app_db, "政务服务大厅一号屏", ADMIN)
    assert accounts.resolve(app_db, token).principal is not None
    with store.session(app_db) as s:  # weeks without a page load
        sess = s.get(AuthSession, link_id)
        sess.last_seen_at -= dt.timedelta(days=40)
        sess.created_at -= dt.timedelta(days=40)
    p = accounts.resolve(app_db, token, kind="kiosk").principal
    assert (p.role, p.kind, p.label) == (Role.SCREEN, "kiosk", "政务服务大厅一号屏")
    # a kiosk token is not a browser session (and a browser cookie is not a kiosk link)
    assert accounts.resolve(app_db, token, kind="browser").principal is None
    accounts.kiosk_opened(app_db, p, "10.0.0.50")
    accounts.revoke_kiosk_link(app_db, link_id, ADMIN)
    assert accounts.resolve(app_db, token, kind="kiosk").reason == "revoked"
    assert [e.action for e in _events(app_db)] == ["kiosk_create", "kiosk_open", "kiosk_revoke"]
    # the kiosk account cannot sign in with a password, nor is it listed
    assert accounts.authenticate(app_db, accounts.KIOSK_ACCOUNT, "").token is None
    assert accounts.list_accounts(app_db) == []


def test_demo_accounts_one_per_role_then_gone(app_db):
    made = accounts.ensure_demo_accounts(app_db, ("330802", "柯城区"), "市市场监管局")
    assert sorted(a.role for a in made) == sorted(r.value for r in Role)
    district = next(a for a in made if a.role == "district")
    assert district.district_code == "330802" and district.password_hash is None
    assert not accounts.any_account(app_db)  # still the first run: demo accounts do not count
    again = accounts.ensure_demo_accounts(app_db, ("330802", "柯城区"), "市市场监管局")
    assert [a.id for a in again] == [a.id for a in made]  # made once
    token = accounts.sign_in_demo(app_db, Role.DISTRICT).token
    assert accounts.resolve(app_db, token).principal.is_demo
    # no password can open them
    assert accounts.authenticate(app_db, "demo-district", "").token is None
    assert accounts.remove_demo_accounts(app_db, ADMIN) == 6
    assert accounts.resolve(app_db, token).principal is None
    assert accounts.sign_in_demo(app_db, Role.DISTRICT).token is None


def test_an_identity_provider_login_maps_to_the_account_with_that_email(app_db):
    accounts.create_account(app_db, "li", "领导", ADMIN, email="li@gov.example.cn")
    result = accounts.sign_in_identity(app_db, "li@gov.example.cn", "https://idp.example")
    assert result.principal.username == "li" and result.principal.role == Role.LEADER
    refused = accounts.sign_in_identity(app_db, "stranger@gov.example.cn", "https://idp.example")
    assert refused.token is None and "没有开通" in refused.message
    assert [(e.action, e.via, e.outcome) for e in _events(app_db)][-2:] == [
        ("login", "oidc", "ok"),
        ("login_failed", "oidc", "denied"),
    ]


def test_the_audit_log_is_searched_by_person_action_and_beijing_day(zhang):
    accounts.authenticate(zhang, "zhang", PASSWORD)
    accounts.authenticate(zhang, "zhang", "wrong-password")
    with store.engine(
        zhang
    ).begin() as conn:  # 16:30 UTC on 1 June 2020 = 00:30 on 2 June in Beijing
        conn.execute(
            sa.text(
                "INSERT INTO audit_log (at, actor, action, outcome, via) "
                "VALUES (:t, 'zhang', 'records_view', 'ok', 'web')"
            ),
            {"t": dt.datetime(2020, 6, 1, 16, 30)},
        )
    frame = audit.search(zhang, actor="zhang", actions=["login", "login_failed"])
    assert list(frame["操作"]) == ["登录失败", "登录"]
    assert list(frame.columns)[:4] == ["时间", "人员", "角色", "操作"]
    day = audit.search(zhang, start=dt.date(2020, 6, 2), end=dt.date(2020, 6, 2))
    assert list(day["操作"]) == ["查看明细"]
    assert str(day["时间"].iloc[0]) == "2020-06-02 00:30:00"
    assert audit.count(zhang, start=dt.date(2020, 6, 1), end=dt.date(2020, 6, 1)) == 0
    assert audit.actors(zhang) == ["root", "zhang"]
