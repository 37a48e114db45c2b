"""The ticket's story in the Prefect UI, told by its lifecycle run: a Chinese log line as each step
opens and is done, the run's tags kept current (type, region, the department now holding the
ticket, `overdue`), and a markdown artifact keyed by the ticket, written at each wait.

A run re-runs from the top at each resume and finds the steps done before it: only what happened
since the last wait is told (the first step the re-run writes, and the one completed just before),
so no line is logged twice. The reconciler tags the waiting runs whose clocks run late meanwhile.
"""

import logging
import re
from datetime import datetime

import pendulum
from prefect import get_client, get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.context import FlowRunContext
from prefect.settings import PREFECT_API_URL

from models.core.enums import StepStatus
from models.core.formatting import local_time
from models.tickets.lifecycle import LifecycleSpec, StepKind, StepSpec
from models.tickets.ticket import Step, Ticket
from tasks.core.db import session_scope
from tasks.core.settings import get_settings
from tasks.tickets.lifecycle_store import outcome_of
from tasks.tickets.store import get_ticket

OVERDUE = "overdue"
MANAGED = ("type:", "region:", "department:")


def artifact_key(number: str) -> str:
    """Prefect artifact keys are lowercase letters, digits and dashes."""
    return "ticket-" + re.sub(r"[^a-z0-9-]+", "-", number.lower()).strip("-")


def is_late(ticket: Ticket, now: datetime) -> bool:
    """A clock met after its due time, or still running past it."""
    return any((c.met_at or now) > c.due_at for c in ticket.clocks)


def story_tags(ticket: Ticket, steps: list[Step], now: datetime, keep: list[str]) -> list[str]:
    """The run's tags: `keep`'s own, plus type, region, the department now holding the ticket
    (its open step's, else the last one's) and `overdue` once a clock is late."""
    held = [s for s in steps if s.department is not None]
    holding = next((s for s in held if s.status == StepStatus.open), held[-1] if held else None)
    tags = [t for t in keep if not t.startswith(MANAGED) and t != OVERDUE]
    tags += [f"type:{ticket.type.value}", f"region:{ticket.region.code}"]
    if holding is not None:
        tags.append(f"department:{holding.department.code}")
    return tags + ([OVERDUE] if is_late(ticket, now) else [])


def retag(run_id, tags: list[str], current: list[str]) -> bool:
    """Set the run's tags when they changed (one request, none otherwise)."""
    if sorted(tags) == sorted(current):
        return False
    with get_client(sync_client=True) as client:
        client.update_flow_run(run_id, tags=tags)
    return True


def follow(number: str) -> bool:
    """After a change made outside the run (a 转派 in the portal or the CLI): the waiting run's
    tags follow at once. Best effort: with Prefect away the run tags itself at its next
    execution, and the ticket's change stands either way."""
    if not (get_settings().story and PREFECT_API_URL.value()):
        return False
    with session_scope() as session:
        ticket = get_ticket(session, number)
        if ticket.flow_run_id is None:
            return False
        try:
            with get_client(sync_client=True) as client:
                run = client.read_flow_run(ticket.flow_run_id)
            tags = story_tags(ticket, list(ticket.steps), pendulum.now("UTC"), list(run.tags))
            return retag(run.id, tags, list(run.tags))
        except Exception as exc:  # noqa: BLE001 - the Prefect server unreachable or the run gone
            logging.getLogger(__name__).warning("tags of %s not updated: %s", number, exc)
            return False


def _first_execution() -> bool:
    context = FlowRunContext.get()
    return context is not None and context.flow_run.run_count <= 1


