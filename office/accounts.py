"""Accounts and sign-in: argon2 password hashes, sessions that outlive a page refresh until an
idle timeout, lockout after repeated failures, kiosk links for the lobby screen, the 演示账号.

A session is a random token (256 bits) the browser keeps in a cookie; the database keeps only
its SHA-256, so a copy of the database lets no one sign in. Every sign-in, failure, lockout,
sign-out and account change is written to the audit log in the same transaction as the change.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import secrets
import threading
import time
from dataclasses import dataclass, fields

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from kpi.errors import UserInputError
from kpi.settings import DataDir
from office import audit, store
from office.audit import Actor
from office.models import Account, AppSetting, AuditEvent, AuthSession, utcnow
from office.roles import LABELS, Role, Scope, parse

PASSWORD_MIN_LENGTH = 8
KIOSK_ACCOUNT = "kiosk-links"  # the account every kiosk link signs in as (role 大屏, no password)
RESERVED = {KIOSK_ACCOUNT}
TOUCH_EVERY = dt.timedelta(seconds=60)  # last_seen_at is written at most this often per session

_HASHER = PasswordHasher()  # argon2id, the library's defaults (RFC 9106 low-memory profile)
# Verified against when the account does not exist, so that an unknown name takes as long as a
# wrong password and the timing tells nothing.
_DUMMY_HASH = _HASHER.hash(secrets.token_hex(16))


# ── settings ─────────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class AuthSettings:
    """Sign-in settings: an environment variable gives each its default, a 管理员 may change it
    on the accounts page (stored in app_settings, which wins)."""

    idle_minutes: float = 30  # BIZENV_IDLE_MINUTES: signed out after this long without a click
    session_hours: float = 12  # BIZENV_SESSION_HOURS: signed out after this long in any case
    lockout_failures: int = 5  # BIZENV_LOCKOUT_FAILURES: wrong passwords in a row before a lock
    lockout_minutes: float = 15  # BIZENV_LOCKOUT_MINUTES: how long the lock lasts
    client_failures: int = 20  # BIZENV_CLIENT_FAILURES: failures from one address per lock window

    ENV = {
        "idle_minutes": "BIZENV_IDLE_MINUTES",
        "session_hours": "BIZENV_SESSION_HOURS",
        "lockout_failures": "BIZENV_LOCKOUT_FAILURES",
        "lockout_minutes": "BIZENV_LOCKOUT_MINUTES",
        "client_failures": "BIZENV_CLIENT_FAILURES",
    }
    LABELS = {
        "idle_minutes": "无操作自动退出（分钟）",
        "session_hours": "登录最长有效（小时）",
        "lockout_failures": "连续输错密码几次后锁定",
        "lockout_minutes": "锁定时长（分钟）",
        "client_failures": "同一地址在锁定时长内最多失败次数",
    }
    LIMITS = {  # (min, max) a 管理员 may set
        "idle_minutes": (1, 24 * 60),
        "session_hours": (1, 24 * 30),
        "lockout_failures": (3, 100),
        "lockout_minutes": (1, 24 * 60),
        "client_failures": (5, 10_000),
    }

    @classmethod
    def defaults(cls) -> AuthSettings:
        base = cls()
        values = {}
        for name, var in cls.ENV.items():
            raw = os.environ.get(var, "").strip()
            default = getattr(base, name)
            try:
                values[name] = type(default)(float(raw)) if raw else default
            except ValueError:
                values[name] = default
        return cls(**values)


_SETTINGS_CACHE: dict[str, tuple[float, AuthSettings]] = {}
_SETTINGS_TTL = 10.0  # seconds: another process's change is seen within this; ours at once
_CACHE_LOCK = threading.Lock()


def settings(data_dir: DataDir) -> AuthSettings:
    """The settings in force (environment defaults, then what a 管理员 saved)."""
    url = store.url_for(data_dir)
    now = time.monotonic()
    with _CACHE_LOCK:
        hit = _SETTINGS_CACHE.get(url)
    if hit and now - hit[0] < _SETTINGS_TTL:
        return hit[1]
    base = AuthSettings.defaults()
    with store.session(data_dir) as s:
        saved = {k: v for k, v in s.execute(sa.select(AppSetting.key, AppSetting.value)).all()}
    values = {}
    for f in fields(AuthSettings):
        if f.name in saved:
            try:
                values[f.name] = type(getattr(base, f.name))(float(saved[f.name]))
            except ValueError:
                pass
    result = AuthSettings(**{**{f.name: getattr(base, f.name) for f in fields(base)}, **values})
    with _CACHE_LOCK:
        _SETTINGS_CACHE[url] = (now, result)
    return result


def save_settings(data_dir: DataDir, changes: dict[str, float], by: Actor) -> AuthSettings:
    """Store a 管理员's changes (audited with the old and new values)."""
    current = settings(data_dir)
    changed = {}
    for name, value in changes.items():
        if name not in AuthSettings.LIMITS:
            raise UserInputError(f"没有设置项“{name}”。")
        low, high = AuthSettings.LIMITS[name]
        if not low <= float(value) <= high:
            raise UserInputError(f"“{AuthSettings.LABELS[name]}”应在 {low} 到 {high} 之间。")
        typed = type(getattr(current, name))(value)
        if typed != getattr(current, name):
            changed[name] = (getattr(current, name), typed)
    if not changed:
        return current
    with store.session(data_dir) as s:
        for name, (_, new) in changed.items():
            row = s.get(AppSetting, name) or AppSetting(key=name)
            row.value, row.updated_at, row.updated_by = str(new), utcnow(), by.name
            s.add(row)
        audit.record(
            data_dir,
            "settings_change",
            by,
            "登录设置",
            {AuthSettings.LABELS[n]: f"{old} → {new}" for n, (old, new) in changed.items()},
            session=s,
        )
    with _CACHE_LOCK:
        _SETTINGS_CACHE.pop(store.url_for(data_dir), None)
    return settings(data_dir)


