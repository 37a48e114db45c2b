"""gridline calls / forecast / staffing / roster / alerts / handover: workforce planning from the
centre's own call history."""

import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import pendulum
import typer

from flows.workforce import workforce_config
from gridline.cli.common import echo_json, local_date, local_iso, parse_instant
from models.core.errors import InputError
from tasks.core.db import session_scope
from tasks.core.settings import get_settings
from tasks.workforce.alerts import record_live, staffing_alerts
from tasks.workforce.calls import import_calls, read_rows
from tasks.workforce.handover import hand_over, latest_change
from tasks.workforce.planning import GroupPlan, make_plan, store_plan
from tasks.workforce.rostering import export_roster, make_roster, store_roster

calls_app = typer.Typer(help="Call records and live indicators.", no_args_is_help=True)

NOW_HELP = "the current time, ISO 8601 with offset (default: now)"


def now_or(text: str | None) -> datetime:
    return parse_instant("now", text) if text else pendulum.now("UTC")


def start_day(text: str | None, now: datetime, timezone: str) -> date:
    """The first day to plan: the given date, else tomorrow in the centre's time zone."""
    if text is None:
        return local_date(now, timezone) + timedelta(days=1)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError("from", "日期格式无效，应为 YYYY-MM-DD", f"not a date: {text!r}") from None


@calls_app.command("import")
def import_file(file: Path, as_json: bool = typer.Option(False, "--json")) -> None:
    """Load call records from csv or xlsx; bad rows are listed, good rows land together."""
    settings = get_settings()
    with session_scope() as session:
        report = import_calls(session, read_rows(file), settings.timezone)
    if as_json:
        echo_json({"added": report.added, "duplicates": report.duplicates, "bad": report.bad})
    else:
        typer.echo(f"导入话单 {report.added} 条，重复跳过 {report.duplicates} 条，"
                   f"错误 {len(report.bad)} 行")
        for bad in report.bad:
            typer.echo(f"  第 {bad['row']} 行 字段 {bad['field']}：{bad['reason']}")
    if report.bad:
        sys.exit(1)


def _plan(now: str | None, start: str | None, days: int, with_staffing: bool) -> list[GroupPlan]:
    settings, config = get_settings(), workforce_config()
    moment = now_or(now)
    first = start_day(start, moment, settings.timezone)
    if not 1 <= days <= 31:
        raise InputError("days", "天数须在 1 到 31 之间", "days must be between 1 and 31")
    with session_scope() as session:
        plans = make_plan(session, now=moment, config=config, timezone=settings.timezone,
                          start=first, days=days, with_staffing=with_staffing)
        if not plans:
            raise InputError("calls", "没有话单历史，请先 gridline calls import",
                             "no call history: run gridline calls import first")
        if with_staffing:
            store_plan(session, plans, made_at=moment)
    return plans


def _backtest_json(plan: GroupPlan) -> dict | None:
    test = plan.backtest
    return test and {"mape": round(test.mape, 4), "seasonal_naive_mape": round(test.naive_mape, 4),
                     "intervals": test.intervals}


def _backtest_line(plan: GroupPlan) -> str:
    test = plan.backtest
    if test is None:
        return "回测：历史不足两周以上，无法回测"
    return (f"回测 MAPE {test.mape:.1%}（季节朴素法 {test.naive_mape:.1%}，"
            f"{test.intervals} 个时段）")


def forecast(days: int = typer.Option(7, help="days to forecast"),
             start: str | None = typer.Option(None, "--from", help="first day (default tomorrow)"),
             now: str | None = typer.Option(None, help=NOW_HELP),
             as_json: bool = typer.Option(False, "--json")) -> None:
    """Calls per business group and 30-minute interval, with the back-test error."""
    plans = _plan(now, start, days, with_staffing=False)
    if as_json:
        echo_json([{"group": p.group, "backtest": _backtest_json(p),
                    "intervals": [{"start": local_iso(i.start), "calls": round(i.calls, 2)}
                                  for i in p.intervals]} for p in plans])
        return
    for p in plans:
        typer.echo(f"{p.group}  {_backtest_line(p)}")
        per_day = len(p.intervals) // days
        for d in range(days):
            chunk = p.intervals[d * per_day:(d + 1) * per_day]
            peak = max(chunk, key=lambda i: i.calls)
            typer.echo(f"  {local_iso(chunk[0].start)[:10]}  预测话务量 {sum(i.calls for i in chunk):.0f}"
                       f"  高峰 {local_iso(peak.start)[11:16]} {peak.calls:.1f}")


