"""The written workbook read back with openpyxl: sheets, formulas and their cached values, formats,
freeze panes, filters, dropdowns, named cells, charts, and user text that stays text."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from tagger import forecast as fc
from tagger.i18n import set_language
from tagger.metrics import RATE_BASES
from tagger.pipeline import TagOptions, TagResult, run
from tagger.segments import label as segment_label
from tagger.workbook import sheet_order
from tagger.workbook import users as users_sheet

from .workbook_cases import edge, three_months

ZH_SHEETS = ["总览", "目标拆解", "用户明细", "新用户", "上月新用户", "活跃用户", "唤醒用户", "回流用户", "休眠用户",
             "流失-有开车", "流失-无开车", "偏好分析", "分群流转", "触达跟踪", "参数", "说明"]
EN_SHEETS = ["Overview", "Forecast", "Users", "New", "New last month", "Active", "Awakened", "Returned", "Dormant",
             "Churned-driving", "Churned-not driving", "Preferences", "Transitions", "Channel reach", "Parameters",
             "Notes"]


@pytest.fixture(scope="module")
def july(tmp_path_factory: pytest.TempPathFactory) -> TagResult:
    set_language("zh")
    return three_months(tmp_path_factory.mktemp("july"))


@pytest.fixture(scope="module")
def books(july: TagResult) -> tuple[openpyxl.Workbook, openpyxl.Workbook]:
    """(formulas, cached values) of July's workbook."""
    return openpyxl.load_workbook(july.output), openpyxl.load_workbook(july.output, data_only=True)


def header(ws) -> list[str]:
    return [c.value for c in ws[1]]


def column(ws, name: str) -> list[object]:
    col = header(ws).index(name) + 1
    return [r[0].value for r in ws.iter_rows(min_row=2, min_col=col, max_col=col)]


def test_sheet_names_in_both_languages(july: TagResult, books, tmp_path: Path) -> None:
    assert books[0].sheetnames == ZH_SHEETS == sheet_order(july)
    english = edge(tmp_path, lang="en")
    # the edge export has churned users whose 是否开车 is unknown, and one with an unusable last-month date
    expected = EN_SHEETS[:11] + ["Churned", "Active-unknown"] + EN_SHEETS[11:]
    assert openpyxl.load_workbook(english.output, read_only=True).sheetnames == expected


def test_users_columns_are_formulas_with_python_values(july: TagResult, books) -> None:
    formulas, values = books[0]["用户明细"], books[1]["用户明细"]
    for name in ("用户分群", "分群细分", "偏好标签", "主偏好", "分群说明", "本月活跃", "间隔月数", "上月状态"):
        assert all(isinstance(v, str) and v.startswith("=") for v in column(formulas, name)), name
    tags = july.tags
    assert column(values, "用户分群") == [segment_label(k) for k in tags["segment"]]
    assert column(values, "分群细分") == [segment_label(k) for k in tags["group"]]
    assert [v or "" for v in column(values, "偏好标签")] == tags["tags"].tolist()
    assert [v or "" for v in column(values, "主偏好")] == tags["primary"].tolist()
    idle = [None if v == "" else v for v in column(values, "间隔月数")]
    assert idle == [None if pd.isna(v) else int(v) for v in tags["idle_months"].astype(object)]
    why = column(values, "分群说明")
    assert any(re.fullmatch(r"上次活跃 \d{4}-\d{2}，间隔 1 个月 → 唤醒用户", w) for w in why)
    assert "MonthNo" in formulas["X2"].value or any("MonthNo" in str(c.value) for c in formulas[2])


def test_users_layout(july: TagResult, books) -> None:
    ws = books[0]["用户明细"]
    head = header(ws)
    assert ws.freeze_panes == "B2"
    assert ws.auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(len(head))}{len(july.tags) + 1}"
    ids = column(ws, "用户ID")
    assert all(isinstance(i, str) and len(i) == 18 for i in ids)
    assert ws.cell(2, head.index("用户ID") + 1).number_format == "@"
    assert ws.cell(2, head.index("注册时间") + 1).number_format == "yyyy-mm-dd hh:mm:ss"
    assert ws.column_dimensions[openpyxl.utils.get_column_letter(head.index("分群说明") + 1)].width > 30
    for name in ("人工标签", "备注"):
        assert name in head
    rules = {str(v.sqref): v for v in ws.data_validations.dataValidation}
    override = openpyxl.utils.get_column_letter(head.index("人工标签") + 1)
    assert rules[f"{override}2:{override}{len(july.tags) + 1}"].formula1 == "LabelList"