class Story:
    """What one execution of a ticket's run tells."""

    def __init__(self):
        self.on = get_settings().story
        self.told = False  # something happened in this execution: tell it at the wait
        self.done_before: tuple | None = None  # the log line of the last human step found done
        self.timezone = get_settings().timezone

    def passed(self, ticket: Ticket, spec: LifecycleSpec, step: StepSpec, row: Step,
               created: bool) -> None:
        """The walk passed the step's row: found as it was, or written now; at a wait or the
        close, the run's tags and artifact follow."""
        if not self.on:
            return
        self._tell(step, row, created)
        if row.status == StepStatus.open or step.kind == StepKind.close:
            self.publish(ticket, row, {s.key: s.title for s in spec.steps})

    def _tell(self, step: StepSpec, row: Step, created: bool) -> None:
        if not created:
            if row.form is not None and row.status != StepStatus.open and not self.told:
                self.done_before = self._completion(step, row)  # read now: its session ends
            elif row.status == StepStatus.open and not self.told and _first_execution():
                # a run started on a ticket already under way (the demo's, the reconciler's)
                self._log("当前环节“%s”：处理部门 %s，处理人 %s，期限 %s", step.title,
                          self._where(row), row.assignee.name if row.assignee else "未指定",
                          self._due(row))
            return
        if not self.told and self.done_before is not None:
            self._log(*self.done_before)  # done since the last wait, in the portal or CLI
        self.told = True
        if row.form is None:  # a step no one fills: entered and done at once
            self._log("环节“%s”：%s", step.title, outcome_of(row))
        else:
            self._log("进入环节“%s”：处理部门 %s，处理人 %s，期限 %s", step.title, self._where(row),
                      row.assignee.name if row.assignee else "未指定", self._due(row))

    def completed(self, step: StepSpec, row: Step) -> None:
        """The step was completed in this execution (the Prefect UI's form)."""
        if self.on:
            self._log(*self._completion(step, row))
            self.told = True

    def _completion(self, step: StepSpec, row: Step) -> tuple:
        who = row.completed_by.name if row.completed_by else "Prefect 界面"
        late = "（超期）" if row.due_at and row.completed_at and row.completed_at > row.due_at \
            else ""
        return ("环节“%s”办结：%s，结果“%s”，处理部门 %s，期限 %s%s", step.title, who,
                outcome_of(row), self._where(row), self._due(row), late)

    def publish(self, ticket: Ticket, row: Step, titles: dict[str, str]) -> None:
        """At a wait or the close (`row`, written in this session, is not among the ticket's
        steps loaded before it): the run's tags and the ticket's artifact, when new."""
        context = FlowRunContext.get()
        if context is None:
            return
        run = context.flow_run
        now = pendulum.now("UTC")
        steps = sorted({*ticket.steps, row}, key=lambda s: s.id)
        tags = story_tags(ticket, steps, now, list(run.tags))
        if retag(run.id, tags, list(run.tags)):
            run.tags = tags
        if self.told or run.run_count <= 1:  # a new run (the reconciler's) shows it too
            create_markdown_artifact(markdown=self.markdown(ticket, steps, titles, now),
                                     key=artifact_key(ticket.number),
                                     description=f"工单{ticket.number}的办理进度")

    def markdown(self, ticket: Ticket, steps: list[Step], titles: dict[str, str],
                 now: datetime) -> str:
        rows = self.rows(steps, titles)
        clocks = [f"| {c.label} | {local_time(c.due_at, self.timezone)} | {_clock_state(c, now)} |"
                  for c in ticket.clocks]
        return "\n".join([
            f"### 工单 {ticket.number}（{ticket.type.label}）· {ticket.status.label}",
            f"{ticket.region.name} · {ticket.address}", "",
            "| 环节 | 次数 | 部门 | 处理人 | 结果 | 期限 | 办结时间 |",
            "|---|---|---|---|---|---|---|", *rows, "",
            "| 时限 | 期限 | 状态 |", "|---|---|---|", *clocks, "",
            f"更新于 {local_time(now, self.timezone)}（{self.timezone}）"])

    def rows(self, steps: list[Step], titles: dict[str, str]) -> list[str]:
        """The steps table's rows: step, attempt, department, person, result, due, done."""
        return [f"| {titles.get(s.step_key, s.step_key)} | {s.attempt} | {self._where(s)} | "
                f"{self._who(s)} | {'待处理' if s.status == StepStatus.open else outcome_of(s)} | "
                f"{self._due(s)} | {local_time(s.completed_at, self.timezone) or '—'} |"
                for s in steps]

    def _log(self, message: str, *args) -> None:
        get_run_logger().info(message, *args)

    def _due(self, row: Step) -> str:
        return local_time(row.due_at, self.timezone) or "无"

    @staticmethod
    def _where(row: Step) -> str:
        return row.department.name if row.department else "—"

    @staticmethod
    def _who(row: Step) -> str:
        person = row.completed_by or row.assignee
        if person is not None:
            return person.name
        return "Prefect 界面" if row.completed_at and row.form else "—"


def _clock_state(clock, now: datetime) -> str:
    if clock.met_at is not None:
        return "已满足（超期）" if clock.met_at > clock.due_at else "已满足"
    return "已超期" if now > clock.due_at else "进行中"


def case_artifact_key(number: str) -> str:
    return "case-" + re.sub(r"[^a-z0-9-]+", "-", number.lower()).strip("-")


class CaseStory(Story):
    """A case's story: the same log lines; tags kind, region and the department holding it; the
    artifact keyed `case-<number>`."""

    def publish(self, case, row: Step, titles: dict[str, str]) -> None:
        context = FlowRunContext.get()
        if context is None:
            return
        run, now = context.flow_run, pendulum.now("UTC")
        steps = sorted({*case.steps, row}, key=lambda s: s.id)
        held = [s for s in steps if s.department is not None]
        holding = next((s for s in held if s.status == StepStatus.open), held[-1] if held else None)
        tags = [t for t in run.tags if not t.startswith((*MANAGED, "case:"))]
        tags += [f"case:{case.kind}", f"region:{case.region.code}"]
        tags += [f"department:{holding.department.code}"] if holding is not None else []
        if retag(run.id, tags, list(run.tags)):
            run.tags = tags
        if self.told or run.run_count <= 1:
            create_markdown_artifact(markdown=self.case_markdown(case, steps, titles, now),
                                     key=case_artifact_key(case.number),
                                     description=f"{case.title}{case.number}的办理进度")

    def case_markdown(self, case, steps: list[Step], titles: dict[str, str],
                      now: datetime) -> str:
        rows = self.rows(steps, titles)
        return "\n".join([
            f"### {case.title} {case.number} · {case.status}", case.region.name, "",
            "| 环节 | 次数 | 部门 | 处理人 | 结果 | 期限 | 办结时间 |",
            "|---|---|---|---|---|---|---|", *rows, "",
            f"更新于 {local_time(now, self.timezone)}（{self.timezone}）"])
