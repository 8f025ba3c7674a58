"""Roles and row-level scope (office.roles, kpi.read.scope): the issue's table of who may see and
do what, and the record queries filtered in SQL — checked against independent queries on the
fixture snapshot."""

from __future__ import annotations

import pytest

from kpi import settings, store
from kpi.read import queries
from kpi.read import scope as rs
from kpi.spec.load import load_spec
from office import roles
from office.roles import Role, Scope

ALL_PAGES = {
    "overview",
    "domains",
    "district",
    "trends",
    "records",
    "data_status",
    "led",
    "audit",
    "accounts",
    "account",
    "filing",  # issue 16: 部门 fill in their figures
    "filing_review",  # issue 16: 营商办 opens rounds and reviews
}
BOARDS = {"overview", "domains", "district", "trends"}

# Written from the table, not from office.roles.
EXPECTED_PAGES = {
    Role.ADMIN: ALL_PAGES - {"filing"},  # an account bound to no department files nothing
    Role.OFFICE: ALL_PAGES - {"accounts", "filing"},
    Role.DEPARTMENT: BOARDS | {"records", "account", "filing"},
    Role.DISTRICT: BOARDS | {"records", "account"},
    Role.LEADER: BOARDS | {"records", "data_status", "led", "account"},
    Role.SCREEN: {"led"},
}
EXPECTED_ACTIONS = {
    Role.ADMIN: {
        "load",
        "export_tables",
        "view_records",
        "export_records",
        "manage_accounts",
        "manage_settings",
        "view_audit",
        "review_filings",
        "file_reports",
    },  # fmt: skip
    Role.OFFICE: {
        "load",
        "export_tables",
        "view_records",
        "export_records",
        "view_audit",
        "review_filings",
    },  # fmt: skip
    Role.DEPARTMENT: {"view_records", "export_records", "file_reports"},
    Role.DISTRICT: {"view_records", "export_records"},
    Role.LEADER: {"export_tables", "view_records", "export_records"},
    Role.SCREEN: set(),
}


@pytest.mark.parametrize("role", list(Role))
def test_each_role_opens_its_pages_only(role):
    scope = Scope(role, "330802", "市市场监管局")
    assert {p for p in ALL_PAGES if scope.may_open(p)} == EXPECTED_PAGES[role]


@pytest.mark.parametrize("role", list(Role))
def test_each_role_may_do_what_the_table_says(role):
    scope = Scope(role, "330802", "市市场监管局")
    assert {a for a in roles.ACTION_LABELS if scope.may(a)} == EXPECTED_ACTIONS[role]


@pytest.mark.parametrize("role", [Role.LEADER, Role.DISTRICT, Role.DEPARTMENT, Role.SCREEN])
def test_only_office_and_admin_may_load(role):
    with pytest.raises(roles.Denied, match="不能导入和发布数据"):
        Scope(role, "330802", "市市场监管局").require(roles.LOAD)


@pytest.mark.parametrize(
    ("text", "role"),
    [
        ("管理员", Role.ADMIN),
        ("office", Role.OFFICE),
        ("区县", Role.DISTRICT),
        ("大屏", Role.SCREEN),
    ],
)
def test_roles_are_named_in_chinese_or_by_key(text, role):
    assert roles.parse(text) == role


@pytest.fixture(scope="module")
def con(fixture_snapshot_dir):
    c = store.connect_snapshot(data_dir=settings.DataDir.of(fixture_snapshot_dir))
    yield c
    c.close()


@pytest.fixture(scope="module")
def spec():
    return load_spec(settings.metrics_path())


def _count(con, sql: str) -> int:
    return con.execute(sql).fetchone()[0]


@pytest.mark.parametrize("source", ["approvals", "hotline", "ratings"])
def test_a_district_reads_only_its_own_rows(con, spec, source):
    scope = Scope(Role.DISTRICT, "330802").records(spec, source)
    own = _count(con, f"SELECT count(*) FROM {source} WHERE district_code = '330802'")
    assert own > 0
    assert queries.records_count(con, source, scope=scope) == own
    frame = queries.records(con, source, limit=1000, scope=scope)
    id_col = queries.RECORD_COLUMNS[source][queries.RECORD_ORDER[source][1]]
    expected_ids = {
        r[0]
        for r in con.execute(
            f"SELECT {queries.RECORD_ORDER[source][1]} FROM {source} WHERE district_code = '330802'"
        ).fetchall()
    }
    assert set(frame[id_col]) == expected_ids
    # asking for another district by name gives nothing, not that district's rows
    assert queries.records_count(con, source, district="330803", scope=scope) == 0


