from __future__ import annotations

import pytest

from tagger.columns import DEFAULT_ALIASES, build_aliases, is_header_row, match_columns, normalize_header


@pytest.mark.parametrize(
    ("headers", "field", "expected"),
    [
        (["用户ID", "注册时间", "最近一次活跃时间"], "last_active_date", "最近一次活跃时间"),
        (["uid", "register_date", "Last_Active"], "last_active_date", "Last_Active"),
        (["用户编号", "注册日期 ", "最后登录时间"], "register_date", "注册日期 "),
        (["USER_ID", "注册时间", "最近活跃时间"], "user_id", "USER_ID"),
        (["用户ＩＤ", "注 册 时 间", "最近一次\n活跃时间"], "last_active_date", "最近一次\n活跃时间"),
        (["\ufeff用户ID", "注册时间", "最近一次活跃时间"], "user_id", "\ufeff用户ID"),
        (["用户ID", "上次活跃时间", "最近一次活跃时间"], "prev_active_date", "上次活跃时间"),
    ],
)
def test_aliases_match_after_normalising(headers: list[str], field: str, expected: str) -> None:
    assert match_columns(headers, DEFAULT_ALIASES)[field] == expected


def test_one_header_serves_one_field() -> None:
    mapping = match_columns(["id", "注册时间", "最近一次活跃时间"], DEFAULT_ALIASES)
    assert mapping["user_id"] == "id"
    assert list(mapping.values()).count("id") == 1


def test_earlier_alias_wins() -> None:
    mapping = match_columns(["最后登录时间", "最近一次活跃时间"], DEFAULT_ALIASES)
    assert mapping["last_active_date"] == "最近一次活跃时间"


def test_override_replaces_builtin_names() -> None:
    aliases = build_aliases({"user_id": "会员号"})
    assert match_columns(["用户ID", "会员号"], aliases)["user_id"] == "会员号"


def test_header_row_needs_every_required_field() -> None:
    assert is_header_row(["用户ID", "注册时间", "最近活跃时间", "昵称"], DEFAULT_ALIASES)
    assert not is_header_row(["2024年7月用户明细", None, None], DEFAULT_ALIASES)
    assert normalize_header(None) == ""