def test_named_cells_and_lists(books) -> None:
    names = books[0].defined_names
    for name in ("ReportMonth", "MonthNo", "ChurnAfter", "Threshold", "Target", "GroupList", "ChannelList",
                 "LabelList", "StatusList"):
        assert name in names, name
    params = books[1]["参数"]
    values = {row[2].value: row[1].value for row in params.iter_rows(min_row=4, max_row=8)}
    assert values["MonthNo"] == 2024 * 12 + 6 and values["ChurnAfter"] == 2
    assert values["Threshold"] == pytest.approx(0.3) and values["Target"] == pytest.approx(0.85)
    channels = [c.value for c in params["B"][12:17]]
    assert channels == ["push", "短信", "微信服务号", "社群", "线下"]


def test_overview_values_match_metrics(july: TagResult, books) -> None:
    m = july.metrics
    ws, cached = books[0]["总览"], books[1]["总览"]
    rows = {row[0].value: row for row in cached.iter_rows() if isinstance(row[0].value, str)}
    assert rows["当月活跃用户 (MAU)"][1].value == m.mau
    assert rows["平台累计用户"][1].value == m.cumulative
    assert rows["月活率"][1].value == pytest.approx(m.active_rate)
    assert rows["快速比率 (新+唤醒+回流)/休眠"][1].value == pytest.approx(m.quick_ratio)
    for rate in RATE_BASES:
        label = {"old_retention": "老用户次月留存率", "new_retention": "新用户次月留存率", "awaken_rate": "唤醒率",
                 "return_rate": "回流率"}[rate]
        assert rows[label][1].value == m.bases[rate]
        assert rows[label][3].value == pytest.approx(m.rates[rate])
    for key in ("new", "active", "dormant", "churned_driving"):
        assert rows[segment_label(key)][2].value == m.groups[key]
    assert rows["2024-05"][1].value == 1867 and rows["2024-07"][1].value == m.cumulative
    formulas = {row[0].value: row for row in ws.iter_rows() if isinstance(row[0].value, str)}
    assert formulas["月活率"][1].value.startswith("=IF(")
    assert formulas["目标月活率"][1].value == "=Target"
    assert formulas["月活率"][1].number_format == "0.00%"


def test_forecast_matches_python(july: TagResult, books) -> None:
    m = july.metrics
    plans = fc.default_assumptions(july.trend, m)
    start = fc.Start(m.segments["new"], m.mau, m.segments["dormant"], m.segments["churned"], m.cumulative)
    projected = fc.project(start, plans, 2, m.target)
    ws = books[1]["目标拆解"]
    rows = [r for r in ws.iter_rows(values_only=True) if r[0] in {p.month for p in projected}]
    assert len(rows) == 2 * len(projected)  # assumptions and needed-rate tables
    head = [c.value for c in books[1]["目标拆解"][9]]
    for p, row in zip(projected, rows[:len(projected)], strict=True):  # the assumptions table comes first
        assert row[head.index("预测月活率")] == pytest.approx(p.active_rate)
        assert row[head.index("新用户")] == plans[0].new
    assert books[0]["目标拆解"].cell(10, head.index("预测月活率") + 1).value.startswith("=IF(")


def test_group_sheets_have_playbook_and_members(july: TagResult, books) -> None:
    ws = books[1]["流失-有开车"]
    texts = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert "行车报告召回" in texts and "车辆状态提醒" in texts
    members = [c.value for c in ws["A"] if isinstance(c.value, str) and re.fullmatch(r"\d{18}", c.value)]
    assert len(members) == july.metrics.groups["churned_driving"]
    assert "用户调研" in [c.value for row in books[1]["流失-无开车"].iter_rows() for c in row]
    rules = [v.formula1 for v in books[0]["新用户"].data_validations.dataValidation]
    assert "StatusList" in rules and "ChannelList" in rules


def test_reach_sheet_inputs_rates_and_summaries(books) -> None:
    ws = books[0]["触达跟踪"]
    head = [c.value for c in ws[4]]
    assert head[:13] == ["日期", "分群", "渠道", "活动/内容", "触达人数", "送达数", "点击数", "回访活跃数", "成本",
                         "送达率", "点击率", "激活率", "单用户激活成本"]
    assert ws["J5"].value.startswith("=IF(AND(N(E5)>0")
    rules = {v.formula1 for v in ws.data_validations.dataValidation}
    assert {"GroupList", "ChannelList"} <= rules
    sums = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str) and "SUMIFS" in c.value]
    assert len(sums) >= 5 * (5 + 9)
    assert ws.freeze_panes == "A5"


