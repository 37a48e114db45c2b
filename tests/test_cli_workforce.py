"""Call import, forecast and staffing through the CLI, against real SQLite and PostgreSQL."""

from datetime import date

import pytest
import yaml
from openpyxl import Workbook
from sqlalchemy import func, select

from bench.callgen import generate, write_csv
from models.workforce.config import DEFAULT_FILE, load_workforce_config
from models.workforce.tables import CallRecord, StaffingPlan
from tasks.core.db import session_scope
from tests.cli import run_cli

NOW = "2026-11-23T08:00:00+08:00"


def count(url, table) -> int:
    with session_scope(url) as session:
        return session.scalar(select(func.count()).select_from(table))


def import_history(capsys, tmp_path, groups: int, first: date, *, seed: int) -> dict:
    """Generated call history up to the day before NOW, imported through the CLI."""
    history = generate(groups, first, date(2026, 11, 22), scale=0.2, seed=seed)
    path = tmp_path / "calls.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        write_csv(history, handle)
    assert run_cli(capsys, "calls", "import", str(path)).code == 0
    return history


def test_import_lists_bad_rows_by_number_and_lands_the_good_ones(db_url, tmp_path, capsys):
    book = Workbook()
    sheet = book.active
    sheet.append(["话单编号", "呼入时间", "业务组", "是否接通", "等待时长", "通话时长", "话后处理时长"])
    sheet.append(["c1", "2026-11-20 09:01:00", "咨询查询", "是", 5, 120, 30])
    sheet.append(["c2", "昨天上午", "咨询查询", "是", 5, 120, 30])          # row 3: bad time
    sheet.append(["c3", "2026-11-20 09:02:00", "故障报修", "也许", 5, 0, 0])  # row 4: bad answered
    sheet.append(["c4", "2026-11-20 09:03:00", "故障报修", "放弃", -1, 0, 0])  # row 5: negative wait
    sheet.append(["c5", "2026-11-20T09:04:00+08:00", "故障报修", "放弃", 40, "", ""])
    sheet.append(["c1", "2026-11-20 09:01:00", "咨询查询", "是", 5, 120, 30])  # repeated id
    path = tmp_path / "calls.xlsx"
    book.save(path)

    result = run_cli(capsys, "calls", "import", str(path), "--json")
    assert result.code == 1
    report = result.json()
    assert report["added"] == 2 and report["duplicates"] == 1
    assert [(b["row"], b["field"]) for b in report["bad"]] == [
        (3, "offered_at"), (4, "answered"), (5, "wait_s")]
    with session_scope(db_url) as session:
        first = session.scalar(select(CallRecord).where(CallRecord.call_id == "c1"))
        assert first.offered_at.isoformat() == "2026-11-20T01:01:00+00:00"  # local time read as +08:00
        assert first.answered and first.talk_s == 120
    again = run_cli(capsys, "calls", "import", str(path))
    assert "导入话单 0 条，重复跳过 3 条，错误 3 行" in again.out and "第 4 行" in again.out
    assert count(db_url, CallRecord) == 2


def test_forecast_beats_seasonal_naive_and_staffing_meets_each_target(db_url, tmp_path, capsys):
    history = import_history(capsys, tmp_path, 2, date(2026, 10, 12), seed=7)

    forecast = run_cli(capsys, "forecast", "--days", "7", "--now", NOW, "--json")
    assert forecast.code == 0, forecast.err
    groups = forecast.json()
    assert {g["group"] for g in groups} == set(history)
    for group in groups:
        assert len(group["intervals"]) == 7 * 48
        assert group["intervals"][0]["start"] == "2026-11-24T00:00:00+08:00"
        assert group["backtest"]["mape"] < group["backtest"]["seasonal_naive_mape"]
        # Workday mornings are busier than the small hours.
        assert group["intervals"][20]["calls"] > 3 * group["intervals"][6]["calls"]
    plain = run_cli(capsys, "forecast", "--days", "2", "--now", NOW)
    assert "回测 MAPE" in plain.out and "季节朴素法" in plain.out

    staffing = run_cli(capsys, "staffing", "--now", NOW, "--json")
    assert staffing.code == 0, staffing.err
    config = load_workforce_config()
    for group in staffing.json():
        target = config.target(group["group"])
        assert 150 < group["aht_s"] < 250
        for i in group["intervals"]:
            assert i["service_level"] >= target.service_level
            assert i["occupancy"] <= target.max_occupancy
            assert i["rostered"] * (1 - target.shrinkage) >= i["agents"] - 1e-9
    assert count(db_url, StaffingPlan) == 2 * 48
    assert run_cli(capsys, "staffing", "--now", NOW).code == 0
    assert count(db_url, StaffingPlan) == 2 * 48  # a re-run replaces, never doubles


