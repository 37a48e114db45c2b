"""`gridline org import` as a centre going live would run it, on SQLite and PostgreSQL: a file
with mistakes refused whole, the same file twice, a changed file, a dry run, GBK csv, and a
marketing export without a unit column landing once the organisation is in."""

import pendulum
from openpyxl import Workbook
from sqlalchemy import func, select

from models.messaging.outbox import OutboxMessage
from models.org.organisation import Department, Region, Staff
from models.tickets.ticket import Ticket
from tasks.core.db import session_scope
from tasks.org.sessions import set_password
from tests.cli import run_cli
from tests.org_files import tables, write_csvs, write_xlsx, write_yaml
from tests.portal import browser, csrf_of, portal_app, serve

PASSWORD = "harbour-lights-204"


def counts(url: str) -> tuple[int, int, int, int]:
    with session_scope(url) as session:
        return tuple(session.scalar(select(func.count()).select_from(model))
                     for model in (Region, Department, Staff, OutboxMessage))


def test_a_file_with_every_kind_of_mistake_is_refused_whole(db_url, tmp_path, capsys):
    sheets = tables()
    units, departments, staff = (sheets[k][1] for k in ("单位", "部门", "人员"))
    units += [["3299", "某市", "3288", "市", "城市"],          # row 7: unknown parent
              ["3301", "甲市", "3302", "市", "城市"],          # row 8: a cycle ...
              ["3302", "乙市", "3301", "市", "城市"],          # row 9: ... of two
              ["3201", "南京又一次", "32", "市", "城市"],       # row 10: duplicate code
              ["3203", "徐州", "32", "镇", "城市"]]            # row 11: unknown level
    departments += [["XX-QX", "无主抢修班", "3288", "抢修"]]   # row 10: unknown unit
    staff += [["N010", "钱某", "NJ-CC", "坐席", "12345", "", "", "是"],              # row 9
              ["N011", "孙某", "NJ-CC", "坐席", "13800000011", "not-an-email", "", "是"],  # 10
              ["N012", "李某", "NJ-CC", "坐席", "13800000012", "", "N999", "是"],     # row 11
              ["N013", "周某", "NJ-XX", "坐席", "13800000013", "", "", "是"],        # row 12
              ["N014", "吴某", "NJ-CC", "组长", "13800000014", "", "", "是"],        # row 13
              ["N015", "郑某", "NJ-CC", "坐席", "13800000015", "", "N016", "是"],    # row 14: ...
              ["N016", "冯某", "NJ-CC", "值班长", "13800000016", "", "N015", "是"]]  # each other's boss
    result = run_cli(capsys, "org", "import", str(write_xlsx(tmp_path / "org.xlsx", sheets)))
    assert result.code == 1
    assert result.err.splitlines() == [
        "文件有 13 处错误，未写入任何数据 | 13 bad row(s), nothing written:",
        "  单位 第 7 行：上级单位“3288”不存在",
        "  单位 第 8 行：上级单位形成循环（3301 是自己的上级）",
        "  单位 第 9 行：上级单位形成循环（3302 是自己的上级）",
        "  单位 第 10 行：编码“3201”重复（第 3 行已有）",
        "  单位 第 11 行：取值“镇”无效，可选：省/市/县/区",
        "  部门 第 10 行：所属单位“3288”不存在",
        "  人员 第 9 行：手机号码“12345”无效",
        "  人员 第 10 行：邮箱“not-an-email”无效",
        "  人员 第 11 行：上级工号“N999”不在人员表中",
        "  人员 第 12 行：所属部门“NJ-XX”不存在",
        "  人员 第 13 行：取值“组长”无效，可选：坐席/处理人/负责人/值班长/管理员/质检员",
        "  人员 第 14 行：上级工号形成循环",
        "  人员 第 15 行：上级工号形成循环",
    ]
    assert counts(db_url) == (0, 0, 0, 0)


