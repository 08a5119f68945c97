"""IDs, pandas sentinels, dates, counts and dirty text, from generated exports through the CLI."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import python_calamine
import xlsxwriter

from tagger.history import HistoryStore
from tagger.pipeline import TagOptions, run
from tests.hostile import one_error, write_csv, write_xlsx

USERS = "用户明细"


def users_sheet(path: Path) -> list[list[object]]:
    """The Users sheet of a written workbook, as calamine (tagger's own reader) returns it."""
    return python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name(USERS).to_python()


def column(rows: list[list[object]], heading: str) -> list[object]:
    index = rows[0].index(heading)
    return [row[index] for row in rows[1:]]


def warning_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if "!" in line[:3] or line.startswith(("警告", "Warning", "⚠"))]


# --------------------------------------------------------------------------- IDs


def test_numeric_18_digit_id_names_sheet_row_column_and_fix(run_cli, tmp_path: Path) -> None:
    path = tmp_path / "ids_numeric.xlsx"
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet(USERS)
    ws.write_row(0, 0, ["用户ID", "注册时间", "最近一次活跃时间"])
    ws.write_number(1, 0, 110101199003071234)
    ws.write_string(2, 0, "11010119900307123X")
    for r in (1, 2):
        ws.write_string(r, 1, "2024-07-01")
        ws.write_string(r, 2, "2024-07-02")
    book.close()
    for command in ("tag", "check"):
        extra = ["--no-history"] if command == "tag" else []
        code, _, err = run_cli(command, path, "--month", "2024-07", *extra)
        one_error(code, err, "ids_numeric.xlsx", "sheet '用户明细'", "row 2", "column A '用户ID'",
                  "'110101199003071200'", "以数字存储", "设为文本")


def test_blank_id_in_csv_is_reported_with_row(run_cli, tmp_path: Path) -> None:
    body = "110101199003071234,2024-07-01,2024-07-02,a\n,2024-07-01,2024-07-02,b\n"
    path = write_csv(tmp_path / "ids_blank.csv", body)
    code, _, err = run_cli("tag", path, "--no-history")
    one_error(code, err, "ids_blank.csv", "row 3", "column A '用户ID'", "用户ID为空")


def test_ids_and_phones_stay_exact_text_in_the_workbook(run_cli, tmp_path: Path) -> None:
    ids = ["110101199003071234", "013912345678", "00042", "11010119900307123X"]
    phones = ["013912345678", "+8613800138000", "138 0013 8000", "NA"]
    body = "".join(f"{i},2024-07-01,2024-07-0{n + 2},{p}\n" for n, (i, p) in enumerate(zip(ids, phones, strict=True)))
    path = write_csv(tmp_path / "phones_2024-07.csv", body, ["用户ID", "注册时间", "最近一次活跃时间", "手机号"])
    code, _, err = run_cli("tag", path, "--no-history", "-o", tmp_path / "out.xlsx")
    assert code == 0, err
    rows = users_sheet(tmp_path / "out.xlsx")
    assert column(rows, "用户ID") == ids
    assert column(rows, "手机号") == phones
    ws = openpyxl.load_workbook(tmp_path / "out.xlsx", read_only=True)[USERS]
    assert all(row[0].data_type == "s" for row in ws.iter_rows(min_row=2, max_col=1))


def test_invisible_and_full_width_characters_are_normalised_for_matching(tmp_path: Path) -> None:
    body = ("１００１,2024-07-01,2024-07-02,NA\n\u200b1002,2024-07-01,2024-07-02,null\n"
            "1003\u3000,2024-07-01,2024-07-02,None\n1004\xa0,2024-07-01,2024-07-02,nan\n")
    path = write_csv(tmp_path / "dirty_2024-07.csv", body)
    result = run(TagOptions(export=path, use_history=False, output=tmp_path / "out.xlsx"))
    assert result.users.frame["user_id"].tolist() == ["1001", "1002", "1003", "1004"]
    rows = users_sheet(tmp_path / "out.xlsx")
    assert column(rows, "用户ID") == ["１００１", "\u200b1002", "1003\u3000", "1004\xa0"]  # shown as exported
    assert column(rows, "昵称") == ["NA", "null", "None", "nan"]  # pandas sentinels stay strings


def test_same_id_in_two_spellings_is_a_duplicate(run_cli, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "dup.csv", "1001,2024-07-01,2024-07-02,a\n１００１\u200b,2024-07-01,2024-07-02,b\n")
    code, _, err = run_cli("check", path)
    one_error(code, err, "dup.csv", "row 2", "column A", "'1001'", "2, 3")


