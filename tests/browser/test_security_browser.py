"""Security checks in real Chromium against a real server: every URL asks a visitor who is not
signed in to log in; a login survives a page refresh and sign-out ends it; a kiosk link opens /led
and nothing else; a district account cannot read another district's records by URL or by
download; a 部门 account cannot reach another department's records; XSRF protection is on;
passwords never reach the screen, the logs or the database. Screenshots of the login, each
role's view and the audit page land in tests/artifacts/."""

from __future__ import annotations

import csv
import io
import re
import urllib.error
import urllib.request

import pytest

from kpi import store as kstore
from kpi.settings import DataDir
from office import accounts
from office.audit import Actor
from tests.browser.conftest import using_app_db
from tests.fixtures.snapshot_fixture import build_fixture_snapshot

pytestmark = pytest.mark.browser

PASSWORD = "Bizenv-浏览器-2026"
VIEW = {"width": 1440, "height": 900}


@pytest.fixture(scope="module")
def fixture_data(tmp_path_factory):
    data = tmp_path_factory.mktemp("security") / "warehouse"
    build_fixture_snapshot(data)
    return data


@pytest.fixture(scope="module")
def app(start_app, fixture_data, app_db_url):
    with using_app_db(app_db_url):  # the accounts of these tests, in the session's app database
        dd = DataDir.of(fixture_data)
        for username, role, binding in (
            ("sec-admin", "管理员", {}),
            ("sec-office", "营商办", {}),
            ("sec-kecheng", "区县", {"district_code": "330802"}),
            ("sec-scj", "部门", {"department": "市市场监管局"}),
            ("sec-leader", "领导", {}),
            ("sec-screen", "大屏", {}),
        ):
            if accounts.find(dd, username) is None:
                accounts.create_account(
                    dd, username, role, Actor.cli(), password=PASSWORD, **binding
                )
    return start_app(fixture_data)


@pytest.fixture
def anon(browser):
    ctx = browser.anonymous_context(viewport=VIEW, locale="zh-CN", accept_downloads=True)
    yield ctx
    ctx.close()


def settle(page, text: str) -> None:
    page.get_by_text(text, exact=False).first.wait_for(timeout=60_000)
    page.wait_for_function(
        "!document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000
    )
    page.wait_for_timeout(800)


def shoot(page, artifacts, name: str) -> None:
    height = page.evaluate("""() => { const b = document.querySelector('[data-testid="stMainBlockContainer"]');
                                      return b ? b.scrollHeight + 120 : 900 }""")
    page.set_viewport_size({"width": 1440, "height": min(max(int(height), 900), 4000)})
    page.wait_for_timeout(500)
    page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)
    page.set_viewport_size(VIEW)


def sign_in(page, url: str, username: str) -> None:
    page.goto(url)
    settle(page, "登录")
    page.get_by_label("账号", exact=True).fill(username)
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_role("button", name=re.compile("登录")).click()
    settle(page, "当前账号" if username != "sec-screen" else "数据截至")


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/records?period=2026Q3&source=approvals&district=330802",
        "/data_status",
        "/audit",
        "/accounts",
        "/led",
    ],
)
def test_every_url_asks_for_the_login_and_shows_no_data(app, anon, path, artifacts):
    page = anon.new_page()
    page.goto(app.url + path)
    settle(page, "请登录后使用")
    assert page.get_by_label("密码", exact=True).get_attribute("type") == "password"
    assert page.locator('[data-testid="stDataFrame"]').count() == 0
    assert page.locator('[data-testid="stMetric"]').count() == 0
    assert page.locator(".led-frame").count() == 0
    if path == "/":
        shoot(page, artifacts, "security_login")


def test_a_login_survives_a_refresh_and_sign_out_ends_it(app, anon, artifacts):
    page = anon.new_page()
    sign_in(page, f"{app.url}/district?period=2026Q3&district=330803", "sec-office")
    assert "/district" in page.url and "district=330803" in page.url  # the bookmark's page
    cookie = next(c for c in anon.cookies() if c["name"] == "bizenv_session")
    assert cookie["sameSite"] == "Strict" and cookie["path"] == "/"
    assert cookie["value"] != PASSWORD and len(cookie["value"]) >= 40
    page.reload()
    settle(page, "当前账号")
    assert page.get_by_text("区县画像", exact=True).first.is_visible()
    shoot(page, artifacts, "security_office_district")
    page.get_by_role("button", name=re.compile("退出登录")).click()
    settle(page, "您已退出登录")
    page.reload()
    settle(page, "请登录后使用")
    assert not any(
        c["name"] == "bizenv_session" and c["value"] == cookie["value"] for c in anon.cookies()
    )
    # the old cookie is worthless even if a copy of it is kept
    other = anon.browser.new_context(viewport=VIEW)
    other.add_cookies([{**{k: cookie[k] for k in ("name", "value")}, "url": "http://127.0.0.1"}])
    page2 = other.new_page()
    page2.goto(app.url)
    settle(page2, "请登录后使用")
    other.close()


