"""Personal data never lands in the warehouse: names dropped, phones keyed-hashed, phone and ID
numbers and labelled names in free text masked — checked by searching every text column of the published snapshot."""

from __future__ import annotations

import hashlib
import stat

from etl.load import load_files
from kpi import store

SECRET_FILE = "secret.key"  # where the README says the key lives

HEADER = "工单编号,来电时间,所属区县,来电号码,诉求人,诉求内容,办结时间"
LINES = [
    "GD1,2026-07-01 09:00,柯城区,13812345678,张三丰,我的电话13812345678，身份证33080219900101123X，请回电,2026-07-02 09:00",
    "GD2,2026-07-01 10:00,江山市,+86 138-1234-5678,张三丰,座机0570-8765432也可以,2026-07-02 09:00",
    "GD3,2026-07-01 11:00,衢江区,0570-8765432,李四光,联系人：赵六丰，我叫钱七，投诉人反映噪音,2026-07-02 09:00",
    # quarantined (closed before the call): its raw JSON must be just as clean
    "GD4,2026-07-05 11:00,衢江区,13900001111,王五,联系13900001111,2026-07-02 09:00",
]
PATTERNS = {
    "mobile": r"1[3-9][0-9]{9}",
    "id_number": r"[1-9][0-9]{16}[0-9Xx]",
    "landline": r"0[0-9]{2,3}-[0-9]{7,8}",
    "names": "张三丰|李四光|王五|赵六|钱七",
}


def test_snapshot_holds_no_phone_id_or_name(tmp_path, isolated_data_dir):
    path = tmp_path / "工单.csv"
    path.write_bytes(("\n".join([HEADER, *LINES]) + "\n").encode("gbk"))
    [report] = load_files([path])
    assert (report.rows_loaded, report.rows_quarantined) == (3, 1)
    con = store.connect_snapshot()
    columns = con.execute(
        "SELECT table_name, column_name FROM information_schema.columns WHERE data_type = 'VARCHAR'"
    ).fetchall()
    assert ("hotline", "content") in columns and ("quarantine", "raw") in columns
    for table, column in columns:
        # 64 hex digits can contain a phone-like digit run by chance: the caller hash (checked
        # below) and the loaded file's checksum are digests, not data
        if column in ("caller_hash", "sha256"):
            continue
        for label, pattern in PATTERNS.items():
            hits = con.execute(
                f'SELECT count(*) FROM "{table}" WHERE regexp_matches("{column}", ?)', [pattern]
            ).fetchone()[0]
            assert hits == 0, f"{label} found in {table}.{column}"
    content = dict(con.execute("SELECT ticket_id, content FROM hotline").fetchall())
    assert content["GD1"] == "我的电话138****5678，身份证330802********123X，请回电"
    assert content["GD2"] == "座机0570-****5432也可以"
    # labelled names keep the surname only; "投诉人反映" (no colon) is a phrase, not a label
    assert content["GD3"] == "联系人：赵**，我叫钱**，投诉人反映噪音"
    hashes = dict(con.execute("SELECT ticket_id, caller_hash FROM hotline").fetchall())
    con.close()
    # the same number written two ways is the same caller; the hash is keyed (not a bare sha256)
    assert hashes["GD1"] == hashes["GD2"] != hashes["GD3"]
    assert hashes["GD1"] != hashlib.sha256(b"13812345678").hexdigest()
    key = (isolated_data_dir / SECRET_FILE).read_text().strip()
    assert hashes["GD1"] == hashlib.sha256((key + "13812345678").encode()).hexdigest()
    assert stat.S_IMODE((isolated_data_dir / SECRET_FILE).stat().st_mode) == 0o600


def test_the_secret_key_is_created_once_and_reused(tmp_path, isolated_data_dir):
    path = tmp_path / "工单.csv"
    path.write_text("\n".join([HEADER, LINES[0]]) + "\n", encoding="utf-8")
    load_files([path], build=False)
    first = (isolated_data_dir / SECRET_FILE).read_text()
    path.write_text("\n".join([HEADER, LINES[0].replace("GD1", "GD9")]) + "\n", encoding="utf-8")
    load_files([path], build=False)
    assert (isolated_data_dir / SECRET_FILE).read_text() == first
    con = store.connect_warehouse()
    assert con.execute("SELECT count(DISTINCT caller_hash) FROM hotline").fetchone()[0] == 1
    con.close()
