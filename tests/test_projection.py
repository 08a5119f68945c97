"""The one month-end projection, its back-test, and later exports of a month superseding earlier ones.

Constructed months whose right answer is known: in June 9 of the month's 16 active users
had shown up by day 10, so history measures seen(10 of 30) = 9/16 and α = ln(9/16) / ln(1/3).
"""

from __future__ import annotations

import json
import math
import sqlite3
from pathlib import Path

import openpyxl
import pytest

from tagger.projection import DEFAULT_ALPHA, Model, Snapshot, calibrate, fit_alpha, project, seen_share

HEADER = "用户ID,注册时间,最近一次活跃时间,昵称\n"
JUNE_ALPHA = math.log(9 / 16) / math.log(10 / 30)


def export(path: Path, dates: list[str], nickname: str = "n") -> Path:
    """20 users registered in 2023; user i last active on dates[i] (May for the rest)."""
    rows = [f"U{i:02d},2023-01-01,{dates[i] if i < len(dates) else '2024-05-15'},{nickname}" for i in range(20)]
    path.parent.mkdir(exist_ok=True)
    path.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def june_mid(folder: Path) -> Path:
    """Data up to 06-10: users 0-8 active in June."""
    return export(folder / "mid" / "用户明细_2024-06.csv", [f"2024-06-{d + 1:02d}" for d in range(8)] + ["2024-06-10"])


def june_end(folder: Path, nickname: str = "n") -> Path:
    """Data up to 06-30: the same 9 plus users 9-15, 16 active of 20."""
    dates = [f"2024-06-{d + 12:02d}" for d in range(16)]
    dates[15] = "2024-06-30"
    return export(folder / "end" / "用户明细_2024-06.csv", dates, nickname)


def july_mid(folder: Path) -> Path:
    """Data up to 07-10: 8 of 20 active so far."""
    return export(folder / "jul" / "用户明细_2024-07.csv", [f"2024-07-{d + 3:02d}" for d in range(8)])


def test_default_curve_and_clipping_are_explicit() -> None:
    model = Model(DEFAULT_ALPHA, calibrated=False)
    end = project(active=6, cumulative=11, day=15, days=31, target=0.85, model=model)
    assert end.seen == pytest.approx((15 / 31) ** 0.5)
    assert end.projected_active == 9 and not end.clipped and not end.month_complete
    assert end.rate == pytest.approx(6 / 11) and end.projected_rate == pytest.approx(9 / 11)
    assert end.current_gap == pytest.approx(6 / 11 - 0.85) and end.projected_gap == pytest.approx(9 / 11 - 0.85)
    full = project(active=10, cumulative=11, day=10, days=30, target=0.85, model=model)
    assert full.projected_active == 11 and full.clipped  # 17 by the curve, held at 100 % and flagged
    last_day = project(active=7, cumulative=11, day=30, days=30, target=0.85, model=model)
    assert last_day.month_complete and last_day.projected_active == 7 and last_day.seen == 1.0


def test_fit_and_leave_one_out_backtest() -> None:
    june = Snapshot("2024-06", 10, 30, 9, 16, 20)
    april = Snapshot("2024-04", 15, 30, 12, 16, 20)  # seen(15 of 30) = 0.75
    assert fit_alpha([june]) == pytest.approx(JUNE_ALPHA)
    model = calibrate([june, april], ["2024-04", "2024-05", "2024-06"])
    assert model.calibrated and model.snapshots == 2
    assert model.alpha == pytest.approx((JUNE_ALPHA + math.log(0.75) / math.log(0.5)) / 2)
    rows = {row.month: row for row in model.backtest}
    # June is projected with α fitted on April only, and vice versa; May has no snapshot: 未校准.
    april_alpha = math.log(0.75) / math.log(0.5)
    assert rows["2024-06"].errors[10] == pytest.approx(9 / (1 / 3) ** april_alpha / 20 - 0.8)
    assert rows["2024-06"].errors[15] is None and rows["2024-06"].errors[20] is None
    assert rows["2024-04"].errors[15] == pytest.approx(12 / 0.5 ** JUNE_ALPHA / 20 - 0.8)
    assert rows["2024-05"].errors == {10: None, 15: None, 20: None} and rows["2024-05"].final_rate is None
    errors = (rows["2024-06"].errors[10], rows["2024-04"].errors[15])
    assert model.mean_abs_error == pytest.approx(sum(abs(e) for e in errors) / 2)
    assert not calibrate([]).calibrated and seen_share(10, 30, calibrate([]).alpha) == pytest.approx(3 ** -0.5)


