"""Case pages are checked like the ticket pages: a bad one is refused naming file, line and
field, before any case runs on it."""

from pathlib import Path

import pytest

from models.cases.lifecycle import load_case_pages, read_case_page
from models.tickets.forms import LifecycleFileError
from tasks.cases.pages import case_pages

PAGE = """\
subject: report_submission
title: 测试流程
steps:
  - {key: inspect, kind: handoff, title: 初查, to: marketing, form: report_resubmit}
  - key: review
    kind: review
    title: 复核
    to: marketing
    form: report_review
    not_by: NOT_BY
    lapse: {working_days: 1, outcome: OUTCOME}
  - {key: close, kind: close, title: 办结}
"""


def page(folder: Path, name: str = "report_submission", not_by: str = "inspect",
         outcome: str = "审核通过") -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(PAGE.replace("NOT_BY", not_by).replace("OUTCOME", outcome), encoding="utf-8")
    return path


def refusal(path: Path, **kw) -> str:
    with pytest.raises(LifecycleFileError) as refused:
        read_case_page(path, **kw)
    return str(refused.value)


def test_a_good_page_loads_with_its_forms(tmp_path):
    assert load_case_pages(tmp_path / "no-cases-here") == {}
    spec = read_case_page(page(tmp_path))
    assert [s.key for s in spec.steps] == ["inspect", "review", "close"]
    assert spec.step("review").lapse.working_days == 1 and set(spec.forms) == {
        "report_resubmit", "report_review"}


def test_bad_case_pages_are_refused_with_file_and_line(tmp_path):
    assert refusal(page(tmp_path, not_by="close")) == (
        f"{tmp_path}/report_submission.yaml:10: steps.1.not_by: not_by names no earlier "
        "person's step; earlier: inspect")
    assert refusal(page(tmp_path, outcome="通过")) == (
        f"{tmp_path}/report_submission.yaml:11: steps.1.lapse.outcome: review cannot end with "
        "'通过'; it ends with 审核通过, 退回")
    assert refusal(page(tmp_path, "appeal")) == (
        f"{tmp_path}/appeal.yaml:1: subject: the file of subject 'report_submission' must be "
        "named report_submission.yaml")


def test_a_page_of_a_subject_without_adapter_is_refused(tmp_path):
    folder = tmp_path / "cases"
    folder.mkdir()
    path = page(folder, "no_such_subject")
    path.write_text(path.read_text(encoding="utf-8").replace(
        "subject: report_submission", "subject: no_such_subject"), encoding="utf-8")
    with pytest.raises(LifecycleFileError) as refused:
        case_pages(folder)
    assert str(refused.value) == (
        f"{path}:1: subject: no subject adapter 'no_such_subject' (tasks/cases/subjects.py); "
        "known: report_submission, quality_result, knowledge_review")