# ── who is signed in ─────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class Principal:
    """The account behind a session, as the app needs it on every run."""

    account_id: int
    username: str
    display_name: str
    role: Role
    district_code: str | None
    department: str | None
    is_demo: bool
    must_change_password: bool
    session_id: int
    kind: str  # browser | kiosk
    label: str | None = None  # a kiosk link's name

    @property
    def scope(self) -> Scope:
        return Scope(self.role, self.district_code, self.department)

    @property
    def role_label(self) -> str:
        return LABELS[self.role]

    def actor(self, client: str | None = None) -> Actor:
        return Actor(
            name=self.username,
            role=self.role.value,
            via="kiosk" if self.kind == "kiosk" else "web",
            client=client,
        )


def _principal(account: Account, sess: AuthSession) -> Principal:
    return Principal(
        account_id=account.id,
        username=account.username,
        display_name=account.display_name or account.username,
        role=Role(account.role),
        district_code=account.district_code,
        department=account.department,
        is_demo=account.is_demo,
        must_change_password=bool(account.must_change_password),
        session_id=sess.id,
        kind=sess.kind,
        label=sess.label,
    )


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_session(
    s: Session,
    account: Account,
    kind: str = "browser",
    label: str | None = None,
    client: str | None = None,
    created_by: str | None = None,
) -> tuple[str, AuthSession]:
    token = secrets.token_urlsafe(32)
    now = utcnow()
    sess = AuthSession(
        token_hash=token_hash(token),
        account_id=account.id,
        kind=kind,
        label=label,
        created_at=now,
        last_seen_at=now,
        created_by=created_by,
        client=client,
    )
    s.add(sess)
    s.flush()
    return token, sess


@dataclass(frozen=True)
class Resolved:
    """A token looked up: the principal, or why there is none (expired, revoked, …)."""

    principal: Principal | None
    reason: str | None = None  # None | "unknown" | "expired" | "revoked" | "disabled"