def staffing(days: int = typer.Option(1, help="days to plan"),
             start: str | None = typer.Option(None, "--from", help="first day (default tomorrow)"),
             now: str | None = typer.Option(None, help=NOW_HELP),
             as_json: bool = typer.Option(False, "--json")) -> None:
    """Agents needed per interval (Erlang C, or Erlang A for groups with a patience), stored."""
    plans = _plan(now, start, days, with_staffing=True)
    if as_json:
        echo_json([{"group": p.group, "aht_s": round(p.aht_s, 1), "backtest": _backtest_json(p),
                    "intervals": [{
                        "start": local_iso(i.start), "calls": round(i.calls, 2),
                        "agents": i.staffing.agents, "rostered": i.staffing.rostered,
                        "service_level": round(i.staffing.service_level, 4),
                        "asa_s": round(i.staffing.asa_s, 3),
                        "occupancy": round(i.staffing.occupancy, 4),
                        "abandon_rate": round(i.staffing.abandon_rate, 4),
                    } for i in p.intervals]} for p in plans])
        return
    for p in plans:
        typer.echo(f"{p.group}  平均处理时长 {p.aht_s:.0f} 秒  {_backtest_line(p)}")
        for i in p.intervals:
            s = i.staffing
            typer.echo(f"  {local_iso(i.start)[:16]}  话务量 {i.calls:6.1f}  在线 {s.agents:4d}  "
                       f"排班 {s.rostered:4d}  服务水平 {s.service_level:.1%}  "
                       f"平均应答 {s.asa_s:.1f}s  占用率 {s.occupancy:.1%}")


roster_app = typer.Typer(help="Rosters from shift templates and the staffing plan.",
                         no_args_is_help=True)


@roster_app.command("make")
def roster_make(start: str | None = typer.Option(None, "--from", help="first day (default tomorrow)"),
                xlsx: Path | None = typer.Option(None, help="write the roster to this Excel file"),
                now: str | None = typer.Option(None, help=NOW_HELP),
                as_json: bool = typer.Option(False, "--json")) -> None:
    """Roster the centre's agents for 7 days: fewest agent-hours covering the staffing plan."""
    settings, config = get_settings(), workforce_config()
    first = start_day(start, now_or(now), settings.timezone)
    with session_scope() as session:
        week = make_roster(session, start=first, config=config, timezone=settings.timezone)
        if not week.roster.required.any():
            raise InputError("staffing", "该周没有人力需求，请先运行 gridline staffing --days 7",
                             "no staffing plan for the week: run gridline staffing --days 7 first")
        if not week.staff:
            raise InputError("staff", "客服中心没有坐席", "the service centre has no agents")
        shifts = store_roster(session, week, settings.timezone)
        summary = {
            "from": first.isoformat(), "agents": len(week.staff), "shifts": len(shifts),
            "agent_hours": week.roster.agent_hours,
            "lp_bound_hours": round(week.roster.lp_bound_hours, 2),
            "gap": round(week.roster.gap, 4), "optimal": week.roster.optimal,
            "short_intervals": int((week.roster.shortfall > 0).sum()),
            "roster": [{"staff": s.staff.code, "name": s.staff.name, "shift": s.shift,
                        "start": local_iso(s.start_at), "end": local_iso(s.end_at)}
                       for s in shifts],
        }
    if xlsx:
        export_roster(week, xlsx, config, settings.timezone)
    if as_json:
        echo_json(summary)
        return
    typer.echo(f"排班 {summary['from']} 起 7 天：坐席 {summary['agents']} 人，班次 {summary['shifts']} 个，"
               f"工时 {summary['agent_hours']:.0f} 小时（下界 {summary['lp_bound_hours']:.0f}，"
               f"差距 {summary['gap']:.1%}）")
    if summary["short_intervals"]:
        typer.echo(f"警告：{summary['short_intervals']} 个时段人手不足，需增加坐席", err=True)
    if xlsx:
        typer.echo(f"已导出 {xlsx}")


