"""`bizenv user`: accounts of the dashboard, for administrators at the server."""

from __future__ import annotations

import argparse
import getpass
import sys

from kpi.errors import UserInputError

HELP = "管理看板账号：新建、列出、修改角色、停用/启用、重置密码（在服务器上由管理员运行）。"
EXAMPLE = (
    "  bizenv user add zhangsan --role 管理员 --name 张三\n"
    "  bizenv user add kecheng --role 区县 --district 330802 --name 柯城区营商办\n"
    "  bizenv user add scj --role 部门 --department 市市场监管局\n"
    "  bizenv user add lisi --role 领导 --email lisi@gov.example.cn --no-password\n"
    "  bizenv user list\n"
    "  bizenv user set-role kecheng --role 区县 --district 330803\n"
    "  bizenv user disable zhangsan\n"
    "  bizenv user reset-password zhangsan\n"
    "  echo '新的临时密码' | bizenv user reset-password zhangsan --password-stdin\n"
    "角色：管理员 营商办 部门 区县 领导 大屏（也可写 admin office department district leader screen）。\n"
    "密码在提示符下输入两次（不回显），或用 --password-stdin 从标准输入读一行；密码从不写在命令行上。"
)

ROLE_HELP = "角色：管理员、营商办、部门、区县、领导、大屏"


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--data-dir", metavar="目录", help="数据目录（默认：data/warehouse 或 BIZENV_DATA_DIR）"
    )


def _binding(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--district", metavar="区县", help="区县账号的所属区县：6 位代码（330802）或名称"
    )
    p.add_argument(
        "--department", metavar="部门", help="部门账号的所属部门（与 metrics.yaml 中的 owner 相同）"
    )


def _password(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--password-stdin", action="store_true", help="从标准输入读一行作为密码（脚本中使用）"
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="操作", required=True)
    p = sub.add_parser("add", help="新建账号", description="新建账号")
    p.add_argument("username", metavar="账号", help="登录名（不含空格）")
    p.add_argument("--role", required=True, metavar="角色", help=ROLE_HELP)
    p.add_argument("--name", metavar="姓名", default="", help="姓名或单位名称（显示在页面上）")
    p.add_argument("--email", metavar="邮箱", help="统一身份认证（OIDC）使用的邮箱")
    p.add_argument(
        "--no-password",
        action="store_true",
        help="不设密码：只能通过统一身份认证登录（须同时给出 --email）",
    )
    _binding(p)
    _password(p)
    _common(p)
    p = sub.add_parser("list", help="列出全部账号", description="列出全部账号")
    _common(p)
    p = sub.add_parser("set-role", help="修改账号的角色", description="修改账号的角色")
    p.add_argument("username", metavar="账号")
    p.add_argument("--role", required=True, metavar="角色", help=ROLE_HELP)
    _binding(p)
    _common(p)
    for name, text in (("disable", "停用账号（立即结束其登录）"), ("enable", "启用账号")):
        p = sub.add_parser(name, help=text, description=text)
        p.add_argument("username", metavar="账号")
        _common(p)
    p = sub.add_parser(
        "reset-password",
        help="重置密码并解锁（本人下次登录须改密码）",
        description="重置密码并解锁（本人下次登录须改密码）",
    )
    p.add_argument("username", metavar="账号")
    _password(p)
    _common(p)


def read_password(from_stdin: bool) -> str:
    """The new password: one line of stdin, or typed twice at a prompt that does not echo."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise UserInputError("请在终端中运行以输入密码，或用 --password-stdin 从标准输入提供密码。")
    first = getpass.getpass("密码：")
    if first != getpass.getpass("再次输入密码："):
        raise UserInputError("两次输入的密码不一致，未做任何改动。")
    return first


def _district(value: str | None) -> str | None:
    """A district code from a code or a catalogue name (柯城区 → 330802)."""
    if not value:
        return value
    from kpi import catalog

    for d in catalog.districts():
        if value.strip() in (d["district_code"], d["district_name"], d.get("short_name")):
            return d["district_code"]
    if value.isdigit() and len(value) == 6:
        return value  # another city's code, not in this catalogue
    raise UserInputError(f"目录中没有区县“{value}”。请写 6 位行政区划代码（如 330802）或区县名称。")


def run(args: argparse.Namespace) -> int:
    from office import accounts
    from office.audit import Actor
    from office.roles import LABELS, Role, parse

    dd, by = args.data_dir, Actor.cli()
    if args.action == "add":
        role = parse(args.role)
        if args.no_password and not args.email:
            raise UserInputError(
                "--no-password 的账号只能通过统一身份认证登录，请同时给出 --email。"
            )
        password = None if args.no_password else read_password(args.password_stdin)
        account = accounts.create_account(
            dd,
            args.username,
            role,
            by,
            display_name=args.name,
            password=password,
            district_code=_district(args.district),
            department=args.department,
            email=args.email,
        )
        print(f"已新建账号 {account.username}（{LABELS[role]}）。")
        return 0
    if args.action == "list":
        rows = accounts.list_accounts(dd)
        if not rows:
            print("还没有账号。新建第一个管理员：bizenv user add 账号 --role 管理员")
            return 0
        print("账号\t姓名\t角色\t区县\t部门\t邮箱\t状态")
        for a in rows:
            state = "停用" if a.disabled else ("演示" if a.is_demo else "正常")
            print(
                "\t".join(
                    [
                        a.username,
                        a.display_name,
                        LABELS[Role(a.role)],
                        a.district_code or "",
                        a.department or "",
                        a.email or "",
                        state,
                    ]
                )
            )
        return 0
    if args.action == "set-role":
        role = parse(args.role)
        account = accounts.set_role(
            dd, args.username, role, by, _district(args.district), args.department
        )
        print(
            f"账号 {account.username} 的角色已改为 {LABELS[role]}；它的登录已结束，需要重新登录。"
        )
        return 0
    if args.action in ("disable", "enable"):
        account = accounts.set_disabled(dd, args.username, args.action == "disable", by)
        print(f"账号 {account.username} 已{'停用' if account.disabled else '启用'}。")
        return 0
    if args.action == "reset-password":
        if accounts.find(dd, args.username) is None:
            raise UserInputError(f"没有账号“{args.username}”。运行 bizenv user list 查看全部账号。")
        accounts.reset_password(dd, args.username, read_password(args.password_stdin), by)
        print(f"账号 {args.username} 的密码已重置并解锁；本人下次登录时须改成自己的密码。")
        return 0
    raise UserInputError(f"没有操作 {args.action}。")