def test_sentinel_nicknames_survive_history_and_a_second_month(run_cli, tmp_path: Path) -> None:
    """Matching the next month by normalised ID finds users whose IDs were written with noise."""
    june = write_csv(tmp_path / "u_2024-06.csv",
                     "１００１,2024-05-01,2024-06-02,NA\n1002\xa0,2024-05-01,2024-06-02,None\n")
    july = write_csv(tmp_path / "u_2024-07.csv", "1001,2024-05-01,2024-07-02,NA\n1002,2024-05-01,2024-06-30,None\n")
    history = tmp_path / "h.sqlite"
    assert run_cli("tag", june, "--history", history, "-q")[0] == 0
    result = run(TagOptions(export=july, history=history, output=tmp_path / "july.xlsx"))
    assert result.prev_source == "history" and result.metrics.unknown_prev == 0
    assert column(users_sheet(tmp_path / "july.xlsx"), "昵称") == ["NA", "None"]


# --------------------------------------------------------------------------- dates


def test_every_accepted_date_form(tmp_path: Path) -> None:
    path = tmp_path / "dates_2024-07.xlsx"
    book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    ws = book.add_worksheet(USERS)
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    ws.write_row(0, 0, ["用户ID", "注册时间", "最近一次活跃时间"])
    forms = ["2024/7/1", "2024-07-01", "2024年7月1日", 45474, "45474", "20240701", "2024.7.1",
             dt.datetime(2024, 7, 1), "2024-07-01 00:00:00"]
    for r, form in enumerate(forms, start=1):
        ws.write_string(r, 0, str(1000 + r))
        if isinstance(form, (dt.datetime, int)):
            ws.write(r, 1, form, date_format) if isinstance(form, int) else ws.write_datetime(r, 1, form, date_format)
        else:
            ws.write_string(r, 1, form)
        ws.write_string(r, 2, "2024-07-20")
    book.close()
    result = run(TagOptions(export=path, use_history=False, write=False))
    assert set(result.users.frame["register_date"]) == {pd.Timestamp("2024-07-01")}
    assert not [w for w in result.warnings if "日期" in w]


@pytest.mark.parametrize("command", ["tag", "check"])
def test_ambiguous_day_month_is_refused_and_says_why(run_cli, tmp_path: Path, command: str) -> None:
    path = write_csv(tmp_path / "amb_2024-07.csv", "1,2024-07-01,2024-07-02,a\n2,1/7/2024,2024-07-03,b\n")
    code, _, err = run_cli(command, path, "--no-history" if command == "tag" else "-q")
    one_error(code, err, "amb_2024-07.csv", "row 3", "column B '注册时间'", "'1/7/2024'", "日月顺序不明确",
              "2024-01-07", "2024-07-01", "年-月-日")


def test_flagged_dates_future_serial_60_before_registration_and_timezones(run_cli, tmp_path: Path) -> None:
    path = tmp_path / "flags_2024-07.xlsx"
    book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    ws = book.add_worksheet(USERS)
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    ws.write_row(0, 0, ["用户ID", "注册时间", "最近一次活跃时间"])
    ws.write_row(1, 0, ["1", "2024-07-01", "2024-07-02"])
    ws.write_row(2, 0, ["2", "2099-01-01", "2024-07-02"])                  # future registration
    ws.write_string(3, 0, "3")
    ws.write_number(3, 1, 60, date_format)                                 # Excel's 1900-02-29
    ws.write_string(3, 2, "2024-07-02")
    ws.write_row(4, 0, ["4", "2024-07-01", "2024-06-01"])                  # active before registering
    ws.write_row(5, 0, ["5", "2024-06-01", "2024-07-31T16:30:00Z"])        # UTC: 1 August in Beijing
    book.close()
    code, out, err = run_cli("check", path, "--month", "2024-07")
    assert code == 0, err
    text = " ".join(out.split())
    assert "column B '注册时间': 有 1 个晚于今天的日期（第 3 行，如 '2099-01-01'）" in text
    assert "column B '注册时间': 有 1 个早于 1982 年的日期（第 4 行，如 '1900-02-28'）" in text
    assert "1900-02-29（序列号 60）并不存在" in text
    assert "column C '最近一次活跃时间':" in text and "2 个用户的最近活跃时间早于注册时间（如第 3, 5 行）" in text
    assert "有 1 个带时区的时间（第 6 行，如 '2024-07-31T16:30:00Z'），已换算为 Asia/Shanghai 时间" in text
    result = run(TagOptions(export=path, month="2024-07", use_history=False, write=False))
    assert result.users.frame.loc[6, "last_active_date"] == pd.Timestamp("2024-08-01 00:30")


# --------------------------------------------------------------------------- counts and text