def test_a_loaded_official_schedule_plans_its_holidays(db_url, tmp_path, capsys):
    # Nine weeks with National Day in them, so the history shows what a holiday does to the calls.
    import_history(capsys, tmp_path, 1, date(2026, 9, 21), seed=11)

    def calls_per_day() -> list[float]:  # 2027-01-01 (Friday) to 01-04 (Monday)
        result = run_cli(capsys, "forecast", "--from", "2027-01-01", "--days", "4", "--now", NOW,
                         "--json")
        assert result.code == 0, result.err
        calls = [i["calls"] for i in result.json()[0]["intervals"]]
        return [sum(calls[d * 48:(d + 1) * 48]) for d in range(4)]

    unknown_year = calls_per_day()  # chinese-calendar stops at 2026: New Year's Day is a Friday
    official, local = tmp_path / "2027.csv", tmp_path / "local.csv"
    official.write_text("2027-01-01,休,元旦\n", encoding="utf-8")
    local.write_text("2027-01-04,休,中心培训\n", encoding="utf-8")
    assert run_cli(capsys, "calendar", "load", str(official)).code == 0
    assert run_cli(capsys, "calendar", "load", "--local", str(local)).code == 0
    loaded = calls_per_day()
    assert loaded[0] < 0.75 * unknown_year[0]  # planned as a holiday now
    # The weekend, and the centre's own day off (callers still call), are planned as before.
    assert loaded[1:] == pytest.approx(unknown_year[1:])


def test_a_bad_workforce_file_is_refused_naming_the_group_and_field(tmp_path, monkeypatch, capsys):
    settings = yaml.safe_load(DEFAULT_FILE.read_text("utf-8"))
    path = tmp_path / "workforce.yaml"
    monkeypatch.setenv("GRIDLINE_WORKFORCE_FILE", str(path))
    for differences, named in (({"service_level": 1.5}, "故障报修.service_level"),
                               ({"servce_level": 0.9}, "故障报修.servce_level")):  # no silent typo
        settings["groups"] = {"故障报修": differences}
        path.write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
        result = run_cli(capsys, "staffing", "--now", NOW)
        assert result.code == 2 and "排班配置无效" in result.err and named in result.err
        assert len(result.err.strip().splitlines()) == 1


def test_a_workforce_file_naming_a_step_no_lifecycle_has_is_refused(db_url, tmp_path, monkeypatch,
                                                                    capsys):
    path = tmp_path / "workforce.yaml"
    path.write_text(DEFAULT_FILE.read_text("utf-8").replace("callback_steps: [callback]",
                                                            "callback_steps: [callbak]"), "utf-8")
    monkeypatch.setenv("GRIDLINE_WORKFORCE_FILE", str(path))
    result = run_cli(capsys, "staffing", "--now", NOW)
    assert result.code == 2 and len(result.err.strip().splitlines()) == 1
    assert "workforce.yaml:31: callback_steps.0" in result.err and "没有这个流程环节：callbak" in result.err


def test_planning_without_history_or_with_a_bad_date_says_so(db_url, capsys):
    result = run_cli(capsys, "staffing", "--now", NOW)
    assert result.code == 2 and "gridline calls import" in result.err
    result = run_cli(capsys, "forecast", "--from", "next week", "--now", NOW)
    assert result.code == 2 and "from" in result.err