def test_a_department_reads_the_rows_behind_its_own_indicators(con, spec):
    # 市市场监管局 owns 开办企业 (D01) and 市场监管 (D16): its approvals indicators are those two
    # domains' 已办结 cases (metrics.yaml, read by hand)
    scope = Scope(Role.DEPARTMENT, department="市市场监管局").records(spec, "approvals")
    expected = _count(
        con,
        "SELECT count(*) FROM approvals WHERE status = '已办结' "
        "AND domain_key IN ('starting_business', 'market_regulation')",
    )
    assert expected > 0
    assert queries.records_count(con, "approvals", scope=scope) == expected
    shown = queries.records(con, "approvals", limit=1000, scope=scope)
    assert set(shown[queries.RECORD_COLUMNS["approvals"]["case_id"]]) == {
        r[0]
        for r in con.execute(
            "SELECT case_id FROM approvals WHERE status = '已办结' "
            "AND domain_key IN ('starting_business', 'market_regulation')"
        ).fetchall()
    }
    # 好差评 behind 开办企业 ratings: the fixture has none of that domain
    ratings = Scope(Role.DEPARTMENT, department="市市场监管局").records(spec, "ratings")
    assert queries.records_count(con, "ratings", scope=ratings) == _count(
        con, "SELECT count(*) FROM ratings WHERE domain_key = 'starting_business'"
    )


def test_a_department_without_indicators_of_a_source_reads_nothing(con, spec):
    # 衢州海关 files 跨境贸易 (reports only): no 办件 of its own
    scope = Scope(Role.DEPARTMENT, department="衢州海关").records(spec, "approvals")
    assert scope.any_of == ()
    assert queries.records_count(con, "approvals", scope=scope) == 0


@pytest.mark.parametrize(
    ("role", "everything"), [(Role.OFFICE, True), (Role.LEADER, True), (Role.SCREEN, False)]
)
def test_office_and_leaders_read_everything_the_screen_nothing(con, spec, role, everything):
    total = _count(con, "SELECT count(*) FROM approvals")
    scope = Scope(role).records(spec, "approvals")
    assert queries.records_count(con, "approvals", scope=scope) == (total if everything else 0)


def test_the_indicator_owner_defaults_to_the_domain_and_can_be_its_own(spec):
    owners = {ind.key: rs.owner_of(ind, dom) for dom in spec.domains for ind in dom.indicators}
    assert owners["sb_avg_workdays"] == "市市场监管局"  # the domain's 牵头部门
    assert owners["pr_land_admin_index"] == "市自然资源和规划局"  # its own owner line
    assert owners["mr_credit_repair_days"] == "市发展改革委"
    assert "市科技局" in rs.departments(spec)


def test_a_department_is_told_why_another_departments_indicator_shows_nothing(spec):
    scope = Scope(Role.DEPARTMENT, department="市市场监管局")
    assert scope.indicator_denied(spec, "sb_on_time_rate") is None
    why = scope.indicator_denied(spec, "pr_avg_workdays")
    assert why == (
        "指标“不动产登记平均办理用时”由市不动产登记中心负责；您的账号（部门：市市场监管局）"
        "只能查看本部门负责指标的明细，因此没有显示任何记录。"
    )
    assert Scope(Role.OFFICE).indicator_denied(spec, "pr_avg_workdays") is None


def test_a_district_is_told_why_another_district_shows_nothing():
    scope = Scope(Role.DISTRICT, "330802", district_name="柯城区")
    assert scope.district_denied("330802") is None
    assert scope.district_denied("330803") == (
        "您的账号只能查看柯城区的明细；网址中请求的是区县 330803 的记录，不在您的权限范围内，因此没有显示任何记录。"
    )
    assert "请求的是衢江区（330803）的记录" in scope.district_denied("330803", "衢江区")
    assert "全部区县" in scope.district_denied(None)
    assert Scope(Role.LEADER).district_denied("330803") is None
