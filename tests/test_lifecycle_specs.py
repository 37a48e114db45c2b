"""Lifecycle declarations and step forms: what an admin editing a page or a user filling a form sees."""

from pathlib import Path

import pytest

from models.core.enums import TicketType
from models.core.errors import InputError, StepFormError
from models.tickets.forms import FORMS, validate_form
from models.tickets.lifecycle import (
    BACK,
    HUMAN_KINDS,
    LifecycleFileError,
    References,
    StepKind,
    Walk,
    load_lifecycles,
    read_lifecycle,
    step_keys,
)
from models.workforce.config import DEFAULT_FILE as WORKFORCE_FILE
from models.workforce.config import load_workforce_config
from tasks.core.settings import get_settings
from tasks.messaging.templates import template_names
from tasks.tickets.rule_store import default_clocks

FOLDER = get_settings().lifecycles_dir
REFS = References(clocks=default_clocks(), templates=template_names())


def reachable(spec) -> set[str]:
    seen, todo = set(), [spec.steps[0].key]
    while todo:
        key = todo.pop()
        if key in seen or key == BACK:
            continue
        seen.add(key)
        step = spec.step(key)
        for outcome in step.outcomes():
            transition = spec.transition(step, outcome)
            if transition is not None:
                todo += [t for t in (transition.to, transition.then) if t]
    return seen


def test_every_ticket_type_has_a_page_whose_every_step_is_reachable_and_ends_closed():
    specs = load_lifecycles(FOLDER, REFS)
    assert set(specs) == set(TicketType)
    for spec in specs.values():
        assert reachable(spec) == {s.key for s in spec.steps}, spec.type
        assert spec.steps[-1].kind == StepKind.close
        for step in spec.steps:
            if step.kind in HUMAN_KINDS:
                assert step.form in FORMS


def test_complaint_reopens_twice_then_escalates_to_the_supervisor():
    spec = load_lifecycles(FOLDER, REFS)[TicketType.complaint]
    callback = spec.step("callback")
    unsatisfied = spec.transition(callback, "不满意")
    assert (unsatisfied.to, unsatisfied.at_most, unsatisfied.then) == (BACK, 2, "escalate")
    assert spec.step("escalate").to == "supervisor"
    assert spec.transition(callback, "满意").to == "close"


def test_fault_repair_checks_for_a_known_fault_before_dispatching_the_crew():
    spec = load_lifecycles(FOLDER, REFS)[TicketType.fault_repair]
    first = spec.steps[0]
    assert first.kind == StepKind.branch
    assert spec.transition(first, "known").to == "inform"
    arrive = spec.step(spec.transition(first, "unknown").to)
    assert (arrive.to, arrive.clock) == ("repair", "arrive")
    assert spec.transition(arrive, "完成").meets == ["arrive"]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


GOOD_HEAD = "type: opinion\ntitle: 意见\nsteps:\n"


@pytest.mark.parametrize("steps, line, field, words", [
    ("  - key: handle\n    kind: handoff\n    title: 处理\n    to: marketing\n    form: nosuch\n"
     "  - {key: close, kind: close, title: 办结}\n", 8, "steps.0.form", "unknown form"),
    ("  - key: handle\n    kind: handof\n    title: 处理\n", 5, "steps.0.kind", "handoff"),
    ("  - key: handle\n    kind: handoff\n    title: 处理\n    to: marketing\n"
     "    form: department_reply\n    when:\n      已处理: nowhere\n"
     "  - {key: close, kind: close, title: 办结}\n", 10, "steps.0.when.已处理", "nowhere"),
    ("  - key: handle\n    kind: handoff\n    title: 处理\n    to: marketing\n"
     "    form: department_reply\n    when:\n      满意: close\n"
     "  - {key: close, kind: close, title: 办结}\n", 10, "steps.0.when.满意", "已处理"),
    ("  - key: handle\n    kind: handoff\n    title: 处理\n    to: marketing\n"
     "    form: department_reply\n", 4, "steps.0", "close"),
])
def test_a_bad_page_is_refused_naming_file_line_and_field(tmp_path, steps, line, field, words):
    refused(write(tmp_path, "opinion.yaml", GOOD_HEAD + steps), line, field, words)


HANDLE = ("  - key: handle\n    kind: handoff\n    title: 处理\n    to: marketing\n"
          "    form: department_reply\n")
CLOSE = "  - {key: close, kind: close, title: 办结}\n"


@pytest.mark.parametrize("page, line, field, words", [
    (GOOD_HEAD + HANDLE + "    clock: answer\n" + CLOSE, 9, "steps.0.clock",
     "clock 'answer'; its clocks: reply"),
    (GOOD_HEAD + HANDLE + "    clock: reply\n    when:\n      已处理: {to: close, meets: [replied]}\n"
     + CLOSE, 11, "steps.0.when.已处理.meets.0", "clock 'replied'"),
    (GOOD_HEAD + HANDLE + "    next: {to: close, meets: [arrive]}\n" + CLOSE, 9,
     "steps.0.next.meets.0", "no deadline rule of opinion defines the clock 'arrive'"),
    (GOOD_HEAD + HANDLE + "    notify:\n      entry: [{to: department, template: dispatch}]\n"
     + CLOSE, 10, "steps.0.notify.entry.0.template", "no template sms/dispatch.txt"),
    (GOOD_HEAD + HANDLE + "    notify:\n      done:\n        - {to: department, channel: email,"
     " template: nosuch}\n" + CLOSE, 11, "steps.0.notify.done.0.template", "email/nosuch.txt"),
    (GOOD_HEAD + HANDLE + "  - key: close\n    kind: close\n    title: 办结\n    notify:\n"
     "      entry: [{to: department, template: closure_notice}]\n", 13,
     "steps.1.notify.entry.0.to", "no department"),
    ("type: opinion\ntitle: 意见\nnotify:\n  start: [{to: customer, template: ack}]\nsteps:\n"
     + HANDLE + CLOSE, 4, "notify.start.0.template", "sms/ack.txt"),
    ("type: opinion\ntitle: 意见\nnotify:\n  start: [{to: supervisor, template: customer_ack}]\n"
     "steps:\n" + HANDLE + CLOSE, 4, "notify.start.0.to", "only the customer"),
])
def test_a_page_naming_a_clock_or_template_that_does_not_exist_is_refused(
        tmp_path, page, line, field, words):
    refused(write(tmp_path, "opinion.yaml", page), line, field, words)


