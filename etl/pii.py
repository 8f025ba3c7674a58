"""Personal data never reaches the warehouse (个人信息保护).

- caller names: never selected (profile type `drop`);
- phone numbers: replaced by a keyed hash, sha256(secret ‖ digits), so repeat callers can still be
  counted but a number cannot be recovered by hashing every possible phone number — that needs the
  secret, which lives only in <data_dir>/secret.key (created on first use, mode 600, git-ignored);
- phone and 18-digit ID numbers inside free text: masked (138****1234, 330802********123X);
- a name written after a label inside free text (联系人：张三, 我叫李四): all but the surname masked
  (联系人：张**). Only labelled names can be found by a rule; a name written bare in a sentence is
  not, and "张先生 / 李女士", the form 12345 centres record callers by, is left as it is.
"""

from __future__ import annotations

import os
import secrets

from kpi.settings import DataDir

_ID_NUMBER = r"([1-9]\d{5})\d{8}(\d{3}[\dXx])"
_MOBILE = r"(1[3-9]\d)\d{4}(\d{4})"
_LANDLINE = r"(0\d{2,3}[-－])\d{3,4}(\d{4})"
# A label, then the surname and one or two more Han characters (the given name). Always two
# stars, so the mask does not tell the name's length; with no punctuation after the name a
# following character may be masked too (我叫张三想问 → 我叫张**问): privacy first. Role words
# need their colon (联系人：), or the everyday "投诉人反映…" would lose its verb.
_NAME_ROLES = "姓名|联系人|来电人|投诉人|举报人|反映人|申请人|当事人|求助人"
_LABELLED_NAME = rf"((?:(?:{_NAME_ROLES})\s*[：:]|我叫|名叫)\s*)(\p{{Han}})\p{{Han}}{{1,2}}"


def secret_key(data_dir: DataDir) -> str:
    """The local hashing key; created (random, 256 bits) the first time it is needed."""
    path = data_dir.secret_key
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(secrets.token_hex(32) + "\n")
    return path.read_text(encoding="ascii").strip()


def phone_hash_sql(text_sql: str, key_param: str) -> str:
    """SQL: keyed hash of the digits of a phone number (country prefix 86 removed), NULL if none."""
    digits = f"regexp_replace(regexp_replace({text_sql}, '[^0-9]', '', 'g'), '^(0086|86)(1[0-9]{{10}})$', '\\2')"
    return f"CASE WHEN {digits} <> '' THEN sha256({key_param} || {digits}) END"


def mask_text_sql(text_sql: str) -> str:
    """SQL: free text with ID numbers, phone numbers and labelled names masked (IDs first: they
    contain 11-digit runs)."""
    masked = f"regexp_replace({text_sql}, '{_LABELLED_NAME}', '\\1\\2**', 'g')"
    masked = f"regexp_replace({masked}, '{_ID_NUMBER}', '\\1********\\2', 'g')"
    masked = f"regexp_replace({masked}, '{_MOBILE}', '\\1****\\2', 'g')"
    return f"regexp_replace({masked}, '{_LANDLINE}', '\\1****\\2', 'g')"
