"""One execution of a flow run in a thread of the worker's process, and how it is stopped.

`execute` is `prefect.flow_engine.run_flow(flow, flow_run=..., return_type="state")` for a sync
flow, with one difference: a cancel the worker raises in the thread (`CancelRequested`) ends the
run Cancelled, as Prefect's runner does for a process, instead of Crashed.
"""

import asyncio
import ctypes
import threading
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from prefect.client.schemas.objects import FlowRun
from prefect.context import SettingsContext
from prefect.exceptions import Abort, Pause
from prefect.flow_engine import FlowRunEngine, _flow_parameters, run_flow
from prefect.flows import Flow
from prefect.states import State


class CancelRequested(BaseException):
    """Raised in a run's thread when Prefect asks to cancel the run (a BaseException, so the flow's
    own `except Exception` cannot swallow it)."""


class _CancellableEngine(FlowRunEngine):
    def handle_crash(self, exc: BaseException) -> None:
        if isinstance(exc, CancelRequested):
            self.handle_cancellation(exc)  # Cancelling -> Cancelled, the cancel hooks
        else:
            super().handle_crash(exc)


def execute(flow: Flow, flow_run: FlowRun) -> State | None:
    """Run one execution; the state it ended in (None when the run suspended or was aborted:
    Prefect recorded that state itself)."""
    try:
        if flow.isasync or flow.isgenerator:  # not Gridline's: no cancel, as run_flow gives it
            result = run_flow(flow, flow_run=flow_run, return_type="state")
            return asyncio.run(result) if asyncio.iscoroutine(result) else result
        engine = _CancellableEngine(flow=flow, flow_run=flow_run,
                                    parameters=_flow_parameters(flow, flow_run, None))
        with engine.start():
            while engine.is_running():
                with engine.run_context():
                    engine.call_flow_fn()
        return engine.state
    except (Pause, Abort):  # a suspended run's normal end; an abort is the server's decision
        return None


@dataclass
class Execution:
    """A run executing in a thread; `cancel` stops it at its next Python instruction (a run blocked
    in a database or API call stops when the call returns)."""

    flow: Flow
    flow_run: FlowRun
    done: asyncio.Future
    loop: asyncio.AbstractEventLoop
    thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _running: bool = False
    cancel_requested: bool = False
    _settings: SettingsContext | None = None

    @property
    def run_id(self) -> UUID:
        return self.flow_run.id

    def start(self, name: str, settings: SettingsContext) -> None:
        """Start the thread, under `settings` (a stopping worker waits for it: not a daemon)."""
        self._settings = settings
        self.thread = threading.Thread(target=self._main, name=name)
        self._running = True
        self.thread.start()

    def cancel(self) -> bool:
        """Raise CancelRequested in the run's thread, once; False if it has ended already."""
        with self._lock:
            if not self._running or self.cancel_requested:
                return False
            self.cancel_requested = True
            return ctypes.pythonapi.PyThreadState_SetAsyncExc(
                ctypes.c_ulong(self.thread.ident), ctypes.py_object(CancelRequested)) == 1

    def _main(self) -> None:
        outcome: Any
        try:
            try:
                with self._settings:
                    outcome = execute(self.flow, self.flow_run)
            finally:
                with self._lock:
                    self._running = False
        except CancelRequested:
            outcome = CancelRequested()
        except BaseException as exc:  # reported to the worker: one run never kills the worker
            outcome = exc
        while True:  # a cancel raised as the run ended lands here at the latest
            try:
                self.loop.call_soon_threadsafe(_settle, self.done, outcome)
                return
            except CancelRequested:
                continue


def _settle(done: asyncio.Future, outcome: Any) -> None:
    if not done.done():
        done.set_result(outcome)