@calls_app.command("live")
def calls_live(group: str = typer.Option(..., help="business group"),
               queue_length: float | None = typer.Option(None, help="callers waiting now"),
               answer_rate: float | None = typer.Option(None, help="share answered, 0-1"),
               at: str | None = typer.Option(None, help="time of the reading (default now)"),
               as_json: bool = typer.Option(False, "--json")) -> None:
    """Record live indicators of a group; a value past a configured level alerts its people."""
    settings, config = get_settings(), workforce_config()
    moment = now_or(at)
    readings = {k: v for k, v in (("queue_length", queue_length), ("answer_rate", answer_rate))
                if v is not None}
    if not readings:
        raise InputError("indicator", "请至少给出一个指标", "give --queue-length or --answer-rate")
    if answer_rate is not None and not 0 <= answer_rate <= 1:
        raise InputError("answer_rate", "接通率须在 0 到 1 之间", "answer rate must be 0-1")
    with session_scope() as session:
        levels = {indicator: level and {"level": level.level, "label": level.label}
                  for indicator, level in record_live(session, group=group, readings=readings,
                                                      at=moment, config=config,
                                                      timezone=settings.timezone).items()}
    if as_json:
        echo_json(levels)
        return
    for indicator, level in levels.items():
        typer.echo(f"{group} {indicator}: " + (f"{level['label']}，已通知" if level else "正常"))


def alerts(hours: int = typer.Option(24, help="hours ahead to check"),
           now: str | None = typer.Option(None, help=NOW_HELP),
           as_json: bool = typer.Option(False, "--json")) -> None:
    """Compare the roster with the staffing plan ahead and alert where staff fall short."""
    settings, config = get_settings(), workforce_config()
    moment = now_or(now)
    with session_scope() as session:
        windows = staffing_alerts(session, start=moment, end=moment + timedelta(hours=hours),
                                  config=config, now=moment, timezone=settings.timezone)
    rows = [{"level": w.level.level, "label": w.level.label, "start": local_iso(w.start),
             "end": local_iso(w.end), "required": w.required, "planned": w.planned,
             "ratio": round(w.worst, 4)} for w in windows]
    if as_json:
        echo_json(rows)
        return
    if not rows:
        typer.echo("排班满足需求，无预警")
    for r in rows:
        typer.echo(f"{r['label']} {r['start'][:16]} 至 {r['end'][11:16]}：需求 {r['required']} 人，"
                   f"已排 {r['planned']} 人（{r['ratio']:.0%}）")


def handover(at: str | None = typer.Option(None, help="the shift change (default the latest)"),
             as_json: bool = typer.Option(False, "--json")) -> None:
    """Pass the ending shift's open items and due callbacks to the agents now on duty."""
    settings, config = get_settings(), workforce_config()
    moment = now_or(at)
    change = latest_change(moment, config.handover_at, settings.timezone)
    with session_scope() as session:
        result = hand_over(session, change_at=change, config=config, timezone=settings.timezone,
                           now=moment)
        rows = [{"ticket": i.step.ticket.number, "step": i.step.step_key, "kind": i.kind,
                 "to": i.to_staff.code, "to_name": i.to_staff.name} for i in result.items]
        receivers = [s.code for s in result.receivers]
    if as_json:
        echo_json({"change_at": local_iso(change), "receivers": receivers, "items": rows})
        return
    typer.echo(f"交接班 {local_iso(change)[:16]}：转交 {len(rows)} 项，接班坐席 {len(receivers)} 人")
    if not receivers:
        typer.echo("警告：排班表中没有接班坐席，事项未转交", err=True)
    for r in rows:
        typer.echo(f"  工单 {r['ticket']} {r['step']} → {r['to_name']}（{r['to']}）")