def test_a_kiosk_link_opens_the_led_screen_and_nothing_else(
    app, anon, fixture_data, app_db_url, artifacts
):
    with using_app_db(app_db_url):
        link_id, token = accounts.create_kiosk_link(
            DataDir.of(fixture_data), "安全测试屏", Actor.cli()
        )
    page = anon.new_page()
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(f"{app.url}/led?kiosk={token}")
    page.wait_for_selector(".led-kpi", timeout=60_000)
    assert page.locator('[data-testid="stSidebar"]').count() == 0
    page.screenshot(path=str(artifacts / "security_kiosk_led.png"))
    for path in ("/", "/records", "/data_status", "/audit"):
        page.goto(f"{app.url}{path}?kiosk={token}&period=2026Q3&source=approvals")
        page.wait_for_selector(".led-kpi", timeout=60_000)
        assert page.url.split("?")[0].endswith("/led"), page.url
        assert page.locator('[data-testid="stDataFrame"]').count() == 0
    with using_app_db(app_db_url):
        accounts.revoke_kiosk_link(DataDir.of(fixture_data), link_id, Actor.cli())
    page.goto(f"{app.url}/led?kiosk={token}")
    settle(page, "大屏链接已失效")
    assert page.locator(".led-kpi").count() == 0


def _own_case_ids(data_dir, district: str) -> set[str]:
    con = kstore.connect_snapshot(data_dir=DataDir.of(data_dir))
    try:
        rows = con.execute(
            "SELECT case_id FROM approvals WHERE district_code = ? AND period = '2026Q3'",
            [district],
        ).fetchall()
    finally:
        con.close()
    return {r[0] for r in rows}


def test_a_district_account_reads_its_own_district_only(app, anon, fixture_data, artifacts):
    page = anon.new_page()
    sign_in(page, f"{app.url}/records?period=2026Q3&source=approvals", "sec-kecheng")
    settle(page, "记录数")
    shoot(page, artifacts, "security_district_records")
    with page.expect_download() as got:
        page.get_by_role("button", name=re.compile("下载 CSV")).click()
    text = got.value.path().read_bytes().decode("utf-8-sig")
    ids = {row["办件编号"] for row in csv.DictReader(io.StringIO(text))}
    assert ids == _own_case_ids(fixture_data, "330802") and ids
    # another district by URL (a bookmark, a forwarded drill-down link): nothing, and why
    page.goto(f"{app.url}/records?period=2026Q3&source=approvals&district=330803")
    settle(page, "不在您的权限范围内")
    assert page.locator('[data-testid="stDataFrame"]').count() == 0
    shoot(page, artifacts, "security_district_denied")
    # and no page beyond its role
    page.goto(f"{app.url}/data_status")
    settle(page, "没有打开")
    assert page.locator('[data-testid="stDataFrame"]').count() == 0


def test_a_department_cannot_reach_another_departments_records(app, anon, artifacts):
    page = anon.new_page()
    sign_in(
        page,
        f"{app.url}/records?period=2026Q3&source=approvals&indicator=approval_online_rate",
        "sec-scj",
    )
    settle(page, "由市政务服务管理办公室负责")
    assert page.locator('[data-testid="stDataFrame"]').count() == 0
    page.goto(f"{app.url}/records?period=2026Q3&source=approvals")
    settle(page, "只能看到本部门负责的指标背后的记录")
    shoot(page, artifacts, "security_department_records")


def test_leader_and_admin_and_screen_views(app, anon, artifacts):
    page = anon.new_page()
    sign_in(page, f"{app.url}/data_status", "sec-leader")
    settle(page, "导入记录")
    shoot(page, artifacts, "security_leader_data")
    page.goto(f"{app.url}/accounts")
    settle(page, "没有打开")
    page.get_by_role("button", name=re.compile("退出登录")).click()
    settle(page, "您已退出登录")
    sign_in(page, f"{app.url}/accounts", "sec-admin")
    settle(page, "大屏链接")
    shoot(page, artifacts, "security_admin_accounts")
    page.goto(f"{app.url}/audit")
    settle(page, "记录只能追加")
    shoot(page, artifacts, "security_audit")
    text = page.locator('[data-testid="stDataFrame"]').first.text_content() or ""
    assert "sec-leader" in text and "登录" in text
    page.get_by_role("button", name=re.compile("退出登录")).click()
    settle(page, "您已退出登录")
    sign_in(page, f"{app.url}/records", "sec-screen")  # a 大屏 account: the LED screen only
    page.wait_for_selector(".led-kpi", timeout=60_000)
    assert page.url.split("?")[0].endswith("/led")


def test_xsrf_protection_refuses_a_forged_upload(app):
    request = urllib.request.Request(
        f"{app.url}/_stcore/upload_file/some-session/some-file", data=b"x", method="PUT"
    )
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(request, timeout=10)
    assert err.value.code == 403


def test_passwords_never_reach_the_logs_or_the_database(app, anon, fixture_data, app_db_url):
    page = anon.new_page()
    page.goto(app.url)
    settle(page, "请登录后使用")
    page.get_by_label("账号", exact=True).fill("sec-office")
    page.get_by_label("密码", exact=True).fill("Wrong-但很像-2026")
    page.get_by_role("button", name=re.compile("登录")).click()
    settle(page, "账号或密码不正确")
    page.get_by_label("账号", exact=True).fill(PASSWORD)  # a password typed into the name field
    page.get_by_label("密码", exact=True).fill("x")
    page.get_by_role("button", name=re.compile("登录")).click()
    settle(page, "账号或密码不正确")
    assert PASSWORD not in page.inner_text("body")
    db = app_db_url.removeprefix("sqlite:///")
    texts = [open(db, "rb").read()]
    for extra in (db + "-wal",):
        try:
            texts.append(open(extra, "rb").read())
        except OSError:
            pass
    logs = fixture_data / "logs"
    if logs.exists():
        texts += [p.read_bytes() for p in logs.rglob("*") if p.is_file()]
    for secret in (PASSWORD, "Wrong-但很像-2026"):
        assert not any(secret.encode() in t for t in texts), secret
