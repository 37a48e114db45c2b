"""Forms declared in flows/lifecycles/forms.yaml: a bad declaration is refused at load naming file,
line and field; a department field offers the names of the departments of the ticket's region
chain and stores their codes; each lifecycle drawn as a picture with the ticket's step marked."""

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from models.core.enums import TicketType
from models.core.errors import StepFormError
from models.org.organisation import Region
from models.tickets.diagram import mermaid, svg
from models.tickets.forms import FORMS, LifecycleFileError, validate_form
from models.tickets.lifecycle import References, load_lifecycles
from models.tickets.ticket import Ticket
from tasks.core.db import session_scope
from tasks.core.settings import get_settings
from tasks.messaging.templates import template_names
from tasks.tickets.rule_store import default_clocks
from tasks.tickets.step_forms import department_choices
from tests.cli import run_cli

FOLDER = get_settings().lifecycles_dir
REFS = References(clocks=default_clocks(), templates=template_names())
SHIPPED_REPLY = "      reply_text: {type: long_text, title: 处理情况, help: 处理经过与答复意见，或退单原因}\n"


def folder_with(tmp_path: Path, old: str, new: str) -> Path:
    folder = tmp_path / "lifecycles"
    shutil.copytree(FOLDER, folder)
    text = (folder / "forms.yaml").read_text(encoding="utf-8")
    assert text.count(old) == 1
    (folder / "forms.yaml").write_text(text.replace(old, new), encoding="utf-8")
    return folder


def reply_line() -> int:
    lines = (FOLDER / "forms.yaml").read_text(encoding="utf-8").splitlines(keepends=True)
    return lines.index(SHIPPED_REPLY) + 1


@pytest.mark.parametrize("declaration, field, words", [
    ("      reply_text: {type: colour, title: 处理情况}\n", "department_reply.fields.reply_text.type",
     "'long_text'"),
    ("      reply_text: {type: choice, title: 处理情况}\n", "department_reply.fields.reply_text",
     "a choice field needs `choices`"),
    ("      reply_text: {type: long_text, title: 处理情况, min: 20, max: 10}\n",
     "department_reply.fields.reply_text", "min 20 is greater than max 10"),
    ("      reply_text: {type: number, title: 件数, choices: [一件, 两件]}\n",
     "department_reply.fields.reply_text", "a number field has no `choices`"),
    ("      reply_text: {type: text, title: 处理情况, hlep: 处理经过}\n",
     "department_reply.fields.reply_text.hlep", "Extra inputs"),
])
def test_a_bad_form_declaration_is_refused_naming_file_line_and_field(
        tmp_path, declaration, field, words):
    folder = folder_with(tmp_path, SHIPPED_REPLY, declaration)
    with pytest.raises(LifecycleFileError) as caught:
        load_lifecycles(folder, REFS)
    error = caught.value
    assert (error.path, error.line, error.field) == (folder / "forms.yaml", reply_line(), field), \
        str(error)
    assert words in str(error)


def test_a_page_whose_outcome_the_form_no_longer_offers_is_refused_at_its_line(tmp_path):
    folder = folder_with(tmp_path, "choices: [已处理, 退单]", "choices: [已处理, 退回部门]")
    with pytest.raises(LifecycleFileError) as caught:
        load_lifecycles(folder, REFS)
    page = (folder / "business.yaml").read_text(encoding="utf-8").splitlines()
    assert caught.value.path == folder / "business.yaml"
    assert page[caught.value.line - 1].strip().startswith("退单:")
    assert caught.value.field.endswith("when.退单")
    assert "it ends with 已处理, 退回部门" in str(caught.value)


def test_the_check_command_lists_every_bad_file_and_exits_1(tmp_path, db_url, capsys):
    folder = tmp_path / "lifecycles"
    shutil.copytree(FOLDER, folder)
    for name in ("opinion.yaml", "report.yaml"):
        page = folder / name
        page.write_text(page.read_text(encoding="utf-8").replace(
            "form: department_reply", "form: department_answer"), encoding="utf-8")
    result = run_cli(capsys, "lifecycle", "check", str(folder))
    assert result.code == 1
    bad = [line for line in result.err.splitlines() if "unknown form 'department_answer'" in line]
    assert [line.split(": ")[1].rsplit(":", 1)[0].rsplit("/", 1)[1] for line in bad] == \
        ["opinion.yaml", "report.yaml"]


def test_declared_forms_are_the_pydantic_models_of_the_three_senders():
    schema = FORMS["redispatch"].model_json_schema()
    assert schema["title"] == "转派" and schema["required"] == ["department"]
    assert schema["properties"]["department"]["title"] == "接收部门"
    with pytest.raises(StepFormError) as caught:
        validate_form("answer_consultation", {"result": "已答复"})
    assert caught.value.errors == {"reply_text": "已答复时须填写答复内容"}
    with pytest.raises(StepFormError) as caught:
        validate_form("restoration", {"cause": "x" * 2001})
    assert caught.value.errors == {"cause": "太长，最多 2000 个字"}


@pytest.fixture
def centre(db_url, capsys):
    assert run_cli(capsys, "demo", "seed", "--tickets", "0").code == 0
    return db_url


def test_a_department_field_lists_the_names_of_the_ticket_region_chain(centre):
    with session_scope(centre) as session:
        xuanwu = session.scalar(select(Region).where(Region.code == "320102"))
        decl = load_lifecycles(FOLDER, REFS)[TicketType.opinion].forms["redispatch"] \
            .fields["department"]
        choices = department_choices(session, Ticket(region=xuanwu), decl)
    assert choices == {"玄武区供电服务中心": "D320102-marketing", "玄武区抢修班": "D320102-repair",
                       "南京市供电公司营销部": "D3201-marketing",
                       "南京市供电公司计量中心": "D3201-metering",
                       "南京市供电公司纪检监察室": "D3201-discipline"}


def test_each_lifecycle_is_drawn_with_the_ticket_step_marked():
    spec = load_lifecycles(FOLDER, REFS)[TicketType.complaint]
    picture = svg(spec, current="review", done=frozenset({"contact", "handle"}))
    assert picture.count('data-current="true"') == 1
    assert '<g class="step" data-step="review" data-current="true">' in picture
    assert "中心审核（当前）" in picture and "<script" not in picture
    assert picture.count('<g class="step"') == len(spec.steps)
    text = mermaid(spec)
    assert text.splitlines()[0] == "flowchart TD"
    assert 'contact -->|"转纪检监察"| inspect' in text
    assert 'callback -.->|"不满意"| handle' in text  # back: to the handoff it came from
    assert 'callback -->|"不满意超过2次"| escalate' in text
