"""Deadline rules: every type covered, area and subtype specificity, versions, chained clocks."""

from datetime import date

import pendulum
import pytest

from models.core.enums import AreaKind, TicketType
from models.tickets.calendar import WorkCalendar
from models.tickets.rules import (
    DEFAULT_RULES_FILE,
    RuleFileError,
    applicable_rules,
    due_times,
    read_rule_file,
)

RULES = read_rule_file(DEFAULT_RULES_FILE)
START = pendulum.parse("2026-11-24T15:00:00+08:00")


def dues(ticket_type, area=AreaKind.urban, subtype=None, rules=RULES, start=START):
    chosen = applicable_rules(rules, ticket_type, subtype, area, start.date())
    return {c.clock: c.due_at.isoformat() for c in due_times(chosen, start, WorkCalendar())}


@pytest.mark.parametrize("ticket_type", list(TicketType))
def test_every_ticket_type_has_a_deadline(ticket_type):
    assert dues(ticket_type)


@pytest.mark.parametrize("area, arrive, restore", [
    (AreaKind.urban, "2026-11-24T15:45:00+08:00", "2026-11-24T18:45:00+08:00"),
    (AreaKind.rural, "2026-11-24T16:30:00+08:00", "2026-11-24T20:30:00+08:00"),
    (AreaKind.remote, "2026-11-24T17:00:00+08:00", "2026-11-24T21:00:00+08:00"),
])
def test_fault_repair_arrival_by_area_and_restoration_after_arrival(area, arrive, restore):
    assert dues(TicketType.fault_repair, area) == {"arrive": arrive, "restore": restore}


def test_complaint_contact_in_24_hours_and_reply_in_4_working_days():
    assert dues(TicketType.complaint) == {"contact": "2026-11-25T15:00:00+08:00",
                                          "reply": "2026-11-30T15:00:00+08:00"}


def test_report_reply_in_9_working_days():
    assert dues(TicketType.report) == {"reply": "2026-12-07T15:00:00+08:00"}


def test_a_subtype_with_its_own_norms_replaces_the_general_rule():
    assert dues(TicketType.business, subtype="reconnection") == {
        "restore": "2026-11-25T15:00:00+08:00", "reply": "2026-11-25T15:00:00+08:00"}
    assert dues(TicketType.business, subtype="meter_data") == {"reply": "2026-12-02T15:00:00+08:00"}
    assert dues(TicketType.business, subtype="unknown_kind") == {"reply": "2026-12-01T15:00:00+08:00"}


def test_newer_version_applies_from_its_effective_date_only(tmp_path):
    newer = tmp_path / "rules.yaml"
    newer.write_text(
        "version: local-2027\neffective_from: 2026-12-01\nrules:\n"
        "  - {type: complaint, clock: reply, label: 处理答复, span: 7 working_days}\n",
        encoding="utf-8")
    rules = RULES + read_rule_file(newer)
    assert dues(TicketType.complaint, rules=rules)["reply"] == "2026-11-30T15:00:00+08:00"
    later = pendulum.parse("2026-12-01T10:00:00+08:00")
    assert dues(TicketType.complaint, rules=rules, start=later) == {
        "reply": "2026-12-10T10:00:00+08:00"}


@pytest.mark.parametrize("body, where, zh", [
    ("version: x\neffective_from: 2026-01-01\nrules:\n  - {type: nonsense, clock: a, label: b, span: 1 hours}\n",
     "rules.0.type", "取值无效，可选：consultation（咨询查询）、fault_repair（故障报修）、"
                     "complaint（投诉）、report（举报）、opinion（意见）、suggestion（建议）、business（用电业务）"),
    ("version: x\neffective_from: 2026-01-01\nrules:\n  - {type: complaint, clock: a, label: b, span: 3 weeks}\n",
     "rules.0.span", "时长应写作“45 minutes”“24 hours”或“4 working_days”"),
    ("version: x\nrules: []\n", "effective_from", "必填"),
])
def test_bad_rule_file_names_the_field(tmp_path, body, where, zh):
    path = tmp_path / "bad.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(RuleFileError, match=where) as caught:
        read_rule_file(path)
    assert caught.value.zh == f"{where}：{zh}"
    assert "Value error" not in str(caught.value)  # pydantic's wording stays out of the message


def test_no_rule_before_the_first_version():
    assert applicable_rules(RULES, TicketType.complaint, None, AreaKind.urban, date(2019, 1, 1)) == []
