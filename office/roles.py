"""Roles (管理员, 营商办, 部门, 区县, 领导, 大屏) and the scope an account carries: which pages it may
open, what it may do, and which records it may read (enforced in the record queries through
kpi.read.scope.RecordScope, never only by hiding a menu entry).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from kpi.errors import BizenvError, UserInputError
from kpi.read import scope as record_scope


class Role(StrEnum):
    ADMIN = "admin"
    OFFICE = "office"
    DEPARTMENT = "department"
    DISTRICT = "district"
    LEADER = "leader"
    SCREEN = "screen"


LABELS: dict[Role, str] = {
    Role.ADMIN: "管理员",
    Role.OFFICE: "营商办",
    Role.DEPARTMENT: "部门",
    Role.DISTRICT: "区县",
    Role.LEADER: "领导",
    Role.SCREEN: "大屏",
}
DESCRIPTIONS: dict[Role, str] = {
    Role.ADMIN: "全部页面；管理账号和设置、查看审计日志",
    Role.OFFICE: "全部页面；导入和发布数据、导出、查看审计日志、开启和审核指标填报",
    Role.DEPARTMENT: "各看板；只看本部门负责指标的明细，导出本部门的明细；在线填报本部门负责的指标",
    Role.DISTRICT: "各看板；只看本区县的明细，导出本区县的明细",
    Role.LEADER: "全部看板和数据页，只读；导出表格",
    Role.SCREEN: "只有大厅 LED 屏（/led），没有明细、没有导出",
}

# Pages by their url path (pages/<name>.py); the entry registers all of them for every visitor
# and shows a page that is not in the visitor's set as "无权访问".
DASHBOARDS = frozenset({"overview", "domains", "district", "trends"})
# 督办 (office.tracking): every role but the screen sees them; office.tracking.items decides who
# may change what (营商办 everything; 部门 / 区县 their own items' progress and evidence).
TRACKING = frozenset(
    {
        "tracking_tasks",
        "tracking_problems",
        "tracking_projects",
        "tracking_benchmarks",
        "tracking_awards",
    }
)
PAGES: dict[Role, frozenset[str]] = {
    Role.ADMIN: DASHBOARDS
    | TRACKING
    | {"records", "data_status", "led", "audit", "accounts", "account", "filing_review"},
    Role.OFFICE: DASHBOARDS
    | TRACKING
    | {"records", "data_status", "led", "audit", "account", "filing_review"},
    Role.DEPARTMENT: DASHBOARDS | TRACKING | {"records", "account", "filing"},
    Role.DISTRICT: DASHBOARDS | TRACKING | {"records", "account"},
    Role.LEADER: DASHBOARDS | TRACKING | {"records", "data_status", "led", "account"},
    Role.SCREEN: frozenset({"led"}),
}

# What an account may do (besides looking at its pages).
LOAD = "load"  # 导入、发布、计算（a browser intake in a later issue asks for this）
EXPORT_TABLES = "export_tables"  # 下载得分表、季度评议材料、隔离行
VIEW_RECORDS = "view_records"  # 明细
EXPORT_RECORDS = "export_records"  # 下载明细
MANAGE_ACCOUNTS = "manage_accounts"
MANAGE_SETTINGS = "manage_settings"
VIEW_AUDIT = "view_audit"
REVIEW_FILINGS = "review_filings"  # 开启填报轮次、审核部门填报（office.filings）
FILE_REPORTS = "file_reports"  # 在线填报本部门负责的指标
ACTION_LABELS = {
    LOAD: "导入和发布数据",
    EXPORT_TABLES: "导出表格",
    VIEW_RECORDS: "查看明细",
    EXPORT_RECORDS: "导出明细",
    MANAGE_ACCOUNTS: "管理账号",
    MANAGE_SETTINGS: "修改设置",
    VIEW_AUDIT: "查看审计日志",
    REVIEW_FILINGS: "开启和审核指标填报",
    FILE_REPORTS: "在线填报指标",
}
PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.ADMIN: frozenset(ACTION_LABELS),
    Role.OFFICE: frozenset(
        {LOAD, EXPORT_TABLES, VIEW_RECORDS, EXPORT_RECORDS, VIEW_AUDIT, REVIEW_FILINGS}
    ),
    Role.DEPARTMENT: frozenset({VIEW_RECORDS, EXPORT_RECORDS, FILE_REPORTS}),
    Role.DISTRICT: frozenset({VIEW_RECORDS, EXPORT_RECORDS}),
    Role.LEADER: frozenset({EXPORT_TABLES, VIEW_RECORDS, EXPORT_RECORDS}),
    Role.SCREEN: frozenset(),
}


class Denied(BizenvError):
    """An account asked for something its role does not allow (the message says what and why)."""

    exit_code = 4


def parse(text: str | Role) -> Role:
    """A role from its key (district) or its Chinese name (区县)."""
    if isinstance(text, Role):
        return text
    value = str(text).strip()
    for role, label in LABELS.items():
        if value in (role.value, label):
            return role
    raise UserInputError(
        f"没有角色“{value}”。可选："
        + "、".join(f"{label}（{r.value}）" for r, label in LABELS.items())
    )


@dataclass(frozen=True)
class Scope:
    """What one account may see and do. 区县 carries its district code, 部门 its department."""

    role: Role
    district_code: str | None = None
    department: str | None = None
    district_name: str | None = None  # for messages; the code is what is enforced

    @property
    def label(self) -> str:
        bound = self.district_name or self.district_code or self.department
        return LABELS[self.role] + (f" · {bound}" if bound else "")

    def may(self, action: str) -> bool:
        return action in PERMISSIONS[self.role]

    def may_open(self, page: str) -> bool:
        return page in PAGES[self.role]

    def require(self, action: str) -> None:
        """Raise Denied unless the role allows `action`."""
        if not self.may(action):
            raise Denied(
                f"当前账号（{self.label}）不能{ACTION_LABELS.get(action, action)}。"
                "如需此权限，请联系管理员调整账号角色。"
            )

    def district_denied(self, code: str | None, name: str | None = None) -> str | None:
        """Why this account may not read the records of district `code` (None: it may).
        `code` None means "all districts"; `name` is the district's, for the message."""
        if self.role != Role.DISTRICT:
            return None
        if code == self.district_code:
            return None
        asked = (f"{name}（{code}）的" if name else f"区县 {code} 的") if code else "全部区县的"
        return (
            f"您的账号只能查看{self.district_name or self.district_code}的明细；"
            f"网址中请求的是{asked}记录，不在您的权限范围内，因此没有显示任何记录。"
        )

    def indicator_denied(self, spec, indicator_key: str | None) -> str | None:
        """Why this account may not read the records behind indicator `indicator_key`
        (None: it may). Only 部门 accounts are bound to indicators."""
        if self.role != Role.DEPARTMENT or indicator_key is None:
            return None
        from kpi.read import queries

        ind, dom = queries.find_indicator(spec, indicator_key)
        if ind is None:
            return None  # not a known indicator: the records scope below shows nothing foreign
        owner = record_scope.owner_of(ind, dom)
        if owner == self.department:
            return None
        return (
            f"指标“{ind.label_zh}”由{owner or '其他部门'}负责；您的账号（部门：{self.department}）"
            "只能查看本部门负责指标的明细，因此没有显示任何记录。"
        )

    def records(self, spec, source: str) -> record_scope.RecordScope:
        """The rows of `source` this account may read, for kpi.read.queries.records."""
        if not self.may(VIEW_RECORDS):
            return record_scope.NOTHING
        if self.role == Role.DISTRICT:
            if not self.district_code:
                return record_scope.NOTHING
            return record_scope.RecordScope(
                district_code=self.district_code, label=self.district_name or ""
            )
        if self.role == Role.DEPARTMENT:
            if not self.department or spec is None:
                return record_scope.NOTHING
            from kpi.read import queries

            return record_scope.RecordScope(
                any_of=queries.owner_filters(spec, self.department, source),
                label=self.department,
            )
        return record_scope.EVERYTHING