def test_the_same_file_twice_changes_nothing(db_url, tmp_path, capsys):
    path = write_xlsx(tmp_path / "org.xlsx")
    first = run_cli(capsys, "org", "import", str(path))
    assert first.code == 0, first.err
    assert "单位：已新增 5，已更新 0 | units: created 5, changed 0" in first.out
    assert "人员：已新增 7，已更新 0 | staff: created 7, changed 0" in first.out
    # Each new staff member is sent a link: an SMS, and an e-mail where they have an address.
    assert counts(db_url) == (5, 8, 7, 7 + 3)
    with session_scope(db_url) as session:
        assert session.scalar(select(func.count()).select_from(Staff).where(
            Staff.password_hash.is_not(None))) == 0
        sms = session.scalar(select(OutboxMessage).where(OutboxMessage.recipient == "13900000002"))
        assert sms.template == "password_setup" and "/password/setup/" in sms.body_text
    second = run_cli(capsys, "org", "import", str(path))
    assert second.code == 0, second.err
    assert second.out.splitlines()[-1] == "没有任何变化 | nothing changed"
    assert counts(db_url) == (5, 8, 7, 10)


def test_a_changed_file_updates_and_deactivates(db_url, tmp_path, capsys):
    assert run_cli(capsys, "org", "import", str(write_yaml(tmp_path / "org.yaml"))).code == 0
    sheets = tables()
    sheets["单位"][1][3][1] = "苏州市供电公司"                       # renamed
    staff = sheets["人员"][1]
    staff[:] = [row for row in staff if row[0] != "S002"]            # left the company
    next(row for row in staff if row[0] == "N003")[7] = "否"         # on leave
    staff.append(["S004", "新坐席", "SZ-CC", "坐席", "13900000004", "", "S001", "是"])
    path = write_yaml(tmp_path / "org2.yaml", sheets)
    dry = run_cli(capsys, "org", "import", "--dry-run", str(path))
    assert dry.code == 0, dry.err
    assert "单位：（演练，未写入）将新增 0，将更新 1 | units: created 0, changed 1" in dry.out
    assert "人员：（演练，未写入）将停用 2 | staff deactivated 2: N003, S002" in dry.out
    assert "设置密码链接（短信/邮件）将发送：S004 | password set-up links to queue" in dry.out
    with session_scope(db_url) as session:
        assert session.scalar(select(Staff.active).where(Staff.code == "S002")) is True
        assert session.scalar(select(Staff.id).where(Staff.code == "S004")) is None
    result = run_cli(capsys, "org", "import", str(path))
    assert result.code == 0, result.err
    assert "  新增 created: S004" in result.out
    assert "人员：已停用 2 | staff deactivated 2: N003, S002" in result.out
    with session_scope(db_url) as session:
        active = dict(session.execute(select(Staff.code, Staff.active)).all())
        assert active == {"N001": True, "N002": True, "N009": True, "N003": False,
                          "S001": True, "S002": False, "S003": True, "S004": True}
        assert session.scalar(select(Region.name).where(Region.code == "3205")) == "苏州市供电公司"


def test_one_citys_file_leaves_the_other_citys_staff_as_they_are(db_url, tmp_path, capsys):
    assert run_cli(capsys, "org", "import", str(write_yaml(tmp_path / "org.yaml"))).code == 0
    sheets = tables()
    suzhou = {"单位": (sheets["单位"][0], [r for r in sheets["单位"][1] if r[0].startswith("3205")]),
              "部门": (sheets["部门"][0], [r for r in sheets["部门"][1]
                                        if r[0].startswith(("SZ-", "CS-"))]),
              "人员": (sheets["人员"][0], [r for r in sheets["人员"][1] if r[0] in ("S001", "S003")])}
    result = run_cli(capsys, "org", "import", str(write_yaml(tmp_path / "suzhou.yaml", suzhou)))
    assert result.code == 0, result.err
    assert "人员：已停用 1 | staff deactivated 1: S002" in result.out  # left Suzhou's centre
    with session_scope(db_url) as session:
        active = dict(session.execute(select(Staff.code, Staff.active)).all())
        assert active == {"N001": True, "N002": True, "N009": True, "N003": True,
                          "S001": True, "S002": False, "S003": True}


def test_a_quality_department_and_its_inspectors_by_their_short_words(db_url, tmp_path, capsys):
    sheets = tables()
    sheets["部门"][1].append(["NJ-ZJ", "南京质检组", "3201", "质检"])
    sheets["人员"][1].append(["N010", "钱质检", "NJ-ZJ", "质检员", "13800000010", "", "", "是"])
    result = run_cli(capsys, "org", "import", str(write_xlsx(tmp_path / "org.xlsx", sheets)))
    assert result.code == 0, result.err + result.out
    with session_scope(db_url) as session:
        inspector = session.scalar(select(Staff).where(Staff.code == "N010"))
        assert (inspector.role.value, inspector.department.kind.value) == ("inspector", "quality")


