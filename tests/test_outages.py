"""The outage register on SQLite and PostgreSQL: the distribution system's export imported whole
or not at all (by the CLI), a fault call in an outage's area told its reason and restore time and
linked without a crew, the intake page's list, restoration meeting the linked calls' clocks,
planned-outage notices queued once per customer at the lead time of the rules, and the customers
told sent one change notice per move of the window and one cancellation notice."""

import csv
from pathlib import Path

import pendulum
import pytest
from sqlalchemy import func, select, update

from models.core.enums import StepStatus
from models.messaging.outbox import MessageChannel, OutboxMessage
from models.org.customer import Customer
from models.org.organisation import Region, Staff
from models.outages.outage import Outage, OutageKind, OutageStatus
from models.tickets.ticket import Step
from tasks.core.db import session_scope
from tasks.org.scope import Scope, region_subtree
from tasks.outages import register
from tasks.outages.notices import notice_pass, send_notices, window_text
from tasks.tickets import queries
from tasks.tickets.links import master_of
from tasks.tickets.store import get_ticket
from tests.cli import run_cli
from tests.test_fault_repair import advance, create

ZONE = "Asia/Shanghai"
NOW = pendulum.now("UTC")
HEADER = ["停电编号", "停电类型", "停电区域", "停电线路", "停电开始时间", "预计恢复时间", "停电原因", "状态"]


@pytest.fixture
def centre(db_url, capsys):
    assert run_cli(capsys, "demo", "seed", "--tickets", "0").code == 0
    return db_url


def local(moment) -> str:
    return moment.in_timezone(ZONE).format("YYYY-MM-DD HH:mm")