def test_counts_are_converted_or_reported_per_cell(run_cli, tmp_path: Path) -> None:
    header = ["用户ID", "注册时间", "最近一次活跃时间", "控车次数"]
    cells = ["-5", '"1,234"', "12次", "--", "3.5", "很多"]
    body = "".join(f"{i},2024-05-01,2024-07-02,{v}\n" for i, v in enumerate(cells))
    path = write_csv(tmp_path / "counts_2024-07.csv", body, header)
    code, out, err = run_cli("check", path)
    assert code == 0, err
    text = " ".join(out.split())
    assert ("column D '控车次数': 列 控车次数 有 2 个无法识别或为负数的次数（第 2 行 '-5'、第 7 行 '很多'），按空值处理"
            in text)
    result = run(TagOptions(export=path, use_history=False, write=False))
    field = next(f.field for f in result.config.features if "控车次数" in f.columns)
    values = result.users.frame[field].tolist()
    assert values[1:3] == [1234.0, 12.0] and values[4] == 3.5
    assert pd.isna(values[0]) and pd.isna(values[3]) and pd.isna(values[5])


def test_control_characters_are_cleaned_with_a_warning(run_cli, tmp_path: Path) -> None:
    body = "1,2024-07-01,2024-07-02,a\x08b\n2,2024-07-01,2024-07-02,c\x1fd\n3,2024-07-01,2024-07-02,第一行\n"
    path = write_csv(tmp_path / "ctrl_2024-07.csv", body)
    code, out, err = run_cli("tag", path, "--no-history", "-o", tmp_path / "out.xlsx")
    assert code == 0, err
    assert "column D '昵称': 2 个单元格含控制字符或无效字符（第 2, 3 行），已删除" in " ".join(out.split())
    assert column(users_sheet(tmp_path / "out.xlsx"), "昵称") == ["ab", "cd", "第一行"]
    openpyxl.load_workbook(tmp_path / "out.xlsx")  # opens: no illegal characters in the XML


def test_invalid_utf8_bytes_name_the_row(run_cli, tmp_path: Path) -> None:
    path = tmp_path / "ctrl.csv"
    path.write_bytes("用户ID,注册时间,最近一次活跃时间,昵称\n1,2024-07-01,2024-07-02,张三\n".encode()
                     + b"2,2024-07-01,2024-07-02,\xed\xa0\x80\n")
    code, _, err = run_cli("check", path)
    one_error(code, err, "ctrl.csv", "row 3", "损坏的字节")


def test_lone_surrogates_become_replacement_characters(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A lone surrogate (from a broken UTF-16 source) would make xlsxwriter raise UnicodeEncodeError."""
    import tagger.pipeline as pipeline

    path = write_csv(tmp_path / "sur_2024-07.csv", "1,2024-07-01,2024-07-02,x\n")
    real = pipeline.read_export

    def with_surrogate(*args, **kwargs):
        table = real(*args, **kwargs)
        table.frame.iloc[0, 3] = "a\ud800b"
        return table

    monkeypatch.setattr(pipeline, "read_export", with_surrogate)
    result = run(TagOptions(export=path, use_history=False, output=tmp_path / "out.xlsx"))
    assert any("第 2 行" in w and "无效字符" in w for w in result.warnings)
    assert column(users_sheet(tmp_path / "out.xlsx"), "昵称") == ["a\ufffdb"]


def test_cells_over_32767_characters_are_truncated_and_kept_in_history(run_cli, tmp_path: Path) -> None:
    long = "长" * 40_000
    path = write_csv(tmp_path / "long_2024-07.csv", f"1,2024-07-01,2024-07-02,{long}\n2,2024-07-01,2024-07-02,短\n")
    history = tmp_path / "h.sqlite"
    code, out, err = run_cli("tag", path, "--history", history, "-o", tmp_path / "out.xlsx")
    assert code == 0, err
    assert "1 个单元格超过 Excel 上限 32,767 个字符（第 2 行，最长 40,000 个字符）" in " ".join(out.split())
    assert column(users_sheet(tmp_path / "out.xlsx"), "昵称") == [long[:32_767], "短"]
    with HistoryStore(history) as store:
        stored = store.long_texts("2024-07")
    assert stored.to_dict("records") == [{"user_id": "1", "header": "昵称", "text": long}]


def test_totals_rows_with_long_ids_do_not_count(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "t_2024-07.xlsx", [["1001", "2024-07-01", "2024-07-20", "张三"],
                                                   ["合计", None, None, "2"]])
    result = run(TagOptions(export=path, use_history=False, write=False))
    assert result.users.frame["user_id"].tolist() == ["1001"]