def resolve(
    data_dir: DataDir, token: str | None, kind: str | None = None, client: str | None = None
) -> Resolved:
    """The principal of a session token — the login check each page run makes (one indexed
    lookup; last_seen_at written at most once a minute). A browser session idle longer than the
    idle timeout, or older than the session limit, is ended here and audited."""
    if not token:
        return Resolved(None, "unknown")
    conf = settings(data_dir)  # before the transaction: SQLite has one writer at a time
    with store.session(data_dir) as s:
        row = s.execute(
            sa.select(AuthSession, Account)
            .join(Account, Account.id == AuthSession.account_id)
            .where(AuthSession.token_hash == token_hash(token))
        ).first()
        if row is None:
            return Resolved(None, "unknown")
        sess, account = row
        if kind is not None and sess.kind != kind:
            return Resolved(None, "unknown")
        if sess.revoked_at is not None:
            return Resolved(None, "revoked")
        if account.disabled:
            return Resolved(None, "disabled")
        now = utcnow()
        if sess.kind == "browser":
            idle = now - sess.last_seen_at > dt.timedelta(minutes=conf.idle_minutes)
            # a 大屏 account on the lobby screen is "active" whenever the screen asks (its own
            # fragment re-checks), and runs for weeks: no overall limit for it
            too_old = Role(account.role) != Role.SCREEN and now - sess.created_at > dt.timedelta(
                hours=conf.session_hours
            )
            if idle or too_old:
                sess.revoked_at = now
                audit.record(
                    data_dir,
                    "session_expired",
                    Actor(account.username, account.role, "web", client),
                    details={"原因": "无操作超时" if idle else "超过登录最长有效时间"},
                    session=s,
                )
                return Resolved(None, "expired")
        if now - sess.last_seen_at >= TOUCH_EVERY:
            sess.last_seen_at = now
        return Resolved(_principal(account, sess))


def end_session(data_dir: DataDir, token: str | None, client: str | None = None) -> None:
    """Sign out: the session is revoked (its cookie is worthless from now on), audited."""
    if not token:
        return
    with store.session(data_dir) as s:
        row = s.execute(
            sa.select(AuthSession, Account)
            .join(Account, Account.id == AuthSession.account_id)
            .where(AuthSession.token_hash == token_hash(token))
        ).first()
        if row is None or row[0].revoked_at is not None:
            return
        sess, account = row
        sess.revoked_at = utcnow()
        audit.record(
            data_dir, "logout", Actor(account.username, account.role, "web", client), session=s
        )


# ── signing in ───────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class LoginResult:
    token: str | None
    principal: Principal | None
    message: str | None = None  # Chinese, for the login page when token is None


WRONG = "账号或密码不正确。"


def _hash_ok(stored: str | None, password: str) -> bool:
    try:
        return _HASHER.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def authenticate(
    data_dir: DataDir, username: str, password: str, client: str | None = None
) -> LoginResult:
    """Check a name and password. Wrong passwords count towards a lockout of the account
    (lockout_failures in a row → locked for lockout_minutes), and failures from one address are
    throttled (client_failures per lockout window), so guessing is slow whichever way it goes."""
    conf = settings(data_dir)
    name = (username or "").strip()
    now = utcnow()
    window = now - dt.timedelta(minutes=conf.lockout_minutes)
    with store.session(data_dir) as s:
        recent = s.scalar(
            sa.select(sa.func.count())
            .select_from(AuditEvent)
            .where(
                AuditEvent.action == "login_failed",
                AuditEvent.outcome == "failed",
                AuditEvent.client.is_(None) if client is None else AuditEvent.client == client,
                AuditEvent.at >= window,
            )
        )
        if (recent or 0) >= conf.client_failures:
            audit.record(
                data_dir,
                "login_failed",
                Actor(None, None, "web", client),
                details={"原因": "同一地址失败次数过多，暂停登录"},
                outcome="denied",
                session=s,
            )
            return LoginResult(
                None,
                None,
                f"登录失败次数过多，请 {conf.lockout_minutes:g} 分钟后再试，或联系管理员。",
            )
        account = s.scalar(sa.select(Account).where(Account.username == name)) if name else None
        if account is None or account.is_demo or account.username in RESERVED:
            _hash_ok(None, password)  # as slow as a real check
            audit.record(
                data_dir,
                "login_failed",
                Actor(None, None, "web", client),
                # the name only when such an account exists: a mistyped "name" may be a password
                details={"原因": "账号不存在"},
                outcome="failed",
                session=s,
            )
            return LoginResult(None, None, WRONG)
        actor = Actor(account.username, account.role, "web", client)
        if account.locked_until is not None and account.locked_until > now:
            audit.record(
                data_dir,
                "login_failed",
                actor,
                account.username,
                {"原因": "账号已锁定"},
                outcome="denied",
                session=s,
            )
            return LoginResult(None, None, _locked_text(account.locked_until))
        if not _hash_ok(account.password_hash, password):
            account.failed_logins = (account.failed_logins or 0) + 1
            audit.record(
                data_dir,
                "login_failed",
                actor,
                account.username,
                {"原因": "密码错误", "连续错误次数": account.failed_logins},
                outcome="failed",
                session=s,
            )
            if account.failed_logins >= conf.lockout_failures:
                account.locked_until = now + dt.timedelta(minutes=conf.lockout_minutes)
                account.failed_logins = 0
                audit.record(
                    data_dir,
                    "lockout",
                    actor,
                    account.username,
                    {"锁定至": _beijing(account.locked_until)},
                    session=s,
                )
                return LoginResult(None, None, _locked_text(account.locked_until))
            left = conf.lockout_failures - account.failed_logins
            return LoginResult(
                None, None, WRONG + f"再输错 {left} 次，账号将锁定 {conf.lockout_minutes:g} 分钟。"
            )
        if account.disabled:
            audit.record(
                data_dir,
                "login_failed",
                actor,
                account.username,
                {"原因": "账号已停用"},
                outcome="denied",
                session=s,
            )
            return LoginResult(None, None, "该账号已停用，请联系管理员。")
        if _HASHER.check_needs_rehash(account.password_hash or ""):
            account.password_hash = _HASHER.hash(password)
        account.failed_logins, account.locked_until, account.last_login_at = 0, None, now
        token, sess = _new_session(s, account, client=client)
        audit.record(data_dir, "login", actor, account.username, session=s)
        return LoginResult(token, _principal(account, sess))