def test_gbk_csv_files_one_kind_each(db_url, tmp_path, capsys):
    paths = write_csvs(tmp_path, encoding="gbk")
    result = run_cli(capsys, "org", "import", *map(str, paths))
    assert result.code == 0, result.err
    with session_scope(db_url) as session:
        assert session.scalar(select(Department.name).where(Department.code == "SZ-CC")) \
            == "苏州95598客服中心"
    assert counts(db_url)[:3] == (5, 8, 7)


def test_a_unit_chain_without_a_repair_crew_is_warned_of(db_url, tmp_path, capsys):
    sheets = tables()
    sheets["部门"][1][:] = [row for row in sheets["部门"][1] if row[0] != "CS-QX"]
    sheets["人员"][1][:] = [row for row in sheets["人员"][1] if row[0] != "S003"]
    result = run_cli(capsys, "org", "import", str(write_xlsx(tmp_path / "org.xlsx", sheets)))
    assert result.code == 0
    assert result.err.splitlines() == [
        "警告：单位“320581”及其上级没有抢修班组，相应环节将派给客服中心 | warning"]


def test_a_marketing_export_without_a_unit_column_lands_after_an_org_import(
        db_url, tmp_path, capsys):
    assert run_cli(capsys, "org", "import", str(write_xlsx(tmp_path / "org.xlsx"))).code == 0
    book = Workbook()
    book.active.append(["工单编号", "业务类型", "工单内容", "受理时间", "处理期限", "工单状态",
                        "责任人", "责任人电话"])
    received = pendulum.now("Asia/Shanghai").subtract(hours=2)
    book.active.append(["YX2026120200001", "投诉", "营业厅排队太久", received.format("YYYY-MM-DD HH:mm"),
                        received.add(days=3).format("YYYY-MM-DD HH:mm"), "处理中", "王工",
                        "13800000003"])
    book.save(tmp_path / "export.xlsx")
    result = run_cli(capsys, "import", "tickets", str(tmp_path / "export.xlsx"))
    assert result.code == 0, result.err
    with session_scope(db_url) as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == "YX2026120200001"))
        assert ticket.region.code == "32"


def test_staff_who_left_can_no_longer_log_in(db_url, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GRIDLINE_VAR_DIR", str(tmp_path / "var"))
    assert run_cli(capsys, "org", "import", str(write_xlsx(tmp_path / "org.xlsx"))).code == 0
    with session_scope(db_url) as session:  # S002 chose a password through their link
        set_password(session, session.scalar(select(Staff).where(Staff.code == "S002")),
                     PASSWORD, pendulum.now("UTC"))
    sheets = tables()
    sheets["人员"][1][:] = [row for row in sheets["人员"][1] if row[0] != "S002"]
    with serve(portal_app()) as base_url:
        assert login_status(base_url, "S002") == 303
        result = run_cli(capsys, "org", "import", str(write_xlsx(tmp_path / "org2.xlsx", sheets)))
        assert "人员：已停用 1 | staff deactivated 1: S002" in result.out
        assert login_status(base_url, "S002") == 401


def login_status(base_url: str, code: str) -> int:
    client = browser(base_url)
    token = csrf_of(client.get("/login").text)
    return client.post("/login", data={"code": code, "password": PASSWORD,
                                       "csrf": token}).status_code


def test_business_groups_are_set_by_a_file_with_the_column_and_kept_by_one_without(
        db_url, tmp_path, capsys):
    sheets = tables()
    headers, rows = sheets["人员"]
    sheets["人员"] = ([*headers, "业务组"], [[*row, "故障报修" if row[0] == "N002" else ""]
                                          for row in rows])
    assert run_cli(capsys, "org", "import", str(write_xlsx(tmp_path / "org.xlsx", sheets))).code == 0

    def groups():
        with session_scope(db_url) as session:
            return dict(session.execute(select(Staff.code, Staff.business_group)
                                        .where(Staff.business_group.is_not(None))).all())
    assert groups() == {"N002": "故障报修"}
    again = run_cli(capsys, "org", "import", str(write_xlsx(tmp_path / "plain.xlsx")))
    assert again.code == 0, again.err
    assert groups() == {"N002": "故障报修"}  # the file without the column changed nothing

    sheets["人员"][1][1][8] = "组" * 51
    refused = run_cli(capsys, "org", "import", str(write_xlsx(tmp_path / "long.xlsx", sheets)))
    assert refused.code == 1
    assert "人员 第 3 行：业务组名称不能超过 50 个字" in refused.err + refused.out
