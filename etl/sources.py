"""Scheduled collection's configuration and the database pull (无感采集).

`sources.yaml` in the data dir:

    watch:                       # watched folders: a new file there is loaded by a job
      - folder: inbox/watch      # relative to the data dir, or absolute
        every_seconds: 60
    databases:                   # database sources: each run pulls only what changed
      - name: 12345平台
        url: postgresql://bizenv:${BIZENV_SRC_12345_PASSWORD}@10.0.0.5/hotline
        table: v_gongdan         # or  query: SELECT … FROM …
        source: hotline          # which export it is (a built-in profile), or  profile: 画像名
        incremental: 更新时间     # the column whose high-water mark is kept
        key: 工单编号             # the record's number (ties at the mark); default: the profile's
        every_minutes: 15
    rebuild: "02:30"             # the nightly full rebuild (Beijing time); "" for none

Secrets never stand in the file: `${NAME}` is replaced by the environment variable NAME when
the pull runs (a missing one is refused, naming it). The high-water mark lives in the
application database (office.jobs.SourceMark) with the keys of the rows AT the mark: a run
asks for `incremental >= mark` and drops the rows it already has at exactly the mark, so a row
committed later with the same time is not lost and an unchanged one is not loaded again; an
update moves its update time forward and comes through. The mark advances only after the load
of the pulled rows succeeded.

Pulled rows are written to a CSV in inbox/pulls/<name>/ with the database's column names and
go through the same load path as any export (etl.load.load_files, in a job).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from kpi.errors import UserInputError
from kpi.settings import DataDir

CONFIG = "sources.yaml"
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass
class Watch:
    folder: Path
    every_seconds: int = 60
    source: str | None = None
    profile: str | None = None


@dataclass
class Database:
    name: str
    url: str  # with ${VARS}, as written
    incremental: str
    table: str | None = None
    query: str | None = None
    source: str | None = None
    profile: str | None = None
    key: str | None = None
    every_minutes: float = 15


@dataclass
class Config:
    watch: list[Watch] = field(default_factory=list)
    databases: list[Database] = field(default_factory=list)
    rebuild: str = "02:30"


def config_path(data_dir: DataDir) -> Path:
    return data_dir.root / CONFIG


def load_config(data_dir: DataDir) -> Config:
    """sources.yaml (absent: the default inbox/watch folder and the nightly rebuild only)."""
    path = config_path(data_dir)
    if not path.exists():
        return Config(watch=[Watch(data_dir.root / "inbox" / "watch")])
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as err:
        raise UserInputError(f"{path.name} 无法读取：{err}") from None
    if not isinstance(doc, dict):
        raise UserInputError(f"{path.name} 应是 watch / databases / rebuild 三项的映射。")
    cfg = Config(rebuild=str(doc.get("rebuild", "02:30") or ""))
    for i, w in enumerate(doc.get("watch") or []):
        if not isinstance(w, dict) or not w.get("folder"):
            raise UserInputError(f"{path.name}：watch 第 {i + 1} 项缺少 folder（要监视的文件夹）。")
        folder = Path(str(w["folder"]))
        cfg.watch.append(
            Watch(
                folder if folder.is_absolute() else data_dir.root / folder,
                int(w.get("every_seconds", 60)),
                w.get("source"),
                w.get("profile"),
            )
        )
    names = set()
    for i, d in enumerate(doc.get("databases") or []):
        where = f"{path.name}：databases 第 {i + 1} 项"
        if not isinstance(d, dict):
            raise UserInputError(f"{where} 格式不对。")
        for need in ("name", "url", "incremental"):
            if not d.get(need):
                raise UserInputError(f"{where} 缺少 {need}。")
        if not (d.get("table") or d.get("query")):
            raise UserInputError(f"{where} 需要 table（表或视图名）或 query（查询语句）。")
        if not (d.get("source") or d.get("profile")):
            raise UserInputError(
                f"{where} 需要 source（approvals|hotline|ratings|reports）或 profile。"
            )
        if re.search(r"://[^/:@]+:(?!\$\{)[^@]+@", str(d["url"])):
            raise UserInputError(
                f"{where}：url 里直接写了密码。请改成环境变量，例如 "
                "postgresql://用户:${BIZENV_SRC_口令变量}@主机/库名，并在服务的环境中设置该变量。"
            )
        if d["name"] in names:
            raise UserInputError(f"{where}：名称 {d['name']} 重复。")
        names.add(d["name"])
        cfg.databases.append(
            Database(
                name=str(d["name"]),
                url=str(d["url"]),
                incremental=str(d["incremental"]),
                table=d.get("table"),
                query=d.get("query"),
                source=d.get("source"),
                profile=d.get("profile"),
                key=d.get("key"),
                every_minutes=float(d.get("every_minutes", 15)),
            )
        )
    return cfg


def database(data_dir: DataDir, name: str) -> Database:
    for d in load_config(data_dir).databases:
        if d.name == name:
            return d
    raise UserInputError(f"{CONFIG} 中没有名为 {name} 的数据库来源。")


def resolve_url(db: Database) -> str:
    """The URL with its ${VARS} from the environment (refused, naming the variable, if unset)."""

    def sub(m: re.Match) -> str:
        value = os.environ.get(m.group(1))
        if value is None:
            raise UserInputError(
                f"数据库来源 {db.name}：环境变量 {m.group(1)} 没有设置（地址中的 ${{{m.group(1)}}}）。"
                "请在运行 bizenv scheduler 的服务环境中设置它。"
            )
        from urllib.parse import quote

        return quote(value, safe="")

    url = _VAR.sub(sub, db.url)
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, dt.datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    return str(v)


def _key_column(db: Database, columns: list[str]) -> str | None:
    if db.key:
        return db.key
    from etl.profiles import builtin_profile, normalize_header

    if not db.source:
        return None
    profile = builtin_profile(db.source)
    keys = [n for n, s in profile.fields.items() if s.type == "key"]
    for k in keys:
        for h in profile.fields[k].headers:
            for c in columns:
                if normalize_header(c) == normalize_header(h):
                    return c
    return None


def _mark_value(raw: str | None):
    if not raw:
        return None, []
    doc = json.loads(raw)
    value = doc.get("v")
    if doc.get("t") == "datetime":
        value = dt.datetime.fromisoformat(value)
    return value, list(doc.get("keys") or [])


def _mark_text(value, keys: list[str]) -> str:
    if isinstance(value, dt.datetime):
        return json.dumps(
            {"t": "datetime", "v": value.isoformat(), "keys": keys}, ensure_ascii=False
        )
    if isinstance(value, dt.date):
        return json.dumps({"t": "date", "v": value.isoformat(), "keys": keys}, ensure_ascii=False)
    return json.dumps({"t": "value", "v": value, "keys": keys}, ensure_ascii=False, default=str)


def pull_to_inbox(
    data_dir: DataDir, name: str, progress=None
) -> tuple[list[tuple[Path, int]], str | None]:
    """Pull the rows of database source `name` that changed since its mark into a CSV.

    Returns ([(csv, rows)] — empty when nothing changed, the new mark to commit after the load)."""
    import sqlalchemy as sa

    from office import jobs

    progress = progress or (lambda f, t: None)
    db = database(data_dir, name)
    saved = jobs.get_mark(data_dir, name)
    mark, keys_at_mark = _mark_value(saved.mark if saved else None)
    base = db.query.strip().rstrip(";") if db.query else f"SELECT * FROM {db.table}"
    col = _ident(db.incremental)
    sql = f"SELECT * FROM ({base}) AS src"
    params = {}
    if mark is not None:
        sql += f" WHERE src.{col} >= :mark"
        params["mark"] = mark
    sql += f" ORDER BY src.{col}"
    progress(0.05, f"连接数据库来源 {name}")
    try:
        engine = sa.create_engine(resolve_url(db), pool_pre_ping=True)
    except sa.exc.ArgumentError:
        raise UserInputError(f"数据库来源 {name}：url 不是有效的数据库地址。") from None
    safe = re.sub(r"[^\w.-]", "_", name)
    folder = data_dir.root / "inbox" / "pulls" / safe
    folder.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    target = folder / f"{safe}_{stamp}.csv"
    rows = 0
    new_mark = mark
    new_keys: list[str] = list(keys_at_mark) if mark is not None else []
    try:
        with engine.connect() as conn:
            result = conn.execution_options(stream_results=True).execute(sa.text(sql), params)
            columns = list(result.keys())
            if db.incremental not in columns:
                raise UserInputError(f"数据库来源 {name}：查询结果中没有增量列 {db.incremental}。")
            at = columns.index(db.incremental)
            key = _key_column(db, columns)
            ki = columns.index(key) if key in columns else None
            skip = set(keys_at_mark) if ki is not None else set()
            with target.open("w", encoding="utf-8", newline="") as fh:
                w = csv.writer(fh)
                w.writerow(columns)
                while True:
                    chunk = result.fetchmany(10_000)
                    if not chunk:
                        break
                    for r in chunk:
                        value = r[at]
                        k = _text(r[ki]) if ki is not None else None
                        if mark is not None and value == mark and k in skip:
                            continue  # pulled last time, at exactly the mark
                        if value is not None:
                            if new_mark is None or value > new_mark:
                                new_mark, new_keys = value, []
                            if value == new_mark and k is not None:
                                new_keys.append(k)
                        w.writerow([_text(v) for v in r])
                        rows += 1
                    progress(0.1, f"已读取 {rows:,} 行")
    except sa.exc.SQLAlchemyError as err:
        target.unlink(missing_ok=True)
        text = str(getattr(err, "orig", err)).strip().splitlines()[0] if str(err).strip() else ""
        raise UserInputError(f"数据库来源 {name} 采集失败：{text}") from None
    finally:
        engine.dispose()
    if rows == 0:
        target.unlink(missing_ok=True)
        return [], None
    pending = _mark_text(new_mark, sorted(set(new_keys))) if new_mark is not None else None
    return [(target, rows)], pending


def commit_mark(data_dir: DataDir, name: str, pending: str | None, rows: int) -> None:
    """Advance the mark once the pulled rows are loaded."""
    from office import jobs

    if pending is None:
        return
    db = database(data_dir, name)
    jobs.save_mark(data_dir, name, db.incremental, pending, rows)