def _beijing(at: dt.datetime) -> str:
    return (at.replace(tzinfo=dt.UTC) + dt.timedelta(hours=8)).strftime("%Y-%m-%d %H:%M")


def _locked_text(until: dt.datetime) -> str:
    return (
        f"该账号因连续输错密码已被锁定，请在 {_beijing(until)} 之后再试，或请管理员重置密码解锁。"
    )


def sign_in_demo(data_dir: DataDir, role: Role, client: str | None = None) -> LoginResult:
    """Sign in as the 演示账号 of a role. The caller offers this only while the live snapshot
    holds the demo (kpi.demo); the accounts are removed by `bizenv reset --demo`."""
    with store.session(data_dir) as s:
        account = s.scalar(
            sa.select(Account).where(
                Account.is_demo.is_(True), Account.role == role.value, Account.disabled.is_(False)
            )
        )
        if account is None:
            return LoginResult(None, None, "没有这个角色的演示账号。")
        account.last_login_at = utcnow()
        token, sess = _new_session(s, account, client=client)
        audit.record(
            data_dir,
            "login",
            Actor(account.username, account.role, "web", client),
            account.username,
            {"方式": "演示账号"},
            session=s,
        )
        return LoginResult(token, _principal(account, sess))


def sign_in_identity(
    data_dir: DataDir, email: str, issuer: str | None = None, client: str | None = None
) -> LoginResult:
    """OpenID Connect: the identity provider vouched for `email` (Streamlit's st.user); the role
    is the account's with that e-mail in this database. No account → refused (audited)."""
    with store.session(data_dir) as s:
        account = s.scalar(sa.select(Account).where(Account.email == (email or "").strip()))
        if account is None or account.disabled or account.is_demo:
            audit.record(
                data_dir,
                "login_failed",
                Actor(None, None, "oidc", client),
                email,
                {"原因": "没有对应的账号" if account is None else "账号已停用", "身份源": issuer},
                outcome="denied",
                session=s,
            )
            return LoginResult(
                None, None, f"统一身份认证账号 {email} 在本系统中没有开通或已停用，请联系管理员。"
            )
        account.last_login_at = utcnow()
        token, sess = _new_session(s, account, client=client)
        audit.record(
            data_dir,
            "login",
            Actor(account.username, account.role, "oidc", client),
            account.username,
            {"方式": "统一身份认证", "身份源": issuer},
            session=s,
        )
        return LoginResult(token, _principal(account, sess))


# ── accounts ─────────────────────────────────────────────────────────────────────────────────


def check_password(password: str, username: str = "") -> None:
    """The password rule: at least 8 characters, not the account name."""
    if len(password or "") < PASSWORD_MIN_LENGTH:
        raise UserInputError(f"密码至少 {PASSWORD_MIN_LENGTH} 个字符。")
    if username and password.strip().lower() == username.strip().lower():
        raise UserInputError("密码不能与账号相同。")


