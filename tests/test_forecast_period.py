"""The target period on 目标拆解 and the 过往半年 rows on 总览.

Hand-made numbers check the period solve and the rate bases; seven simulated months tagged
into one history (tests/workbook_cases.py ``quarter``) check the sheets read back: the seed's
plan of Q3 from the first half year (June), the same quarter with one month to go (August).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import openpyxl
import pytest

from tagger import config as cfg
from tagger import forecast as fc
from tagger.errors import ConfigError
from tagger.metrics import MonthMetrics
from tagger.pipeline import TagResult
from tagger.workbook import write_workbook

from .workbook_cases import quarter

RATE_LABELS = {"old_retention": "老用户次月留存率", "new_retention": "新用户次月留存率", "awaken_rate": "唤醒率",
               "return_rate": "回流率"}


def month(name: str, new: int, rates: dict[str, float | None]) -> MonthMetrics:
    return MonthMetrics(month=name, rows=100, segments={"new": new}, groups={}, unsplit=0, mau=80, cumulative=100,
                        active_rate=0.8, bases={}, retained={}, rates=rates, unknown_prev=0, unknown_prev_active=0,
                        target=0.85, quick_ratio=None)


def test_rate_basis_best_of_six_or_mean_of_three() -> None:
    olds = [0.99, 0.80, 0.95, 0.85, 0.90, 0.86, 0.88]  # Jan (outside the six) .. Jul
    trend = [month(f"2024-0{i + 1}", 10 * (i + 1), {"old_retention": v, "new_retention": None, "awaken_rate": 0.5,
                                                    "return_rate": 0.1}) for i, v in enumerate(olds)]
    best = fc.default_assumptions(trend[:-1], trend[-1], basis="best6")
    assert [a.month for a in best] == ["2024-08", "2024-09", "2024-10"]
    assert best[0].rates["old_retention"] == 0.95  # Jan's 0.99 is seven months back
    assert best[0].rates["new_retention"] == fc.EXAMPLE_RATES["new_retention"]
    assert not best[0].from_history["new_retention"] and best[0].from_history["old_retention"]
    assert best[0].new == 60  # new users: the last three months' average either way (50, 60, 70)
    mean = fc.default_assumptions(trend[:-1], trend[-1], months=["2024-09"])
    assert [a.month for a in mean] == ["2024-09"]
    assert mean[0].rates["old_retention"] == round((0.90 + 0.86 + 0.88) / 3, 4) and mean[0].new == 60


def test_period_solve_is_exact_with_one_month_left() -> None:
    start = fc.Start(new=10, mau=90, dormant=20, churned=30, cumulative=100)
    rates = {"old_retention": 0.9, "new_retention": 0.5, "awaken_rate": 0.5, "return_rate": 0.1}
    plan = [fc.Assumption("2024-09", 0, dict(rates))]
    projected = fc.project(start, plan, 2, 0.9)
    assert projected[0].mau == pytest.approx(72 + 5 + 10 + 3) and projected[0].active_rate == pytest.approx(0.9)
    # August was at 0.8: for an August–September average of 0.9 September must reach 1.0, i.e. MAU 100.
    solved = fc.period_solve([0.8], projected, plan, 0.9)
    assert solved["old_retention"] == pytest.approx((100 - 18) / 80)
    assert solved["return_rate"] == pytest.approx((100 - 87) / 30)
    for rate, value in solved.items():
        again = fc.project(start, [fc.Assumption("2024-09", 0, {**rates, rate: value})], 2, 0.9)
        assert fc.period_average([0.8], again) == pytest.approx(0.9)
    assert fc.period_solve([0.8], [], [], 0.9) == {k: None for k in fc.RATES}


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[forecast]\ntarget_months = "2024Q3"\n', "target_months"),
        ('[forecast]\ntarget_months = ["2024-7", "2024-08"]\n', "target_months"),
        ('[forecast]\ntarget_months = ["2024-07", "2024-09"]\n', "consecutive"),
        ('[forecast]\ntarget_months = ["2024-08", "2024-07"]\n', "consecutive"),
        ('[forecast]\nrate_basis = "peak"\n', "rate_basis"),
    ],
)
def test_invalid_forecast_config_is_named(tmp_path: Path, toml: str, message: str) -> None:
    path = tmp_path / "tagger.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        cfg.load_config(path)


def test_forecast_config_defaults_and_values(tmp_path: Path, run_cli, samples: Path) -> None:
    assert cfg.RATE_BASIS == fc.RATE_BASIS
    default = cfg.load_config()
    assert default.target_months == () and default.rate_basis == "mean3"
    path = tmp_path / "tagger.toml"
    path.write_text('[forecast]\ntarget_months = ["2024-11", "2024-12", "2025-01"]\nrate_basis = "best6"\n',
                    encoding="utf-8")
    loaded = cfg.load_config(path)
    assert loaded.target_months == ("2024-11", "2024-12", "2025-01") and loaded.rate_basis == "best6"
    path.write_text('[forecast]\ntarget_months = ["2024-07", "2024-09"]\n', encoding="utf-8")
    code, _, err = run_cli("tag", samples / "car_app_2024-07.csv", "--config", path, "--no-history")
    assert code == 2 and "forecast.target_months" in err and "Traceback" not in err


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, TagResult]:
    return quarter(tmp_path_factory.mktemp("quarter"))


def cells(path: Path, sheet: str, *, values: bool = True) -> list[list[object]]:
    ws = openpyxl.load_workbook(path, data_only=values)[sheet]
    return [[c.value for c in row] for row in ws.iter_rows()]


def find(rows: list[list[object]], text: str) -> int:
    """Index of the first row whose first cell starts with ``text``."""
    return next(i for i, r in enumerate(rows) if isinstance(r[0], str) and r[0].startswith(text))


def test_june_plans_q3_from_the_first_half_year(runs: dict[str, TagResult]) -> None:
    june = runs["2024-06"]
    rows = cells(june.output, "目标拆解")
    assert rows[0][0] == "目标拆解：目标期 2024-07 至 2024-09"
    assert "rate_basis = \"best6\"" in rows[2][0]
    assert not any(r[0] == "目标期内已有月份（实际，取自历史）" for r in rows)
    head = find(rows, "假设与预测") + 1
    names = rows[head]
    projected = rows[head + 1:head + 4]
    assert [r[0] for r in projected] == ["2024-07", "2024-08", "2024-09"]
    h1 = [runs[m].metrics for m in ("2024-02", "2024-03", "2024-04", "2024-05", "2024-06")]
    for rate, label in RATE_LABELS.items():
        best = max(t.rates[rate] for t in h1 if t.rates[rate] is not None)
        assert all(r[names.index(label)] == pytest.approx(round(best, 4)) for r in projected), rate
    rate_col = names.index("预测月活率")
    average = rows[head + 4]
    assert average[rate_col - 1] == "目标期平均月活率"
    assert average[rate_col] == pytest.approx(sum(r[rate_col] for r in projected) / 3)
    assert average[rate_col + 1] == pytest.approx(0.85)
    assert average[rate_col + 2] == pytest.approx(average[rate_col] - 0.85)
    solve = find(rows, "剩余 3 个月（2024-07 至 2024-09）")
    assert [r[0] for r in rows[solve + 2:solve + 6]] == list(RATE_LABELS.values())
    formulas = cells(june.output, "目标拆解", values=False)
    assert formulas[solve + 2][2].startswith("=IF(MIN(") and "SUMPRODUCT(" in formulas[solve + 2][2]
    assert formulas[head + 4][rate_col].startswith("=IF(COUNT(")


def test_august_shows_actuals_and_solves_the_last_month(runs: dict[str, TagResult]) -> None:
    aug = runs["2024-08"]
    rows = cells(aug.output, "目标拆解")
    top = find(rows, "目标期内已有月份")
    assert rows[top + 1][:7] == ["月份", "新用户", "月活用户", "累计用户", "月活率", "目标", "差距"]
    actual = {r[0]: r for r in rows[top + 2:top + 4]}
    for name in ("2024-07", "2024-08"):
        m = runs[name].metrics
        assert actual[name][1:5] == [m.segments["new"], m.mau, m.cumulative, pytest.approx(m.active_rate)]
    formulas = cells(aug.output, "目标拆解", values=False)
    assert isinstance(formulas[top + 2][2], int) and formulas[top + 3][2] == "=$C$6"  # July a record, August live

    head = find(rows, "假设与预测") + 1
    names = rows[head]
    assert rows[head + 1][0] == "2024-09" and rows[head + 2][0] is None
    rate_col = names.index("预测月活率")
    july, august = runs["2024-07"].metrics.active_rate, aug.metrics.active_rate
    september = rows[head + 1][rate_col]
    assert rows[head + 2][rate_col] == pytest.approx((july + august + september) / 3)

    solve = find(rows, "剩余 1 个月（2024-09 至 2024-09）")
    m = aug.metrics
    start = fc.Start(m.segments["new"], m.mau, m.segments["dormant"], m.segments["churned"], m.cumulative)
    typed = {rate: rows[head + 1][names.index(label)] for rate, label in RATE_LABELS.items()}
    for offset, rate in enumerate(RATE_LABELS):
        needed = rows[solve + 2 + offset][2]
        again = fc.project(start, [fc.Assumption("2024-09", rows[head + 1][1], {**typed, rate: needed})], 2, 0.85)
        assert (july + august + again[0].active_rate) / 3 == pytest.approx(0.85), rate
    notes = [r[0] for r in rows if isinstance(r[0], str)]
    assert any(n.startswith("目标期所需比率按各月预测基数计算") for n in notes)


def test_bridge_months_and_a_period_already_past(runs: dict[str, TagResult], tmp_path: Path) -> None:
    june = runs["2024-06"]
    later = dataclasses.replace(june, config=dataclasses.replace(june.config, target_months=("2024-09", "2024-10")))
    rows = cells(write_workbook(later, tmp_path / "bridge.xlsx"), "目标拆解")
    head = find(rows, "假设与预测") + 1
    assert [r[0] for r in rows[head + 1:head + 5]] == ["2024-07", "2024-08", "2024-09", "2024-10"]
    rate_col = rows[head].index("预测月活率")
    assert rows[head + 5][rate_col] == pytest.approx((rows[head + 3][rate_col] + rows[head + 4][rate_col]) / 2)
    assert any(r[0] == "2024-07、2024-08 不在目标期内，仅用于把预测从本月接到目标期" for r in rows)

    aug = runs["2024-08"]
    past = dataclasses.replace(aug, config=dataclasses.replace(aug.config, target_months=("2024-01", "2024-02",
                                                                                          "2024-03")))
    rows = cells(write_workbook(past, tmp_path / "past.xlsx"), "目标拆解")
    assert not any(r[0] == "假设与预测" for r in rows)
    top = find(rows, "目标期内已有月份")
    assert [r[0] for r in rows[top + 2:top + 5]] == ["2024-01", "2024-02", "2024-03"]
    assert rows[top + 2][1:5] == [None, None, None, None]  # January was never imported
    rates = [runs[m].metrics.active_rate for m in ("2024-02", "2024-03")]
    assert rows[top + 5][3] == "目标期平均月活率" and rows[top + 5][4] == pytest.approx(sum(rates) / 2)
    notes = [r[0] for r in rows if isinstance(r[0], str)]
    assert "2024-01 没有历史记录，实际值留空" in notes and "目标期已全部在历史中，没有需要预测的月份" in notes


def test_half_year_mean_and_peak_under_the_history(runs: dict[str, TagResult]) -> None:
    aug = runs["2024-08"]
    rows = cells(aug.output, "总览")
    head = find(rows, "月份")
    names = rows[head]
    months = [r[0] for r in rows[head + 1:head + 8]]
    assert months == ["2024-02", "2024-03", "2024-04", "2024-05", "2024-06", "2024-07", "2024-08"]
    mean, peak = rows[head + 8], rows[head + 9]
    assert mean[0] == "过往半年均值（2024-03 至 2024-08）" and peak[0] == "过往半年峰值（2024-03 至 2024-08）"
    half = [runs[m].metrics for m in months[1:]]
    mau, rate = names.index("MAU"), names.index("月活率")
    assert mean[mau] == pytest.approx(sum(t.mau for t in half) / 6) and peak[mau] == max(t.mau for t in half)
    assert peak[rate] == pytest.approx(max(t.active_rate for t in half))
    old = names.index("老用户次月留存率")
    assert mean[old] == pytest.approx(sum(t.rates["old_retention"] for t in half) / 6)
    assert mean[names.index("目标月活率")] is None
    formulas = cells(aug.output, "总览", values=False)
    letter = openpyxl.utils.get_column_letter(mau + 1)
    area = f"${letter}${head + 3}:${letter}${head + 8}"  # March..August: 1-based rows of the last six months
    assert formulas[head + 8][mau] == f'=IF(COUNT({area})>0,AVERAGE({area}),"")'
    assert formulas[head + 9][mau] == f'=IF(COUNT({area})>0,MAX({area}),"")'
    assert find(rows, "说明") == head + 11


def test_a_period_years_ahead_is_refused_before_writing(tmp_path: Path, run_cli, samples: Path) -> None:
    path = tmp_path / "tagger.toml"
    path.write_text('[forecast]\ntarget_months = ["2027-01", "2027-02"]\n', encoding="utf-8")
    output = tmp_path / "far.xlsx"
    code, _, err = run_cli("tag", samples / "car_app_2024-07.csv", "--config", path, "--no-history", "-o", output)
    assert code == 2 and "forecast.target_months" in err and "24" in err and "Traceback" not in err
    assert not output.exists()
