"""Value layers (``[value_layers]``): RFM-style layers beside the lifecycle, as live formulas over
editable cuts on 参数, crossed with the groups on 价值分层, and usable in ``[[rules]]``."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from tagger.config import ValueLayers, load_config
from tagger.errors import ConfigError
from tagger.rules import load_rules
from tagger.value_layers import assign_layers, layer_cuts

from .workbook_cases import LAYERS_EXPECTED, LAYERS_QUANTILE_EXPECTED, LAYERS_QUANTILE_TOML, layers


def _frame(values: list[float | None], **others: list[float | None]) -> pd.DataFrame:
    return pd.DataFrame({"layer_value": values, **{f"layer_{k}": v for k, v in others.items()}}, dtype=float)


def test_quantile_cut_is_a_value_of_the_export() -> None:
    frame = _frame([10.0, 20.0, 30.0, 40.0, 50.0, None])
    cuts = layer_cuts(frame, ValueLayers(value="v", quantile=0.5))
    assert cuts.value == 30.0 and cuts.frequency is None and cuts.recency is None
    active = pd.Series([True, False, True, False, True, False])
    # Without frequency and recency columns: recent = active this month, potential = low value but active.
    keys = assign_layers(frame, active, ValueLayers(value="v", quantile=0.5), cuts).tolist()
    assert keys == ["potential", "general", "high_active", "high_sleeping", "high_active", "general"]


def test_thresholds_the_team_sets(tmp_path: Path) -> None:
    result = layers(tmp_path)
    got = dict(zip(result.users.frame["user_id"], result.tags["value_layer"], strict=True))
    assert got == LAYERS_EXPECTED
    fired = dict(zip(result.users.frame["user_id"], result.tags["rule"], strict=True))
    assert {k for k, v in fired.items() if v} == {"B", "G"}


def test_workbook_layers_are_formulas_over_named_cuts(tmp_path: Path) -> None:
    result = layers(tmp_path)
    book = openpyxl.load_workbook(result.output)
    assert book.sheetnames.index("价值分层") == book.sheetnames.index("分群流转") + 1
    for name, value in (("ValueCut", 1000), ("FreqCut", 3), ("RecencyCut", 30)):
        sheet, cell = next(iter(book.defined_names[name].destinations))
        assert sheet == "参数" and book[sheet][cell.replace("$", "")].value == value
    users = book["用户明细"]
    header = [c.value for c in users[1]]
    formula = users.cell(2, header.index("价值分层") + 1).value
    assert "ValueCut" in formula and "FreqCut" in formula and "RecencyCut" in formula
    cached = openpyxl.load_workbook(result.output, data_only=True)
    layer_of = {r[0]: r[header.index("价值分层")] for r in cached["用户明细"].iter_rows(min_row=2, values_only=True)}
    assert layer_of == {"A": "高价值活跃", "B": "高价值沉睡", "C": "潜力", "D": "一般", "E": "一般", "F": "高价值活跃",
                        "G": "高价值沉睡"}
    sheet = book["价值分层"]
    rows = list(sheet.iter_rows(values_only=True))
    head = next(r for r in rows if r[0] == "价值分层 ↓ / 分群 →")
    assert sheet.cell(7, 2).value.startswith("=COUNTIFS('用户明细'!")
    values = {r[0]: r for r in cached["价值分层"].iter_rows(values_only=True) if r[0]}
    total = head.index("合计")
    assert [values[n][total] for n in ("高价值活跃", "高价值沉睡", "潜力", "一般", "合计")] == [2, 2, 1, 2, 7]
    assert values["高价值沉睡"][head.index("流失用户")] == 1  # B: last active in May
    notes = {r[0]: r[1] for r in book["说明"].iter_rows(values_only=True) if r and r[0]}
    assert "高价值沉睡" in notes["价值分层"] and "ValueCut" in notes["价值分层"]


def test_quantile_cuts_on_a_column_another_field_reads(tmp_path: Path) -> None:
    result = layers(tmp_path, toml=LAYERS_QUANTILE_TOML)
    assert dict(zip(result.users.frame["user_id"], result.tags["value_layer"], strict=True)) == LAYERS_QUANTILE_EXPECTED
    book = openpyxl.load_workbook(result.output)
    users = book["用户明细"]
    header = [c.value for c in users[1]]
    letter = users.cell(1, header.index("近三个月参与活动次数") + 1).column_letter
    assert f"N({letter}2)>=FreqCut" in users.cell(2, header.index("价值分层") + 1).value
    assert users.cell(2, header.index("近三个月参与活动次数") + 1).value == 0  # a number, not the text "0"
    params = {r[2]: r[1] for r in book["参数"].iter_rows(values_only=True) if r and len(r) > 2 and r[2]}
    assert params["ValueCut"] == 1000 and params["FreqCut"] == 2 and "RecencyCut" not in params


def test_english_names_and_renamed_layers(tmp_path: Path) -> None:
    toml = ('[value_layers]\nvalue = "近三个月消费金额"\nquantile = 0.5\n'
            '[value_layers.names]\nhigh_active = "金牌"\npotential = { zh = "潜力股", en = "Rising" }\n')
    result = layers(tmp_path, toml=toml, lang="en")
    book = openpyxl.load_workbook(result.output)
    assert "Value layers" in book.sheetnames
    names = {r[0] for r in book["Value layers"].iter_rows(values_only=True) if r[0]}
    assert {"金牌", "High value, sleeping", "Rising", "General"} <= names


def test_without_value_layers_nothing_changes(tmp_path: Path) -> None:
    result = layers(tmp_path, toml="")
    assert "value_layer" not in result.tags
    book = openpyxl.load_workbook(result.output)
    assert "价值分层" not in book.sheetnames and "ValueCut" not in book.defined_names
    assert "价值分层" not in [c.value for c in book["用户明细"][1]]


@pytest.mark.parametrize("body,key", [
    ('[value_layers]\nfrequency = "订单数"\n', "value_layers.value"),
    ('[value_layers]\nvalue = "消费"\nmethod = "rfm"\n', "value_layers.method"),
    ('[value_layers]\nvalue = "消费"\nquantile = 1.5\n', "value_layers.quantile"),
    ('[value_layers]\nvalue = "消费"\nmethod = "thresholds"\n', "value_layers.value_min"),
    ('[value_layers]\nvalue = "消费"\n[value_layers.names]\nvip = "贵宾"\n', "value_layers.names.vip"),
    ('[value_layers]\nvalue = "消费"\n[value_layers.names]\npotential = "一般"\n', "value_layers.names"),
    ('[value_layers]\nvalue = "消费"\n[value_layers.names]\ngeneral = "<500"\n', "value_layers.names.general"),
])
def test_bad_value_layers_are_config_errors(tmp_path: Path, body: str, key: str) -> None:
    path = tmp_path / "tagger.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_config(path)


def test_rule_value_layer_needs_value_layers_and_a_known_name(tmp_path: Path) -> None:
    path = tmp_path / "tagger.toml"
    path.write_text('[[rules]]\nvalue_layer = "high_active"\nchannel = "sms"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[value_layers\]"):
        load_rules(load_config(path))
    path.write_text('[value_layers]\nvalue = "消费"\n[[rules]]\nvalue_layer = "金牌"\nchannel = "sms"\n',
                    encoding="utf-8")
    with pytest.raises(ConfigError, match="high_active"):
        load_rules(load_config(path))


def test_missing_value_column_exits_2_with_one_line(run_cli, tmp_path: Path) -> None:
    (tmp_path / "tagger.toml").write_text('[value_layers]\nvalue = "累计里程"\n', encoding="utf-8")
    export = tmp_path / "e_2024-07.csv"
    export.write_text("用户ID,注册时间,最近一次活跃时间\nA,2024-01-01,2024-07-02\n", encoding="utf-8")
    code, out, err = run_cli("tag", export, "--no-history", "-o", tmp_path / "o.xlsx", "--config",
                             tmp_path / "tagger.toml")
    assert code == 2
    errors = [line for line in err.splitlines() if "累计里程" in line]
    assert len(errors) == 1 and "Traceback" not in err and "[value_layers]" in errors[0]


def test_contacts_list_the_layer_a_rule_names(tmp_path: Path) -> None:
    import csv

    from tagger.contacts import ContactOptions, make_contacts
    from tagger.pipeline import TagOptions

    layers(tmp_path)  # writes the export and the config with the 高价值沉睡 rule
    done = make_contacts(ContactOptions(
        tag=TagOptions(export=tmp_path / "layers_2024-07.csv", config=tmp_path / "tagger.toml",
                       history=tmp_path / "h.sqlite"), out_dir=tmp_path / "lists", holdout=0, seed=1,
        date="2024-07-20"))
    (sms,) = [c for c in done.lists if c.channel == "sms"]
    listed = next(p for p in sms.files if p.suffix == ".csv")
    rows = list(csv.DictReader(listed.open(encoding="utf-8-sig", newline="")))
    assert sorted(r["用户ID"] for r in rows) == ["B", "G"]