def _check_binding(role: Role, district_code: str | None, department: str | None) -> None:
    if role == Role.DISTRICT and not district_code:
        raise UserInputError("区县账号必须指定所属区县（6 位行政区划代码，如 330802）。")
    if role == Role.DISTRICT and not (
        district_code and district_code.isdigit() and len(district_code) == 6
    ):
        raise UserInputError(f"区县代码应为 6 位数字（行政区划代码），而不是“{district_code}”。")
    if role == Role.DEPARTMENT and not department:
        raise UserInputError("部门账号必须指定所属部门（与 metrics.yaml 中指标的 owner 相同）。")


def any_account(data_dir: DataDir) -> bool:
    """True once a real (not demo, not kiosk) account exists: the first-run setup is over."""
    with store.session(data_dir) as s:
        return (
            s.scalar(
                sa.select(Account.id)
                .where(Account.is_demo.is_(False), Account.username.not_in(RESERVED))
                .limit(1)
            )
            is not None
        )


def create_account(
    data_dir: DataDir,
    username: str,
    role: Role | str,
    by: Actor,
    display_name: str = "",
    password: str | None = None,
    district_code: str | None = None,
    department: str | None = None,
    email: str | None = None,
    is_demo: bool = False,
    first_admin: bool = False,
    must_change: bool = False,
) -> Account:
    """A new account (audited). `password` None: the account signs in through OIDC only (or
    after a reset-password). `first_admin`: the first-run setup form, refused once any account
    exists (checked in the same transaction, so two visitors cannot both win). `must_change`:
    the password is an initial one a 管理员 chose; the user sets their own at the first sign-in."""
    role = parse(role)
    name = (username or "").strip()
    if not name or len(name) > 64 or any(c.isspace() for c in name):
        raise UserInputError("账号应为 1–64 个字符，不含空格。")
    if name in RESERVED:
        raise UserInputError(f"“{name}”是系统保留的账号名，请换一个。")
    _check_binding(role, district_code, department)
    if password is not None:
        check_password(password, name)
    hashed = _HASHER.hash(password) if password is not None else None
    with store.session(data_dir) as s:
        if first_admin and (
            s.scalar(
                sa.select(Account.id).where(
                    Account.is_demo.is_(False), Account.username.not_in(RESERVED)
                )
            )
            is not None
        ):
            raise UserInputError("已经有账号了：首次设置只能创建第一个管理员。请用已有账号登录。")
        if s.scalar(sa.select(Account.id).where(Account.username == name)) is not None:
            raise UserInputError(f"账号“{name}”已存在。")
        if email and s.scalar(sa.select(Account.id).where(Account.email == email)) is not None:
            raise UserInputError(f"邮箱 {email} 已绑定到另一个账号。")
        now = utcnow()
        account = Account(
            username=name,
            display_name=(display_name or "").strip() or name,
            role=role.value,
            district_code=district_code if role == Role.DISTRICT else None,
            department=department if role == Role.DEPARTMENT else None,
            password_hash=hashed,
            email=(email or "").strip() or None,
            disabled=False,
            is_demo=is_demo,
            failed_logins=0,
            must_change_password=must_change and password is not None,
            created_at=now,
            updated_at=now,
        )
        s.add(account)
        s.flush()
        audit.record(
            data_dir,
            "account_create",
            by,
            name,
            {
                "角色": LABELS[role],
                "区县": account.district_code,
                "部门": account.department,
                "邮箱": account.email,
                "演示": "是" if is_demo else None,
                "首次设置": "是" if first_admin else None,
            },
            session=s,
        )
        return account


def _get(s: Session, username: str) -> Account:
    account = s.scalar(sa.select(Account).where(Account.username == (username or "").strip()))
    if account is None or account.username in RESERVED:
        raise UserInputError(f"没有账号“{username}”。运行 bizenv user list 查看全部账号。")
    return account


