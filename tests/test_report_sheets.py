"""The 预警 and 复盘 sheets, written on their own and read back with openpyxl."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import xlsxwriter

from tagger.alerts import compute_alerts
from tagger.campaigns import build_review, evaluate
from tagger.pipeline import TagOptions, run
from tagger.workbook import sheet_context
from tagger.workbook.alerts import SHEETS, write_alerts, write_review
from tagger.workbook.rowxml import splice
from tagger.workbook.sheet import Tab
from tests.test_alerts import mid_month_export
from tests.test_campaigns import known  # noqa: F401 - fixture


def write_both(result, path: Path) -> openpyxl.Workbook:
    """The two sheets as the workbook writer makes them: xlsxwriter, then the published rows streamed in."""
    package = path.with_suffix(".package.xlsx")
    book = xlsxwriter.Workbook(str(package), {"constant_memory": True, "strings_to_formulas": False})
    ctx = sheet_context(book, result)
    streams = []
    for key, write in (("alerts", write_alerts), ("review", write_review)):
        published = write(ctx, book.add_worksheet(SHEETS(key)), Tab(SHEETS(key)))
        streams.extend(published.rows if published is not None else [])
    book.close()
    splice(package, path, streams)
    return openpyxl.load_workbook(path)


def column_values(ws, col: int = 1) -> list[object]:
    return [ws.cell(r, col).value for r in range(1, ws.max_row + 1)]


def test_alert_and_review_sheets(tmp_path: Path, known) -> None:  # noqa: F811
    result = run(TagOptions(export=mid_month_export(tmp_path), use_history=False, write=False))
    result.alerts = compute_alerts(result)
    evaluated = evaluate(*known)
    override = pd.Series([""] * len(result.tags), index=result.tags.index)
    override.iloc[0] = "dormant"
    result.review = build_review(result.month, result.metrics.active_rate, result.metrics.target, evaluated,
                                 result.tags["group"], override, [], result.config)
    book = write_both(result, tmp_path / "r.xlsx")

    alerts = book["预警"]
    first = column_values(alerts)
    assert first[0] == "2024-07 预警（数据截至 2024-07-15）"
    assert "即将休眠用户（上月活跃、本月尚未活跃）：3 人" in first
    listed = first.index("即将休眠用户（上月活跃、本月尚未活跃）：3 人")
    assert sorted(first[listed + 2: listed + 5]) == ["R1", "R2", "R3"]
    assert all(alerts.cell(r, 1).data_type == "s" for r in range(listed + 3, listed + 6))  # 1-based: title, heading
    # The streamed rows keep each column's kind and format: R1 last active 2024-06-28, 17 days before the 15th.
    r1 = next(r for r in range(listed + 3, listed + 6) if alerts.cell(r, 1).value == "R1")
    heads = [alerts.cell(listed + 2, c).value for c in range(1, 9)]
    row = {h: alerts.cell(r1, c + 1) for c, h in enumerate(heads)}
    assert row["最近活跃"].value.date().isoformat() == "2024-06-28" and row["最近活跃"].number_format == "yyyy-mm-dd"
    assert row["间隔天数"].value == 17 and row["间隔天数"].alignment.horizontal == "center"
    assert row["主偏好"].value == "控车偏好" and row["主偏好"].number_format == "@"
    assert row["生效分群（人工优先）"].value == "休眠用户" and row["级别"].value is None  # 17 days: no level yet
    # The playbook's row for a dormant user with 控车偏好, as the 休眠用户 sheet suggests it.
    assert (row["建议渠道"].value, row["建议内容"].value) == ("push", "胎压/电瓶/车门未锁等车辆状态提醒")
    row = first.index("预计月末活跃用户") + 1
    assert alerts.cell(row, 2).value == 9  # 6 seen by day 15 of 31 ÷ (15/31) ** 0.5, the default curve
    labelled = {alerts.cell(r, 1).value: alerts.cell(r, 2).value for r in range(1, alerts.max_row + 1)}
    assert labelled["截至 15 日月活率"] == pytest.approx(6 / 11)
    assert labelled["截至 15 日与目标差距"] == pytest.approx(6 / 11 - 0.85)
    assert labelled["预计月末月活率"] == pytest.approx(9 / 11)
    assert labelled["预计月末与目标差距"] == pytest.approx(9 / 11 - 0.85)
    assert any(str(v).startswith("未校准") for v in first)
    assert "（历史库中还没有可回测的月份：未校准）" in first
    levels = first.index("二级预警") + 1
    assert (alerts.cell(levels, 2).value, alerts.cell(levels, 3).value) == ("60 天未活跃", 1)

    review = book["复盘"]
    first = column_values(review)
    # 复盘 shows the same two numbers under different words: so far, and projected (one model).
    reviewed = {review.cell(r, 1).value: review.cell(r, 2).value for r in range(1, 12)}
    assert reviewed["截至 15 日与目标差距"] == pytest.approx(6 / 11 - 0.85)
    assert reviewed["预计月末月活率"] == pytest.approx(labelled["预计月末月活率"])
    assert reviewed["预计月末与目标差距"] == pytest.approx(labelled["预计月末与目标差距"])
    by_channel = first.index("渠道效果") + 1
    heads = [review.cell(by_channel + 1, c).value for c in range(1, 14)]
    assert heads[:5] == ["渠道", "批次", "触达人数", "回访活跃数", "激活率"]
    push = next(r for r in range(by_channel + 2, by_channel + 5) if review.cell(r, 1).value == "push")
    values = {h: review.cell(push, i + 1).value for i, h in enumerate(heads)}
    assert values["激活率"] == pytest.approx(0.4) and values["提升"] == pytest.approx(0.2)
    # Newcombe's hybrid score interval of 40/100 − 20/100 (Wald would say 0.07604)
    assert values["95%置信下限"] == pytest.approx(0.07312, abs=1e-5) and values["判断"] == "有效"
    sms = next(r for r in range(by_channel + 2, by_channel + 5) if review.cell(r, 1).value == "短信")
    assert review.cell(sms, heads.index("判断") + 1).value == "无对照组"
    ledger = next(i for i, v in enumerate(first) if str(v).startswith("渠道效率")) + 1
    ledger_heads = [review.cell(ledger + 1, c).value for c in range(1, 11)]
    assert ledger_heads[:6] == ["渠道", "手填行", "记录批次", "其中同一批次", "触达人数", "来源"]
    push = next(r for r in range(ledger + 2, ledger + 5) if review.cell(r, 1).value == "push")
    assert [review.cell(push, c).value for c in range(2, 9)] == [0, 1, 0, 100, "记录", 40, "记录"]
    accuracy = first.index("标签准确度（人工改标占比越低越准）") + 2
    assert [review.cell(accuracy + 1, c).value for c in range(1, 5)] == ["全部用户", 11, 1, pytest.approx(1 / 11)]


def test_review_without_campaigns_says_so(tmp_path: Path) -> None:
    result = run(TagOptions(export=mid_month_export(tmp_path), use_history=False, write=False))
    result.alerts = compute_alerts(result)
    empty = evaluate(pd.DataFrame(), pd.DataFrame(), pd.DataFrame())
    result.review = build_review(result.month, 0.5, 0.85, empty, result.tags["group"],
                                 pd.Series("", index=result.tags.index), [], result.config)
    book = write_both(result, tmp_path / "r.xlsx")
    assert any("tagger contacts" in str(v) for v in column_values(book["复盘"]))
