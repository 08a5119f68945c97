"""The field table of tagger.prepare: every field has a row, and the rows set the order of what is said."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from tagger.columns import DEFAULT_ALIASES
from tagger.config import load_config
from tagger.errors import InputError
from tagger.i18n import language
from tagger.prepare import DATE_FIELDS, FIELDS, column_aliases, prepare_users
from tagger.readers import read_export

HEADER = ("用户ID,注册时间,最近一次活跃时间,上次活跃时间,是否开车,控车次数,内容次数,"
          "近三个月参与活动次数,近三个月活跃天数,昵称")
# One problem or more in every column, so each row of the table has something to say.
ROWS = (
    "1001,2024-07-01,2024-06-20,2099-06-01,也许,x,1,-2,many,a",
    "1002,2024-05-03,2024-03-02,9999-12-31,否,0,-4,1,3,b",
    "1003,2024-05-03,,1970-01-01,1,1,1,1,1,c",
    "1004,2024-05-03,9999-12-31,2024-05-01T10:00:00Z,0,1,1,1,1,d",
)


def _prepare(tmp_path: Path, **settings: object):
    path = tmp_path / "m.csv"
    path.write_text(HEADER + "\n" + "\n".join(ROWS) + "\n", encoding="utf-8")
    config = dataclasses.replace(load_config(None), **settings)
    return prepare_users(read_export(path, aliases=column_aliases(config)), config)


def test_every_built_in_field_has_a_row() -> None:
    assert set(DEFAULT_ALIASES) <= {spec.key for spec in FIELDS}
    assert DATE_FIELDS == ("register_date", "last_active_date", "prev_active_date")


def test_warnings_follow_the_field_table(tmp_path: Path) -> None:
    with language("en"):
        users = _prepare(tmp_path)
    assert users.warnings == [
        "m.csv, column C '最近一次活跃时间': 1 placeholder dates (rows 5, e.g. '9999-12-31'), treated as missing",
        "m.csv, column C '最近一次活跃时间': 1 last-active dates are blank (rows 4); the registration date is used. "
        "To refuse such exports set [lifecycle] blank_last_active = \"error\" in the config",
        "m.csv, column D '上次活跃时间': 1 placeholder dates (rows 3, e.g. '9999-12-31'), treated as missing",
        "m.csv, column D '上次活跃时间': 1 timestamps carry a timezone (rows 5, e.g. '2024-05-01T10:00:00Z'); "
        "converted to Asia/Shanghai",
        "m.csv, column D '上次活跃时间': 1 dates lie in the future (rows 2, e.g. '2099-06-01'); check them",
        "m.csv, column D '上次活跃时间': 1 dates are before 1982 (rows 4, e.g. '1970-01-01'); check them. Dates "
        "early in 1900 usually are small numbers (0-60) given a date format; Excel's 1900-02-29 (serial 60) does "
        "not exist",
        "m.csv, column C '最近一次活跃时间': 2 users were last active before they registered (rows 2, 3); "
        "registration is used",
        "m.csv, column E '是否开车': column 是否开车 has 1 values that are neither yes nor no (row 2: '也许'), "
        "treated as unknown",
        "m.csv, column F '控车次数': column 控车次数 has 1 unreadable or negative counts (row 2: 'x'), treated as "
        "empty",
        "m.csv, column G '内容次数': column 内容次数 has 1 unreadable or negative counts (row 3: '-4'), treated as "
        "empty",
        "m.csv, column H '近三个月参与活动次数': 1 unreadable counts (rows 2, e.g. '-2'), treated as empty",
        "m.csv, column I '近三个月活跃天数': 1 unreadable counts (rows 2, e.g. 'many'), treated as empty",
    ]
    assert list(users.frame.columns) == ["user_id", *DATE_FIELDS, "drove", "usage_control", "usage_content",
                                         "nickname", "activity_count_3m", "active_days"]


def test_a_setting_turns_the_blank_last_active_warning_into_an_error(tmp_path: Path) -> None:
    with language("en"), pytest.raises(InputError) as caught:
        _prepare(tmp_path, blank_last_active="error")
    assert str(caught.value.where) == "m.csv, row 4, column C '最近一次活跃时间'"
    assert "blank last-active date (1 rows: 4)" in str(caught.value)