def _revoke_all(s: Session, account: Account) -> None:
    s.execute(
        sa.update(AuthSession)
        .where(AuthSession.account_id == account.id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def set_role(
    data_dir: DataDir,
    username: str,
    role: Role | str,
    by: Actor,
    district_code: str | None = None,
    department: str | None = None,
) -> Account:
    """Change an account's role and binding; its sessions end (the next click asks to sign in
    again, with the new scope)."""
    role = parse(role)
    _check_binding(role, district_code, department)
    with store.session(data_dir) as s:
        account = _get(s, username)
        before = (LABELS[Role(account.role)], account.district_code, account.department)
        account.role = role.value
        account.district_code = district_code if role == Role.DISTRICT else None
        account.department = department if role == Role.DEPARTMENT else None
        account.updated_at = utcnow()
        _revoke_all(s, account)
        audit.record(
            data_dir,
            "account_change",
            by,
            account.username,
            {
                "角色": f"{before[0]} → {LABELS[role]}",
                "区县": f"{before[1] or '—'} → {account.district_code or '—'}",
                "部门": f"{before[2] or '—'} → {account.department or '—'}",
            },
            session=s,
        )
        return account


def set_disabled(data_dir: DataDir, username: str, disabled: bool, by: Actor) -> Account:
    """停用 (its sessions end at once) or 启用 an account."""
    with store.session(data_dir) as s:
        account = _get(s, username)
        if disabled and by.name == account.username:
            raise UserInputError("不能停用自己正在使用的账号。")
        account.disabled = disabled
        account.updated_at = utcnow()
        if disabled:
            _revoke_all(s, account)
        audit.record(
            data_dir,
            "account_disable" if disabled else "account_enable",
            by,
            account.username,
            session=s,
        )
        return account


def reset_password(
    data_dir: DataDir, username: str, password: str, by: Actor, must_change: bool = True
) -> Account:
    """A new password set by a 管理员 (or at the server): unlocks the account, ends its sessions,
    and (by default) asks for a new password of the user's own at the next sign-in."""
    with store.session(data_dir) as s:
        account = _get(s, username)
        check_password(password, account.username)
        account.password_hash = _HASHER.hash(password)
        account.failed_logins, account.locked_until = 0, None
        account.must_change_password = must_change
        account.updated_at = utcnow()
        _revoke_all(s, account)
        audit.record(
            data_dir,
            "password_reset",
            by,
            account.username,
            {"下次登录须改密码": "是" if must_change else "否"},
            session=s,
        )
        return account


def change_password(
    data_dir: DataDir, principal: Principal, old: str, new: str, client: str | None = None
) -> None:
    """The user's own change: the old password first. Other sessions of the account end."""
    with store.session(data_dir) as s:
        account = s.get(Account, principal.account_id)
        if account is None or not _hash_ok(account.password_hash, old):
            raise UserInputError("原密码不正确。")
        check_password(new, account.username)
        if _hash_ok(account.password_hash, new):
            raise UserInputError("新密码不能与原密码相同。")
        account.password_hash = _HASHER.hash(new)
        account.must_change_password = False
        account.updated_at = utcnow()
        s.execute(
            sa.update(AuthSession)
            .where(
                AuthSession.account_id == account.id,
                AuthSession.id != principal.session_id,
                AuthSession.revoked_at.is_(None),
            )
            .values(revoked_at=utcnow())
        )
        audit.record(
            data_dir, "password_change", principal.actor(client), account.username, session=s
        )


def list_accounts(data_dir: DataDir, include_demo: bool = True) -> list[Account]:
    with store.session(data_dir) as s:
        q = sa.select(Account).where(Account.username.not_in(RESERVED)).order_by(Account.id)
        if not include_demo:
            q = q.where(Account.is_demo.is_(False))
        return list(s.scalars(q).all())


def find(data_dir: DataDir, username: str) -> Account | None:
    with store.session(data_dir) as s:
        return s.scalar(sa.select(Account).where(Account.username == username))


# ── kiosk links (the lobby screen) ───────────────────────────────────────────────────────────


def _kiosk_account(s: Session) -> Account:
    account = s.scalar(sa.select(Account).where(Account.username == KIOSK_ACCOUNT))
    if account is None:
        now = utcnow()
        account = Account(
            username=KIOSK_ACCOUNT,
            display_name="大屏链接",
            role=Role.SCREEN.value,
            disabled=False,
            is_demo=False,
            failed_logins=0,
            must_change_password=False,
            created_at=now,
            updated_at=now,
        )
        s.add(account)
        s.flush()
    return account


def create_kiosk_link(data_dir: DataDir, label: str, by: Actor) -> tuple[int, str]:
    """A long-lived link for a lobby screen: /led?kiosk=<token>. It opens the LED screen and
    nothing else, never times out, and works until revoked. Returns (id, token); the token is
    shown once (only its hash is kept)."""
    label = (label or "").strip()
    if not label:
        raise UserInputError("请给大屏链接起个名字（如“政务服务大厅一号屏”），撤销时靠它认出。")
    with store.session(data_dir) as s:
        token, sess = _new_session(s, _kiosk_account(s), "kiosk", label[:100], created_by=by.name)
        audit.record(data_dir, "kiosk_create", by, label, {"编号": sess.id}, session=s)
        return sess.id, token


def kiosk_links(data_dir: DataDir) -> list[AuthSession]:
    with store.session(data_dir) as s:
        return list(
            s.scalars(
                sa.select(AuthSession).where(AuthSession.kind == "kiosk").order_by(AuthSession.id)
            ).all()
        )


def revoke_kiosk_link(data_dir: DataDir, link_id: int, by: Actor) -> AuthSession:
    with store.session(data_dir) as s:
        sess = s.get(AuthSession, link_id)
        if sess is None or sess.kind != "kiosk":
            raise UserInputError(f"没有编号为 {link_id} 的大屏链接。")
        if sess.revoked_at is None:
            sess.revoked_at = utcnow()
            audit.record(data_dir, "kiosk_revoke", by, sess.label, {"编号": sess.id}, session=s)
        return sess


def kiosk_opened(data_dir: DataDir, principal: Principal, client: str | None = None) -> None:
    """A screen opened its kiosk link (once per page load): audited, last use noted."""
    with store.session(data_dir) as s:
        sess = s.get(AuthSession, principal.session_id)
        if sess is not None:
            sess.last_seen_at = utcnow()
        audit.record(
            data_dir,
            "kiosk_open",
            principal.actor(client),
            principal.label,
            {"编号": principal.session_id},
            session=s,
        )


# ── 演示账号 ──────────────────────────────────────────────────────────────────────────────────

DEMO_PREFIX = "demo-"


def ensure_demo_accounts(
    data_dir: DataDir, district: tuple[str, str], department: str
) -> list[Account]:
    """One 演示账号 per role (demo-admin …), created the first time the login page offers them.
    They have no password: they sign in only through the login page's demo buttons, which exist
    only while the live snapshot holds the demo."""
    wanted = {
        Role.ADMIN: ("演示管理员", None, None),
        Role.OFFICE: ("演示营商办", None, None),
        Role.DEPARTMENT: (f"演示部门（{department}）", None, department),
        Role.DISTRICT: (f"演示区县（{district[1]}）", district[0], None),
        Role.LEADER: ("演示领导", None, None),
        Role.SCREEN: ("演示大屏", None, None),
    }
    with store.session(data_dir) as s:
        have = {
            a.role: a for a in s.scalars(sa.select(Account).where(Account.is_demo.is_(True))).all()
        }
        missing = [r for r in wanted if r.value not in have]
    for role in missing:
        name, code, dept = wanted[role]
        try:
            create_account(
                data_dir,
                DEMO_PREFIX + role.value,
                role,
                audit.SYSTEM,
                display_name=name,
                district_code=code,
                department=dept,
                is_demo=True,
            )
        except UserInputError:
            pass  # another session created it meanwhile (or a real account took the name)
    with store.session(data_dir) as s:
        return list(
            s.scalars(sa.select(Account).where(Account.is_demo.is_(True)).order_by(Account.id))
        )


def remove_demo_accounts(data_dir: DataDir, by: Actor) -> int:
    """Delete the 演示账号 and their sessions (`bizenv reset --demo`); returns how many."""
    with store.session(data_dir) as s:
        ids = list(s.scalars(sa.select(Account.id).where(Account.is_demo.is_(True))).all())
        if not ids:
            return 0
        s.execute(sa.delete(AuthSession).where(AuthSession.account_id.in_(ids)))
        s.execute(sa.delete(Account).where(Account.id.in_(ids)))
        audit.record(data_dir, "account_disable", by, "演示账号", {"删除个数": len(ids)}, session=s)
        return len(ids)