def export(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8-sig") as handle:
        csv.writer(handle).writerows([HEADER, *rows])
    return path


def outage_row(number, start, *, kind="计划停电", units="320102", hours=4,
               reason="10kV线路检修", status=""):
    return [number, kind, units, "10kV 玄武线、10kV 中山线", local(start),
            local(start.add(hours=hours)), reason, status]


def outages(url: str) -> dict[str, Outage]:
    with session_scope(url) as session:
        found = session.scalars(select(Outage)).all()
        return {o.number: (o.kind.value, o.status.value, sorted(a.region_id for a in o.areas))
                for o in found}


def test_an_export_with_a_bad_row_writes_nothing_and_a_good_one_is_upserted(centre, capsys,
                                                                              tmp_path):
    start = NOW.add(days=3)
    bad = export(tmp_path / "bad.csv", [
        outage_row("TD001", start),
        outage_row("TD002", start, units="999999"),
        outage_row("TD003", start, hours=-1),
        outage_row("TD001", start, kind="大修"),
        outage_row("TD001", start),
    ])
    result = run_cli(capsys, "outages", "import", str(bad))
    assert result.code == 1
    assert result.err.splitlines()[1:] == [
        "  第 3 行 row 3: 供电单位“999999”不存在",
        "  第 4 行 row 4: 预计恢复时间应晚于停电开始时间",
        "  第 5 行 row 5: 停电类型“大修”无效，可选：计划停电/临时检修",
        "  第 6 行 row 6: 停电编号“TD001”在文件中重复"]
    assert outages(centre) == {}
    good = export(tmp_path / "good.csv", [outage_row("TD001", start),
                                          outage_row("TD002", start, units="3201 320213")])
    assert run_cli(capsys, "outages", "import", str(good)).out.startswith(
        "共 2 行：新增 2，更新 0，未变 0")
    assert run_cli(capsys, "outages", "import", str(good)).out.startswith(
        "共 2 行：新增 0，更新 0，未变 2")
    moved = export(tmp_path / "moved.csv", [outage_row("TD002", start, units="320213",
                                                       status="取消")])
    assert run_cli(capsys, "outages", "import", str(moved)).out.startswith(
        "共 1 行：新增 0，更新 1，未变 0")
    with session_scope(centre) as session:
        codes = dict(session.execute(select(Region.code, Region.id)).all())
    assert outages(centre) == {
        "TD001": ("planned", "planned", [codes["320102"]]),
        "TD002": ("planned", "cancelled", [codes["320213"]])}


def test_a_fault_call_in_an_outage_area_is_told_its_reason_and_linked_without_a_crew(
        centre, capsys, tmp_path):
    """The outage covers the city (3201): a call from one of its counties is linked to it,
    told the reason and the expected restore, and no repair crew is dispatched; the restoration
    meets the call's clocks. A call elsewhere still goes to the crew."""
    start = NOW.subtract(hours=1)
    plan = export(tmp_path / "plan.csv", [outage_row("TD100", start, units="3201",
                                                     reason="变压器更换")])
    assert run_cli(capsys, "outages", "import", str(plan)).code == 0
    with session_scope(centre) as session:
        customer = session.scalar(select(Customer).where(Customer.region.has(code="320102"))
                                  .order_by(Customer.id))
        agent = session.scalar(select(Staff).where(Staff.code == "S0100"))
        listed = queries.caller(session, Scope(session, agent), customer.phone, 25, NOW).outages
        assert [o.number for o in listed] == ["TD100"]
    caller = create(capsys, NOW)
    assert advance(centre, caller) is None  # closed at once: nothing for anyone to do
    elsewhere = create(capsys, NOW, region="320213")
    assert advance(centre, elsewhere).step_key == "arrive"
    with session_scope(centre) as session:
        ticket = get_ticket(session, caller)
        assert [s.step_key for s in ticket.steps] == ["known_fault", "inform", "close_linked"]
        assert session.get(Outage, ticket.outage_id).number == "TD100"
        assert master_of(session, ticket.id) is None
        check = ticket.steps[0].form_data
        assert (check["result"], check["outage_no"], check["reason"]) == \
            ("known", "TD100", "变压器更换")
        sms = session.scalars(select(OutboxMessage.body_text).where(
            OutboxMessage.ticket_id == ticket.id, OutboxMessage.template == "known_fault")).all()
        assert sms == [f"【国网95598】尊敬的客户，您反映的停电问题（工单号{caller}）：所在区域计划停电，"
                       f"原因：变压器更换，预计{local(start.add(hours=4))}恢复供电，恢复后不再另行"
                       f"通知，请耐心等待。"]
        assert session.scalar(select(func.count()).select_from(Step).where(
            Step.ticket_id == ticket.id, Step.status == StepStatus.open)) == 0
        outage = session.scalar(select(Outage).where(Outage.number == "TD100"))
        restored_at = NOW.add(minutes=30)
        assert register.restore(session, outage, at=restored_at, by="S0001", now=restored_at) == 1
        assert {c.met_at for c in get_ticket(session, caller).clocks} == {restored_at}
    later = create(capsys, NOW.add(hours=1))  # after the restoration: the crew goes
    assert advance(centre, later).step_key == "arrive"


def test_an_outage_opened_from_a_repair_ticket_is_the_known_fault_and_restores_with_it(
        centre, capsys):
    master = create(capsys, NOW.subtract(minutes=30))
    assert advance(centre, master).step_key == "arrive"
    with session_scope(centre) as session:
        ticket = get_ticket(session, master)
        outage = register.open_from_ticket(session, ticket, reason="电缆被挖断",
                                           restore_at=NOW.add(hours=2), lines=("10kV 玄武线",),
                                           by="S0001", now=NOW)
        assert (outage.number, outage.status) == (f"GZ{master}", OutageStatus.active)
    neighbour = create(capsys, NOW)
    advance(centre, neighbour)
    with session_scope(centre) as session:
        assert session.get(Outage, get_ticket(session, neighbour).outage_id).number == f"GZ{master}"


def important_customers(url: str, region: str, count: int) -> set[int]:
    with session_scope(url) as session:
        root = session.scalar(select(Region.id).where(Region.code == region))
        ids = session.scalars(select(Customer.id).where(
            Customer.region_id.in_(region_subtree(session, root))).order_by(Customer.id)).all()
        session.execute(update(Customer).where(Customer.id.in_(ids[:count]))
                        .values(important=True))
        return set(ids)


def noticed(url: str) -> dict[str, int]:
    with session_scope(url) as session:
        rows = session.scalars(select(OutboxMessage.key).where(
            OutboxMessage.template == "outage_notice")).all()
        counts: dict[str, int] = {}
        for key in rows:
            outage_id = int(key.split(":")[1])
            number = session.get(Outage, outage_id).number
            counts[number] = counts.get(number, 0) + 1
        return counts


def test_planned_outages_are_noticed_once_per_customer_at_their_lead_time(centre, capsys,
                                                                           tmp_path):
    """A planned outage: every customer of its area 7 days ahead; temporary maintenance: only
    the key customers, 24 hours ahead; each once, however often the schedule runs."""
    in_area = important_customers(centre, "320102", 2)
    start = NOW.add(days=10)
    plan = export(tmp_path / "plan.csv", [
        outage_row("TD200", start), outage_row("TD201", start, kind="临时检修"),
        outage_row("TD202", start, status="取消")])
    assert run_cli(capsys, "outages", "import", str(plan)).code == 0

    def run(at):
        with session_scope(centre) as session:
            return send_notices(session, now=at, timezone=ZONE)

    assert run(start.subtract(days=7, minutes=1)) == {}
    assert run(start.subtract(days=7)) == {"TD200": len(in_area)}
    assert run(start.subtract(days=7)) == {"TD200": 0}
    assert run(start.subtract(hours=24, minutes=1)) == {"TD200": 0}
    assert run(start.subtract(hours=24)) == {"TD200": 0, "TD201": 2}
    assert run(start.subtract(hours=1)) == {"TD200": 0, "TD201": 0}
    assert run(start) == {}
    assert noticed(centre) == {"TD200": len(in_area), "TD201": 2}
    with session_scope(centre) as session:
        body = session.scalar(select(OutboxMessage.body_text).where(
            OutboxMessage.key.like("outage:%")).order_by(OutboxMessage.id))
    assert body == (f"【国网95598】尊敬的客户，因10kV线路检修，您所在区域（玄武区）将于{local(start)}至"
                    f"{local(start.add(hours=4))}计划停电，涉及线路：10kV 玄武线、10kV 中山线，"
                    f"请提前做好准备。停电编号TD200，如有疑问请拨打95598。")


def sms_by_customer(url: str, number: str) -> dict[int, list[tuple[str, str]]]:
    """Each customer's messages about one outage, oldest first: [(template, text)]."""
    with session_scope(url) as session:
        outage_id = session.scalar(select(Outage.id).where(Outage.number == number))
        rows = session.execute(select(OutboxMessage.key, OutboxMessage.template,
                                      OutboxMessage.body_text, OutboxMessage.channel)
                               .where(OutboxMessage.key.like(f"outage:{outage_id}:%"))
                               .order_by(OutboxMessage.id)).all()
    found: dict[int, list[tuple[str, str]]] = {}
    for key, template, text, channel in rows:
        assert channel.value == "sms"
        found.setdefault(int(key.split(":")[-2]), []).append((template, text))
    return found


def pass_at(url: str, at):
    with session_scope(url) as session:
        done = notice_pass(session, now=at, timezone=ZONE)
    return done.notices, done.changes, done.cancellations


def change_text(number: str, start, hours: int, *, kind="计划停电") -> str:
    return (f"【国网95598】尊敬的客户，您所在区域（玄武区）的{kind}（停电编号{number}）时间有变更，"
            f"现调整为{local(start)}至{local(start.add(hours=hours))}，请以本通知为准并提前做好准备。"
            f"如有疑问请拨打95598。")


def test_a_moved_window_is_told_once_per_move_to_the_customers_told_only(centre, capsys,
                                                                         tmp_path):
    """TD300 (everyone, 7 days ahead) is told, then moved twice and back and forth: each told
    customer gets one change SMS per move with the new times, and re-runs send nothing more.
    TD301 (temporary: key customers only) moves: only the two key customers hear of it.
    TD302 moves before its notice time: its customers simply get the notice of the new window."""
    in_area = important_customers(centre, "320102", 2)
    start = NOW.add(days=10)
    told_at = start.subtract(days=7)

    def plan(name, *rows):
        assert run_cli(capsys, "outages", "import",
                       str(export(tmp_path / f"{name}.csv", list(rows)))).code == 0

    plan("first", outage_row("TD300", start), outage_row("TD301", start, kind="临时检修"),
         outage_row("TD302", start.add(days=8)))
    assert pass_at(centre, told_at) == ({"TD300": len(in_area)}, {}, {})
    assert pass_at(centre, start.subtract(hours=24)) == ({"TD300": 0, "TD301": 2}, {}, {})
    assert pass_at(centre, start.subtract(hours=24)) == ({"TD300": 0, "TD301": 0}, {}, {})

    moved = start.add(days=1, hours=2)
    plan("moved", outage_row("TD300", moved), outage_row("TD301", start, kind="临时检修", hours=6),
         outage_row("TD302", start.add(days=9)))
    at = start.subtract(hours=20)
    assert pass_at(centre, at) == ({"TD300": 0, "TD301": 0}, {"TD300": len(in_area),
                                                              "TD301": 2}, {})
    assert pass_at(centre, at) == ({"TD300": 0, "TD301": 0}, {}, {})
    td300 = sms_by_customer(centre, "TD300")
    assert set(td300) == in_area
    assert {c: [t for t, _ in sms] for c, sms in td300.items()} == {
        c: ["outage_notice", "outage_change"] for c in in_area}
    assert {sms[1][1] for sms in td300.values()} == {change_text("TD300", moved, 4)}
    td301 = sms_by_customer(centre, "TD301")
    assert len(td301) == 2 and {sms[-1][1] for sms in td301.values()} == {
        change_text("TD301", start, 6, kind="临时检修")}

    again = moved.add(hours=3)  # a second move: one more each; then back to the first window
    plan("again", outage_row("TD300", again))
    assert pass_at(centre, at)[1:] == ({"TD300": len(in_area)}, {})
    plan("back", outage_row("TD300", moved))
    assert pass_at(centre, at)[1:] == ({"TD300": len(in_area)}, {})
    assert pass_at(centre, at.add(hours=1))[1:] == ({}, {})
    texts = [text for _, text in sms_by_customer(centre, "TD300")[min(in_area)]]
    assert texts[1:] == [change_text("TD300", moved, 4), change_text("TD300", again, 4),
                         change_text("TD300", moved, 4)]

    # TD302 moved before anyone was told: the notice, when due, says the new window; no change
    td302_at = start.add(days=9).subtract(days=7)
    assert pass_at(centre, td302_at)[0]["TD302"] == len(in_area)
    assert pass_at(centre, td302_at)[1:] == ({}, {})
    assert {[t for t, _ in sms][-1] for sms in sms_by_customer(centre, "TD302").values()} == {
        "outage_notice"}


def test_a_cancelled_outage_is_told_once_to_the_customers_told_and_never_before(centre, capsys,
                                                                                tmp_path):
    """TD400 is told, then cancelled on the board (register.cancel): one cancellation SMS per
    customer told, nothing after; TD401, cancelled by the export after its notice, the same.
    TD402, cancelled before its notice time, and TD403, cancelled before any pass, tell no one."""
    in_area = important_customers(centre, "320102", 0)
    start = NOW.add(days=10)
    rows = [outage_row(n, start) for n in ("TD400", "TD401", "TD403")]
    rows.append(outage_row("TD402", start.add(days=5)))
    assert run_cli(capsys, "outages", "import", str(export(tmp_path / "plan.csv", rows))).code == 0
    with session_scope(centre) as session:
        register.cancel(session, register.find_outage(session, "TD403"))
    assert pass_at(centre, start.subtract(days=7)) == (
        {"TD400": len(in_area), "TD401": len(in_area)}, {}, {})
    with session_scope(centre) as session:
        register.cancel(session, register.find_outage(session, "TD400"))
        register.cancel(session, register.find_outage(session, "TD402"))
    assert run_cli(capsys, "outages", "import", str(export(tmp_path / "cancel.csv", [
        outage_row("TD401", start, status="取消")]))).code == 0

    result = run_cli(capsys, "outages", "notices")  # the CLI's pass, at the real clock
    assert result.code == 0
    assert result.out.splitlines() == [
        f"TD400: 取消通知 {len(in_area)} 条 | {len(in_area)} cancellation notices queued",
        f"TD401: 取消通知 {len(in_area)} 条 | {len(in_area)} cancellation notices queued"]
    assert pass_at(centre, start.subtract(days=6)) == ({}, {}, {})
    assert pass_at(centre, start.add(days=5).subtract(days=7)) == ({}, {}, {})
    for number in ("TD400", "TD401"):
        told = sms_by_customer(centre, number)
        assert set(told) == in_area
        assert {tuple(t for t, _ in sms) for sms in told.values()} == {
            ("outage_notice", "outage_cancel")}
        assert {sms[1][1] for sms in told.values()} == {
            f"【国网95598】尊敬的客户，原定{local(start)}起在您所在区域（玄武区）实施的计划停电"
            f"（停电编号{number}）已取消，届时正常供电。如有疑问请拨打95598。"}
    assert sms_by_customer(centre, "TD402") == sms_by_customer(centre, "TD403") == {}
    # TD401 set back to 计划 by a later export: its customers hear its times again, once
    assert run_cli(capsys, "outages", "import", str(export(tmp_path / "again.csv", [
        outage_row("TD401", start)]))).code == 0
    assert pass_at(centre, start.subtract(days=6))[1:] == ({"TD401": len(in_area)}, {})
    assert pass_at(centre, start.subtract(days=6))[1:] == ({}, {})
    assert {sms[-1][1] for sms in sms_by_customer(centre, "TD401").values()} == {
        change_text("TD401", start, 4)}


def test_the_outage_messages_print_the_window_as_the_pass_reads_it():
    """The pass takes a message naming `window_text` for one that told the current window: the
    notice and the change must print it so, or every told customer would be sent a change."""
    from tasks.messaging.templates import load_templates, render

    outage = Outage(id=1, number="TD900", kind=OutageKind.planned, reason="检修", lines=[],
                    start_at=NOW, restore_at=NOW.add(hours=3), areas=[])
    context = {"outage_no": "TD900", "kind": "计划停电", "reason": "检修", "area": "玄武区",
               "lines": "", "start_at": outage.start_at, "restore_at": outage.restore_at}
    for template in ("outage_notice", "outage_change"):
        _, text, _ = render(load_templates(ZONE), MessageChannel.sms, template, context)
        assert window_text(outage, ZONE) in text


@pytest.mark.parametrize("empty_db_url", ["sqlite"], indirect=True)
def test_the_scheduled_flow_tells_notices_changes_and_cancellations(centre, capsys, tmp_path,
                                                                   prefect_harness):
    """The outage-notices deployment's flow, on a real Prefect server and the real clock: a
    notice, then a change when the outage moves, then a cancellation; each once."""
    from flows.outages import outage_notices

    in_area = len(important_customers(centre, "320102", 0))
    start = NOW.add(days=3)  # inside the 7 days: told at the first run
    plan = export(tmp_path / "plan.csv", [outage_row("TD500", start)])
    assert run_cli(capsys, "outages", "import", str(plan)).code == 0
    empty = {"notices": {}, "changes": {}, "cancellations": {}}
    assert outage_notices() == empty | {"notices": {"TD500": in_area}}
    moved = export(tmp_path / "moved.csv", [outage_row("TD500", start.add(days=1))])
    assert run_cli(capsys, "outages", "import", str(moved)).code == 0
    assert outage_notices() == empty | {"notices": {"TD500": 0}, "changes": {"TD500": in_area}}
    with session_scope(centre) as session:
        register.cancel(session, register.find_outage(session, "TD500"))
    assert outage_notices() == empty | {"cancellations": {"TD500": in_area}}
    assert outage_notices() == empty
    assert {tuple(t for t, _ in sms) for sms in sms_by_customer(centre, "TD500").values()} == {
        ("outage_notice", "outage_change", "outage_cancel")}
