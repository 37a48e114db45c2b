"""The outbox under faults: a deliverer killed mid-round, and two deliverers sharing one queue,
against a real (slow) HTTP SMS platform on loopback."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pendulum
from sqlalchemy import func, select

from models.messaging.outbox import (
    DeliveryPolicy,
    OutboxMessage,
    OutboxStatus,
    SmsConfig,
    SmtpConfig,
    delivery_ref,
)
from tasks.core.db import session_scope
from tasks.messaging.delivery import deliver_due
from tasks.messaging.gateways import gateways_for
from tasks.messaging.outbox import Intent, enqueue_many
from tests.sms_platform import Platform

NOON = pendulum.parse("2026-11-24T12:00:00+08:00")
POLICY = DeliveryPolicy(max_attempts=3)
CONTEXT = {"ticket_no": "20261124000001", "content": "停电", "overdue_by": "2天",
           "deadline": pendulum.parse("2026-11-30T15:00:00+08:00")}
ROOT = Path(__file__).resolve().parent.parent

# A deliverer in a process of its own, so it can be killed the hard way.
DELIVERER = """
import sys, pendulum
from models.messaging.outbox import DeliveryPolicy, SmsConfig, SmtpConfig
from tasks.messaging.delivery import deliver_due
from tasks.messaging.gateways import gateways_for
url, at, concurrency = sys.argv[1], pendulum.parse(sys.argv[2]), int(sys.argv[3])
deliver_due(gateways=gateways_for(SmsConfig(url=url), SmtpConfig()), policy=DeliveryPolicy(**{policy}),
            timezone="Asia/Shanghai", clock=lambda: at, limit=500, concurrency=concurrency)
"""


def queue_sms(url: str, count: int) -> list[str]:
    keys = [f"audit:{i}:overdue:sms" for i in range(count)]
    with session_scope(url) as session:
        enqueue_many(session, [Intent(key, "sms", f"1390000{i:04d}", "overdue", CONTEXT)
                               for i, key in enumerate(keys)],
                     now=NOON, policy=POLICY, timezone="Asia/Shanghai")
    return keys


def statuses(url: str) -> Counter:
    with session_scope(url) as session:
        return Counter(dict(session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all()))


def wait_until(condition, what: str, limit: float = 60) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.05)


def test_a_deliverer_killed_mid_round_resends_only_what_was_in_flight(db_url):
    total, answered, in_flight = 30, 12, 4
    keys = queue_sms(db_url, total)
    platform = Platform()
    platform.delay, platform.answer_only = 0.02, answered  # slow, then it stops answering
    try:
        script = DELIVERER.replace("{policy}", json.dumps(POLICY.model_dump(mode="json")))
        deliverer = subprocess.Popen(
            [sys.executable, "-c", script, platform.url, NOON.isoformat(), str(in_flight)],
            cwd=ROOT, env=os.environ | {"GRIDLINE_DATABASE_URL": db_url})
        try:
            # Each answer is on record as it comes, not at the end of the round.
            wait_until(lambda: len(platform.received) == answered + in_flight
                       and statuses(db_url)[OutboxStatus.sent] == answered,
                       "the answered messages recorded while the round still runs")
        finally:
            deliverer.send_signal(signal.SIGKILL)
            deliverer.wait()
        assert statuses(db_url) == {OutboxStatus.sent: answered,
                                    OutboxStatus.sending: total - answered}
        assert len(platform.received) == answered + in_flight  # nothing left after the kill

        platform.release()
        gateways = gateways_for(SmsConfig(url=platform.url), SmtpConfig())
        after_lease = NOON + timedelta(seconds=POLICY.lease_seconds + 1)
        assert deliver_due(gateways=gateways, policy=POLICY, timezone="Asia/Shanghai",
                           clock=lambda: after_lease) == {"sent": total - answered}
    finally:
        platform.stop()
    refs = platform.refs()
    assert set(refs) == {delivery_ref(key) for key in keys}  # every message at least once
    assert sum(refs.values()) - total == in_flight  # the only copies: those held in flight
    assert Counter(refs.values()) == {1: total - in_flight, 2: in_flight}
    assert statuses(db_url) == {OutboxStatus.sent: total}


def test_two_deliverers_at_once_send_every_message_exactly_once(db_url):
    total = 40
    keys = queue_sms(db_url, total)
    platform = Platform()
    platform.delay = 0.01
    gateways = gateways_for(SmsConfig(url=platform.url), SmtpConfig())
    start, results = threading.Barrier(2), []

    def deliverer():
        start.wait()
        sent = 0
        while counts := deliver_due(gateways=gateways, policy=POLICY, timezone="Asia/Shanghai",
                                    clock=lambda: NOON, limit=5, concurrency=3):
            sent += counts["sent"]
        results.append(sent)

    threads = [threading.Thread(target=deliverer) for _ in range(2)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        platform.stop()
    assert sum(results) == total
    assert platform.refs() == Counter({delivery_ref(key): 1 for key in keys})
    assert statuses(db_url) == {OutboxStatus.sent: total}
