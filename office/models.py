"""Tables of the application database (SQLAlchemy 2 declarative models).

The migrations in office/migrations create them; tests check that the two agree. Times are UTC
without a zone (the same on SQLite and PostgreSQL); pages show them in Beijing time.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# BIGINT on PostgreSQL; INTEGER PRIMARY KEY (the rowid) on SQLite, which only autoincrements that
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    metadata = sa.MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_name)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class Account(Base):
    """账号: a person (or a lobby screen) who signs in. Never deleted — disabled — so the audit
    log's names always resolve."""

    __tablename__ = "accounts"
    # a unique index, not a UNIQUE column: SQLite can add the one to an existing table in place
    __table_args__ = (sa.Index("uq_accounts_email", "email", unique=True),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)  # 登录名
    display_name: Mapped[str] = mapped_column(sa.String(100), default="")  # 姓名
    role: Mapped[str] = mapped_column(sa.String(16))  # office.roles.Role key
    district_code: Mapped[str | None] = mapped_column(sa.String(12))  # 区县 accounts
    department: Mapped[str | None] = mapped_column(sa.String(100))  # 部门 accounts
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))  # argon2; None: OIDC only
    disabled: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    is_demo: Mapped[bool] = mapped_column(sa.Boolean, default=False)  # the 演示账号
    failed_logins: Mapped[int] = mapped_column(sa.Integer, default=0)  # since the last success
    locked_until: Mapped[dt.datetime | None] = mapped_column(sa.DateTime)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime)
    # revision 0002
    email: Mapped[str | None] = mapped_column(sa.String(255))  # OIDC identity (st.user.email)
    must_change_password: Mapped[bool] = mapped_column(
        sa.Boolean, default=False, server_default=sa.false()
    )


class AuthSession(Base):
    """A signed-in browser (kind 'browser') or a lobby screen's kiosk link (kind 'kiosk').

    Only the SHA-256 of the random token is stored: a copy of this table lets no one sign in."""

    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(16), default="browser")
    label: Mapped[str | None] = mapped_column(sa.String(100))  # a kiosk link's name (大厅一号屏)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime)
    created_by: Mapped[str | None] = mapped_column(sa.String(64))
    client: Mapped[str | None] = mapped_column(sa.String(64))  # address it was opened from


class AuditEvent(Base):
    """审计日志: append-only (the migrations add triggers that refuse UPDATE and DELETE)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow, index=True)
    actor: Mapped[str | None] = mapped_column(sa.String(64), index=True)  # who: account or OS user
    actor_role: Mapped[str | None] = mapped_column(sa.String(16))
    action: Mapped[str] = mapped_column(sa.String(32), index=True)  # office.audit.ACTIONS
    object: Mapped[str | None] = mapped_column(sa.String(255))  # what: a page, file, account …
    details: Mapped[str | None] = mapped_column(sa.Text)  # JSON
    outcome: Mapped[str] = mapped_column(sa.String(16), default="ok")  # ok | denied | failed
    via: Mapped[str] = mapped_column(sa.String(16), default="web")  # web | cli | kiosk | oidc
    os_user: Mapped[str | None] = mapped_column(sa.String(64))  # the CLI's operating-system user
    client: Mapped[str | None] = mapped_column(sa.String(64))  # the browser's address


class AppSetting(Base):
    """设置 a 管理员 changed on the accounts page (revision 0002); absent keys take their
    environment variable or default (office.accounts.AuthSettings)."""

    __tablename__ = "app_settings"

    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    value: Mapped[str] = mapped_column(sa.String(255))
    updated_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(sa.String(64))


# Tables of other office modules, on the same Base (imported here so that the metadata Alembic
# and the tests compare is always complete).
from office import filing_models  # noqa: E402, F401