def test_transitions_and_preferences(july: TagResult, books) -> None:
    ws = books[1]["分群流转"]
    rows = {r[0]: r for r in ws.iter_rows(values_only=True) if r[0]}
    assert rows["上月新用户"][1 + 2] == 50 or sum(v for v in rows["上月新用户"][1:-1] if isinstance(v, int)) > 0
    total = sum(r[-1] for k, r in rows.items() if isinstance(r[-1], int))
    assert total == len(july.prev_tags) + july.metrics.segments["new"]
    prefs = books[1]["偏好分析"]
    held = {r[0]: r[1] for r in prefs.iter_rows(min_row=5, max_row=9, values_only=True)}
    assert held["控车偏好"] == int(july.tags["tags"].str.contains("控车偏好").sum())


def test_charts_are_native(july: TagResult) -> None:
    with zipfile.ZipFile(july.output) as zf:
        charts = [n for n in zf.namelist() if n.startswith("xl/charts/chart")]
        drawings = [n for n in zf.namelist() if n.startswith("xl/drawings/drawing")]
    assert len(charts) == 5  # overview ×2, forecast, preferences ×2
    assert len(drawings) == 3


def test_user_text_is_never_a_formula(tmp_path: Path) -> None:
    result = edge(tmp_path)
    book = openpyxl.load_workbook(result.output)
    ws = book["用户明细"]
    nicks = column(ws, "昵称")
    for text in ('=HYPERLINK("http://x")', "+1", "@SUM(A1)", "-1", "NA"):
        assert text in nicks
    index = book.sheetnames.index("用户明细") + 1
    with zipfile.ZipFile(result.output) as zf:
        xml = zf.read(f"xl/worksheets/sheet{index}.xml").decode()
    formulas = re.findall(r"<f(?: [^>]*)?>(.*?)</f>", xml)
    assert formulas and not any("HYPERLINK" in f or "SUM(A1)" in f for f in formulas)
    assert "+1" not in formulas and "-1" not in formulas


def test_continuation_sheets_keep_every_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(users_sheet, "EXCEL_MAX_ROWS", 11)  # 10 users per sheet
    result = edge(tmp_path)
    book = openpyxl.load_workbook(result.output, data_only=True)
    assert [n for n in book.sheetnames if n.startswith("用户明细")] == ["用户明细", "用户明细(2)", "用户明细(3)"]
    ids = [c.value for n in ("用户明细", "用户明细(2)", "用户明细(3)") for c in book[n]["A"][1:]]
    assert ids == result.users.frame["user_id"].tolist()
    rows = {r[0].value: r for r in book["总览"].iter_rows() if isinstance(r[0].value, str)}
    assert rows["平台累计用户"][1].value == len(ids)
    formula = openpyxl.load_workbook(result.output)["总览"]["B5"].value
    assert "'用户明细(3)'" in formula


def test_sheet_names_continue_past_a_million_rows() -> None:
    assert [n for n, _, _ in users_sheet.sheet_names(2_100_000)] == ["用户明细", "用户明细(2)", "用户明细(3)"]


def test_carried_columns_are_as_wide_as_their_content(tmp_path: Path) -> None:
    """An 11-digit phone number, a long ID and a nickname are not clipped by a narrow column."""
    from tagger.workbook.users import display_width

    frame = pd.DataFrame({
        "用户ID": [f"u{i:03d}" for i in range(5)],
        "手机号": ["18921779671", "13800138000", "", None, "15012345678"],
        "设备号": ["09ff81d9-aab8-462a-901f-ab3e7c2ddd4e"] + ["x"] * 4,
        "昵称": ["知足常乐的老司机一枚", "a", "b", "c", "d"],
        "备注说明": ["很长的一段说明文字" * 20] + [""] * 4,
        "注册时间": ["2024-01-05 10:00:00"] * 5,
        "最近一次活跃时间": ["2024-07-05 10:00:00"] * 5,
    })
    export = tmp_path / "users.xlsx"
    frame.to_excel(export, index=False)
    result = run(TagOptions(export=export, output=tmp_path / "out.xlsx", history=tmp_path / "h.sqlite",
                            month="2024-07"))
    ws = openpyxl.load_workbook(result.output)["用户明细"]
    head = [c.value for c in ws[1]]
    width = {h: ws.column_dimensions[openpyxl.utils.get_column_letter(i + 1)].width for i, h in enumerate(head)}
    assert width["手机号"] >= 11 + 2
    assert width["设备号"] >= 36 + 2
    assert width["昵称"] >= display_width("知足常乐的老司机一枚")
    assert 40 <= width["备注说明"] <= 60 + 1  # free text stops at a cap; the cell holds it all
