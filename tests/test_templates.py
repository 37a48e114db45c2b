"""Every message template, rendered with sample data as a person would read it."""

import re
from datetime import UTC, datetime

import pytest
from jinja2 import meta

from models.messaging.outbox import MessageChannel
from tasks.messaging.templates import load_templates, render

# Customers' words end with their own punctuation; templates must not double it.
SAMPLE = {
    "ticket_no": "20261125000001", "ticket_type": "投诉", "content": "停电已经两个小时。",
    "deadline": datetime(2026, 11, 25, 7, 0, tzinfo=UTC), "time_left": "2小时",
    "customer_phone": "13812348000", "address": "南京市玄武区中山路1号。", "department": "玄武营销班",
    "responsible": "王工", "overdue_by": "1天", "skew": "5分钟",
    "database_time": datetime(2026, 11, 25, 7, 0, tzinfo=UTC), "name": "李娜",
    "change_at": datetime(2026, 11, 25, 7, 0, tzinfo=UTC),
    "items": [{"kind": "回访", "ticket_no": "20261125000002", "content": "电压不稳。",
               "due_at": datetime(2026, 11, 25, 9, 0, tzinfo=UTC)}],
    "level_label": "二级预警", "rule_label": "接通率", "scope": "故障报修", "window": "10:00-10:30",
    "value": "72%", "threshold": "80%", "advice": "请增派坐席。",
    "report": "日报", "unit": "江苏省", "period": "2026-11-24", "rows": [["工单量", "5"]],
    "files": ["日报-江苏省-2026-11-24.xlsx", "日报-江苏省-2026-11-24.pdf"],
    "ticket_url": "https://95598.example.cn/tickets/20261125000001",
    "staff_code": "S0101", "link": "https://portal.example.cn/password/setup/abc",
    "expires_at": datetime(2026, 11, 28, 7, 0, tzinfo=UTC), "valid_hours": "48",
    "title": "阶梯电价咨询答复", "reference": "KB-00001/v2",
    "valid_to": datetime(2026, 11, 30, 16, 0, tzinfo=UTC),
    "outage_kind": "计划停电", "outage_reason": "10kV线路检修",
    "outage_restore": datetime(2026, 11, 25, 10, 0, tzinfo=UTC), "outage_no": "TD20261125001",
    "kind": "计划停电", "reason": "10kV线路检修", "area": "玄武区、秦淮区", "lines": "10kV 玄武线",
    "start_at": datetime(2026, 12, 2, 0, 0, tzinfo=UTC),
    "restore_at": datetime(2026, 12, 2, 8, 0, tzinfo=UTC),
    "master_no": "20261125000003", "reply": "经核实，系线路检修所致，已恢复供电。",
    "appeal_no": 12, "indicator": "按时办结率", "state": "申诉成立", "corrected": "100.0%",
    "opinion": "核实客户要求延期，予以剔除。",
}
DOUBLED = re.compile(r"[。，、；：！？][。，、；：！？]")
ENV = load_templates("Asia/Shanghai")
MESSAGES = [name for name in ENV.list_templates(extensions=["txt", "html"])
            if name.startswith(("sms/", "email/"))]
NAMES = sorted({name.split("/")[1].removesuffix(".txt") for name in MESSAGES
                if name.endswith(".txt")})


def test_the_sample_covers_every_variable_any_template_uses():
    used = set()
    for name in MESSAGES:
        source = ENV.loader.get_source(ENV, name)[0]
        used |= meta.find_undeclared_variables(ENV.parse(source))
    assert used - set(SAMPLE) - {"subject", "text"} == set()


@pytest.mark.parametrize("template", NAMES)
def test_each_message_reads_cleanly(template):
    _, sms, _ = render(ENV, MessageChannel.sms, template, SAMPLE)
    subject, text, html = render(ENV, MessageChannel.email, template, SAMPLE)
    for said in (sms, subject, text):
        assert said and not DOUBLED.search(said), said
        assert "None" not in said and "{{" not in said
    assert subject in html and "\n" not in subject