def test_later_export_supersedes_without_replace(run_cli, tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    out = tmp_path / "o.xlsx"
    assert run_cli("tag", june_mid(tmp_path), "--history", db, "-o", out)[0] == 0
    code, text, err = run_cli("tag", june_end(tmp_path), "--history", db, "-o", out)
    assert code == 0, err
    assert "已取代" in text and "2024-06-30" in text and "2024-06-10" in text
    with sqlite3.connect(db) as conn:
        (stored,) = conn.execute("SELECT metrics FROM imports WHERE month = '2024-06'").fetchone()
    stored = json.loads(stored)
    assert stored["cutoff"] == "2024-06-30" and stored["mau"] == 16
    assert stored["snapshots"] == [{"day": 10, "days": 30, "active": 9, "cumulative": 20, "cutoff": "2024-06-10"}]

    code, _, err = run_cli("tag", june_mid(tmp_path), "--history", db, "-o", out)  # an older cut-off
    error = err.strip().splitlines()[-1]  # after the progress bars, one line
    assert code == 2 and "数据截至 2024-06-30" in error and "2024-06-10" in error and "--replace" in error
    code, _, err = run_cli("tag", june_end(tmp_path, "x"), "--history", db, "-o", out)  # same cut-off, other file
    assert code == 2 and "--replace" in err
    assert run_cli("tag", june_end(tmp_path, "x"), "--history", db, "-o", out, "--replace")[0] == 0


def test_mid_month_summary_calibrated_on_history(run_cli, tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    for path in (june_mid(tmp_path), june_end(tmp_path)):
        assert run_cli("tag", path, "--history", db, "-o", tmp_path / "o.xlsx")[0] == 0
    code, out, err = run_cli("tag", july_mid(tmp_path), "--history", db, "-o", tmp_path / "j.xlsx", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["as_of"] == "2024-07-10" and data["month_complete"] is False
    projection = data["projection"]
    assert projection["calibrated"] is True and projection["alpha"] == pytest.approx(JUNE_ALPHA)
    expected = round(8 / (10 / 31) ** JUNE_ALPHA)
    assert projection["active"] == expected and projection["active_rate"] == pytest.approx(expected / 20)
    assert projection["clipped"] is False
    assert projection["mean_abs_error"] == pytest.approx(abs(9 / (1 / 3) ** 0.5 / 20 - 0.8))  # June, default α

    code, text, _ = run_cli("tag", july_mid(tmp_path), "--history", db, "-o", tmp_path / "j.xlsx")
    assert code == 0
    assert "截至 2024-07-10，本月未结束" in text and "老用户次月留存率（截至 10 日）" in text
    assert "预计月末月活率" in text and "已校准" in text


def test_month_end_summary_is_not_marked(run_cli, tmp_path: Path) -> None:
    code, out, _ = run_cli("tag", june_end(tmp_path), "--no-history", "-o", tmp_path / "o.xlsx", "--json")
    data = json.loads(out)
    assert code == 0 and data["as_of"] == "2024-06-30" and data["month_complete"] is True
    code, text, _ = run_cli("tag", june_end(tmp_path), "--no-history", "-o", tmp_path / "o.xlsx")
    assert "本月未结束" not in text and "（截至" not in text


def test_gap_to_target_is_red_below_and_green_at_target(run_cli, tmp_path: Path) -> None:
    out = tmp_path / "o.xlsx"
    assert run_cli("tag", june_end(tmp_path), "--no-history", "-o", out)[0] == 0
    ws = openpyxl.load_workbook(out)["总览"]
    row = next(r for r in range(1, 20) if ws.cell(r, 1).value == "与目标差距")
    assert ws.cell(row, 2).value.startswith("=IF(")  # a live formula, so the colour must be conditional
    rules = {rule.formula[0]: rule.dxf.font.color.rgb for cf in ws.conditional_formatting for rule in cf.rules
             if f"B{row}" in str(cf.sqref)}
    assert rules == {f"AND(ISNUMBER(B{row}),B{row}<0)": "FFC00000",
                     f"AND(ISNUMBER(B{row}),B{row}>=0)": "FF375623"}
    # 目标拆解's projected gaps, one per future month, follow the same rule row by row.
    forecast = openpyxl.load_workbook(out)["目标拆解"]
    head = next(r for r in range(1, 20) if "差距" in [c.value for c in forecast[r]])
    col = [c.value for c in forecast[head]].index("差距") + 1
    letter = openpyxl.utils.get_column_letter(col)
    spans = {str(cf.sqref): {rule.formula[0] for rule in cf.rules} for cf in forecast.conditional_formatting}
    first = f"{letter}{head + 1}"
    span = next(s for s in spans if s.startswith(first + ":"))
    assert spans[span] == {f"AND(ISNUMBER({first}),{first}<0)", f"AND(ISNUMBER({first}),{first}>=0)"}
    assert forecast.cell(head + 1, col).font.color is None or forecast.cell(head + 1, col).font.color.rgb != "FF375623"
