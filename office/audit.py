"""审计日志: who did what, when, to which object — append-only, in the application database.

Every sign-in (and failed one) and sign-out, every load / build / publish (the CLI records its
commands with the operating-system user), every table export, every view and export of record-
level data (明细), every account and settings change. A personal-information request ("who looked
at records of …?") is answered from here. Passwords never enter it: a failed sign-in names the
account only when one by that name exists (people type their password into the name field).
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from kpi.settings import DataDir
from office import store
from office.models import AuditEvent, utcnow

ACTIONS: dict[str, str] = {
    "login": "登录",
    "login_failed": "登录失败",
    "lockout": "账号锁定",
    "logout": "退出登录",
    "session_expired": "会话超时",
    "kiosk_open": "打开大屏链接",
    "page_denied": "访问无权页面",
    "load": "导入数据",
    "build": "计算评分",
    "publish": "发布快照",
    "reset_demo": "删除演示数据",
    "undo_load": "撤销导入",
    "upload": "上传文件",
    "command": "命令行操作",
    "table_export": "导出表格",
    "records_view": "查看明细",
    "records_export": "导出明细",
    "records_denied": "越权查看明细",
    "account_create": "新建账号",
    "account_change": "修改账号",
    "account_disable": "停用账号",
    "account_enable": "启用账号",
    "password_reset": "重置密码",
    "password_change": "修改密码",
    "kiosk_create": "新建大屏链接",
    "kiosk_revoke": "撤销大屏链接",
    "settings_change": "修改设置",
    "audit_export": "导出审计日志",
    "db_upgrade": "升级应用数据库",
    # 在线指标填报 (office.filings, etl.filing_publish)
    "filing_open": "开启填报轮次",
    "filing_change": "修改填报轮次",
    "filing_close": "结束填报轮次",
    "filing_save": "保存填报",
    "filing_submit": "提交填报",
    "filing_approve": "审核通过填报",
    "filing_return": "退回填报",
    "filing_attach": "上传佐证材料",
    "filing_attach_view": "下载佐证材料",
    "filing_attach_remove": "删除佐证材料",
    "filing_publish": "填报数据入库",
    "filing_export": "导出填报情况",
    "filing_denied": "越权填报",
    # 督办 items (office.tracking)
    "tracking_create": "新建督办事项",
    "tracking_change": "修改督办事项",
    "tracking_import": "导入台账",
    "tasks_proposed": "生成督办任务",
}
OUTCOMES = {"ok": "成功", "denied": "拒绝", "failed": "失败"}
VIA = {"web": "网页", "cli": "命令行", "kiosk": "大屏链接", "oidc": "统一身份认证"}
BEIJING = dt.timezone(dt.timedelta(hours=8))


@dataclass(frozen=True)
class Actor:
    """Who acts: an account (web, kiosk, OIDC) or an operating-system user at the server (CLI)."""

    name: str | None
    role: str | None = None
    via: str = "web"
    client: str | None = None
    os_user: str | None = None

    @classmethod
    def cli(cls) -> Actor:
        """The person at the server's command line: the operating-system user."""
        try:
            user = getpass.getuser()
        except (KeyError, OSError):  # no passwd entry (a container's numeric uid)
            user = "unknown"
        return cls(name=user, via="cli", os_user=user)


SYSTEM = Actor(name=None, via="web")


def record(
    data_dir: DataDir,
    action: str,
    actor: Actor,
    object: str | None = None,
    details: dict | None = None,
    outcome: str = "ok",
    session: Session | None = None,
) -> None:
    """Append one event. Inside `session` it commits with the change it describes (both or
    neither); otherwise in a transaction of its own."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    event = AuditEvent(
        at=utcnow(),
        actor=actor.name,
        actor_role=actor.role,
        action=action,
        object=(object or None) and str(object)[:255],
        details=json.dumps(details, ensure_ascii=False, default=str) if details else None,
        outcome=outcome,
        via=actor.via,
        os_user=actor.os_user,
        client=actor.client,
    )
    if session is not None:
        session.add(event)
        return
    with store.session(data_dir) as s:
        s.add(event)


def _filters(
    actor: str | None,
    actions: list[str] | None,
    start: dt.date | None,
    end: dt.date | None,
) -> list:
    where = []
    if actor:
        where.append(AuditEvent.actor == actor)
    if actions:
        where.append(AuditEvent.action.in_(list(actions)))
    if start:  # dates are Beijing days; the log is UTC
        where.append(AuditEvent.at >= _utc_start(start))
    if end:
        where.append(AuditEvent.at < _utc_start(end + dt.timedelta(days=1)))
    return where


def _utc_start(day: dt.date) -> dt.datetime:
    local = dt.datetime.combine(day, dt.time(0), BEIJING)
    return local.astimezone(dt.UTC).replace(tzinfo=None)


def count(
    data_dir: DataDir,
    actor: str | None = None,
    actions: list[str] | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> int:
    with store.session(data_dir) as s:
        q = sa.select(sa.func.count()).select_from(AuditEvent)
        return int(s.scalar(q.where(*_filters(actor, actions, start, end))) or 0)


COLUMNS = {
    "at": "时间",
    "actor": "人员",
    "actor_role": "角色",
    "action": "操作",
    "object": "对象",
    "outcome": "结果",
    "via": "途径",
    "client": "来源地址",
    "os_user": "系统用户",
    "details": "详情",
}


def search(
    data_dir: DataDir,
    actor: str | None = None,
    actions: list[str] | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    limit: int | None = 500,
    offset: int = 0,
):
    """Events newest first (a DataFrame), with Chinese column names and labels, times in Beijing
    time."""
    import pandas as pd

    from office.roles import LABELS, Role

    with store.session(data_dir) as s:
        q = (
            sa.select(AuditEvent)
            .where(*_filters(actor, actions, start, end))
            .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
            .offset(offset)
        )
        if limit is not None:
            q = q.limit(limit)
        rows = s.scalars(q).all()
    roles = {r.value: LABELS[r] for r in Role}
    frame = pd.DataFrame(
        {
            "at": [
                r.at.replace(tzinfo=dt.UTC).astimezone(BEIJING).replace(tzinfo=None) for r in rows
            ],
            "actor": [r.actor or "" for r in rows],
            "actor_role": [roles.get(r.actor_role or "", r.actor_role or "") for r in rows],
            "action": [ACTIONS.get(r.action, r.action) for r in rows],
            "object": [r.object or "" for r in rows],
            "outcome": [OUTCOMES.get(r.outcome, r.outcome) for r in rows],
            "via": [VIA.get(r.via, r.via) for r in rows],
            "client": [r.client or "" for r in rows],
            "os_user": [r.os_user or "" for r in rows],
            "details": [_details_text(r.details) for r in rows],
        },
        columns=list(COLUMNS),
    )
    return frame.rename(columns=COLUMNS)


def _details_text(raw: str | None) -> str:
    """The JSON details as '键：值；…' for a reader (the export keeps the same text)."""
    if not raw:
        return ""
    try:
        value = json.loads(raw)
    except ValueError:
        return raw
    if not isinstance(value, dict):
        return str(value)
    return "；".join(f"{k}：{v}" for k, v in value.items() if v not in (None, "", [], {}))


def actors(data_dir: DataDir) -> list[str]:
    """Everyone who appears in the log, alphabetically."""
    with store.session(data_dir) as s:
        q = sa.select(AuditEvent.actor).where(AuditEvent.actor.is_not(None)).distinct()
        return sorted(a for a in s.scalars(q).all() if a)
