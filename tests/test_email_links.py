"""An e-mail about a ticket, as its reader gets it from a real SMTP server on loopback: dated,
the ticket's number in the subject, and a link to the ticket's page in the portal."""

from email.utils import parsedate_to_datetime

import pendulum
import pytest

from gridline.local_postgres import free_port
from gridline.sinks import Sinks
from models.messaging.outbox import DeliveryPolicy, SmsConfig, SmtpConfig
from tasks.core.db import session_scope
from tasks.messaging.delivery import deliver_due
from tasks.messaging.gateways import gateways_for
from tasks.messaging.outbox import enqueue
from tests.mail import read_mail

QUEUED = pendulum.parse("2026-11-24T12:00:00+08:00")
CONTEXT = {"ticket_no": "20261124000001", "ticket_type": "投诉", "content": "抄表员态度恶劣",
           "deadline": pendulum.parse("2026-11-30T15:00:00+08:00"), "customer_phone": "13812348000",
           "address": "南京市玄武区中山路1号", "time_left": "3小时", "overdue_by": "2天",
           "department": "玄武区供电服务中心", "responsible": "李强"}


@pytest.fixture
def mail(tmp_path):
    port = free_port()
    sinks = Sinks(tmp_path / "sinks", port, free_port()).start()
    yield sinks, port
    sinks.stop()


@pytest.mark.parametrize("template", ["dispatch_notice", "overdue", "about_to_expire",
                                      "escalation"])
def test_an_email_is_dated_numbered_and_links_to_the_ticket(db_url, mail, monkeypatch, template):
    sinks, port = mail
    monkeypatch.setenv("GRIDLINE_PORTAL__BASE_URL", "https://95598.example.cn/portal/")
    with session_scope(db_url) as session:
        enqueue(session, key=f"step:1:{template}:email", channel="email",
                recipient="xw@example.cn", template=template, context=CONTEXT, now=QUEUED)
    gateways = gateways_for(SmsConfig(url="http://127.0.0.1:9/"), SmtpConfig(port=port))
    sent = deliver_due(gateways=gateways, policy=DeliveryPolicy(), timezone="Asia/Shanghai",
                       clock=lambda: QUEUED)
    assert sent == {"sent": 1}
    [received] = read_mail(sinks.mail_dir)
    assert parsedate_to_datetime(received["Date"]) == QUEUED
    assert "20261124000001" in received["Subject"]
    link = "https://95598.example.cn/portal/tickets/20261124000001"
    assert received.get_body(("plain",)).get_content().strip().endswith(f"查看工单：{link}")
    assert f'<a href="{link}">查看工单 20261124000001</a>' in \
        received.get_body(("html",)).get_content()


def test_a_report_mail_carries_its_files_and_a_missing_file_is_not_sent_without_it(
        db_url, mail, tmp_path):
    sinks, port = mail
    workbook = tmp_path / "日报-江苏省-2026-11-24.xlsx"
    workbook.write_bytes(b"PK\x03\x04 workbook")
    context = {"report": "日报", "unit": "江苏省", "period": "2026-11-24", "name": "李强",
               "rows": [["工单量", "5"]], "files": [workbook.name]}
    with session_scope(db_url) as session:
        for key, files in (("with-file", (str(workbook),)),
                           ("file-gone", (str(tmp_path / "gone.pdf"),))):
            enqueue(session, key=key, channel="email", recipient="lq@example.cn",
                    template="statistics_report", context=context, now=QUEUED,
                    attachments=files)
    gateways = gateways_for(SmsConfig(url="http://127.0.0.1:9/"), SmtpConfig(port=port))
    sent = deliver_due(gateways=gateways, policy=DeliveryPolicy(), timezone="Asia/Shanghai",
                       clock=lambda: QUEUED)
    assert sent == {"sent": 1, "failed": 1}
    [received] = read_mail(sinks.mail_dir)
    [attached] = list(received.iter_attachments())
    assert attached.get_filename() == workbook.name
    assert attached.get_content() == workbook.read_bytes()