def refused(path: Path, line: int, field: str, words: str) -> None:
    with pytest.raises(LifecycleFileError) as caught:
        read_lifecycle(path, REFS)
    error = caught.value
    assert (error.path, error.line, error.field) == (path, line, field), str(error)
    assert str(error).startswith(f"{path}:{line}: {field}: ") and words in str(error)


def test_a_workforce_setting_naming_a_step_no_lifecycle_has_is_refused(tmp_path):
    def steps():
        return step_keys(load_lifecycles(FOLDER, REFS))

    assert load_workforce_config(steps=steps).callback_steps == ["callback"]
    text = WORKFORCE_FILE.read_text(encoding="utf-8")
    line = text[:text.index("callback_steps:")].count("\n") + 1
    path = write(tmp_path, "workforce.yaml", text.replace("callback_steps: [callback]",
                                                          "callback_steps: [callback, callbak]"))
    with pytest.raises(InputError) as caught:
        load_workforce_config(path, steps=steps)
    assert caught.value.field == f"workforce.yaml:{line}: callback_steps.1"
    assert "callbak" in caught.value.zh and "no lifecycle has a step 'callbak'" in caught.value.en


def test_broken_yaml_names_its_line(tmp_path):
    path = write(tmp_path, "opinion.yaml", GOOD_HEAD + "  - key: [unclosed\n")
    with pytest.raises(LifecycleFileError) as caught:
        read_lifecycle(path, REFS)
    assert caught.value.line == 5 and caught.value.field == "yaml"  # the stream ends unclosed


def test_a_page_must_be_named_after_its_type(tmp_path):
    text = (FOLDER / "opinion.yaml").read_text(encoding="utf-8")
    with pytest.raises(LifecycleFileError, match="opinion.yaml"):
        read_lifecycle(write(tmp_path, "suggestion.yaml", text), REFS)


def test_forms_speak_chinese_to_the_user():
    schema = FORMS["department_reply"].model_json_schema()
    assert schema["title"] == "部门回单"
    assert schema["properties"]["result"]["title"] == "处理结果"
    assert schema["properties"]["result"]["enum"] == ["已处理", "退单"]
    assert validate_form("callback", {"result": "满意"}).result == "满意"


def test_a_bad_form_names_every_bad_field_in_chinese():
    with pytest.raises(StepFormError) as caught:
        validate_form("department_reply", {"result": "不知道", "reply_text": "", "extra": 1})
    errors = caught.value.errors
    assert set(errors) == {"result", "reply_text", "extra"}
    assert "已处理" in errors["result"] and errors["reply_text"] == "不能为空"
    assert isinstance(caught.value, InputError) and "字段" in caught.value.one_line()


def test_a_cross_field_rule_names_its_field():
    with pytest.raises(StepFormError) as caught:
        validate_form("answer_consultation", {"result": "已答复"})
    assert list(caught.value.errors) == ["reply_text"]


def walk_through(spec, outcomes: list[tuple[str, str, dict]]) -> list[tuple[str, int]]:
    """Feed a walk the outcomes of each step it enters; return the (step, attempt) it went through."""
    walk, seen = Walk(spec), []
    for expected, outcome, data in outcomes:
        step, attempt = walk.enter()
        assert step.key == expected, (seen, step.key)
        seen.append((step.key, attempt))
        walk.leave(step, outcome, data)
    return seen


def test_a_walk_rebuilds_returns_reopenings_and_the_escalation():
    spec = load_lifecycles(FOLDER, REFS)[TicketType.complaint]
    handled = [("handle", "已处理", {}), ("review", "通过", {})]
    seen = walk_through(spec, [
        ("contact", "转责任部门", {}),
        ("handle", "退单", {}), ("redispatch", "完成", {"department": "D3202-marketing"}),
        *handled, ("callback", "不满意", {}),
        *handled, ("callback", "不满意", {}),
        *handled, ("callback", "不满意", {}),
        ("escalate", "完成", {}), ("close", "完成", {}),
    ])
    assert seen.count(("handle", 4)) == 1 and ("callback", 3) in seen
    assert seen[-2:] == [("escalate", 1), ("close", 1)]


def test_a_re_dispatch_sends_the_returned_step_to_the_chosen_department():
    walk = Walk(load_lifecycles(FOLDER, REFS)[TicketType.opinion])
    for outcome, data in [("退单", {}), ("完成", {"department": "D3202-marketing"})]:
        step, _ = walk.enter()
        walk.leave(step, outcome, data)
    assert walk.key == "handle" and walk.chosen_department == {"handle": "D3202-marketing"}
    assert walk.note == "中心转派。"  # the step's entry names the department, by name
