"""Signing AppTest sessions in: a real account and a real session in the test's application
database, handed to the app the way a browser hands its cookie — there is no bypass in the app.

The account has no password (an OIDC-style account), and the session is opened through
office.accounts.sign_in_identity, the OpenID Connect mapping: so no test pays for an argon2 hash
it does not test, and the token is one the production login check must accept.
"""

from __future__ import annotations

from kpi.settings import DataDir
from office import accounts
from office.audit import Actor
from office.roles import Role, parse
from ui import auth


def account_for(
    role: str | Role = Role.OFFICE,
    district: str | None = None,
    department: str | None = None,
    data_dir: DataDir | None = None,
) -> str:
    """The username of a test account with this role and binding (created on first use)."""
    dd = DataDir.of(data_dir)
    role = parse(role)
    suffix = district or (str(abs(hash(department)) % 10_000) if department else "")
    username = f"test-{role.value}{('-' + suffix) if suffix else ''}"
    if accounts.find(dd, username) is None:
        accounts.create_account(
            dd,
            username,
            role,
            Actor("pytest", via="cli"),
            display_name=f"测试{username}",
            district_code=district,
            department=department,
            email=f"{username}@example.invalid",
        )
    return username


def token_for(
    role: str | Role = Role.OFFICE,
    district: str | None = None,
    department: str | None = None,
    data_dir: DataDir | None = None,
) -> str:
    """A fresh session token of the test account with this role."""
    dd = DataDir.of(data_dir)
    username = account_for(role, district, department, dd)
    result = accounts.sign_in_identity(dd, f"{username}@example.invalid", "pytest")
    assert result.token, result.message
    return result.token


def sign_in(at, role: str | Role = Role.OFFICE, **binding) -> None:
    """Start the AppTest session `at` signed in as a test account of `role`."""
    at.session_state[auth.TOKEN_KEY] = token_for(role, **binding)
