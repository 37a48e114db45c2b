"""知识库到期: the scheduled sweep (prefect.yaml) that expires what passed its date and tells the
owning departments, with a warning `warn_days` ahead. A re-run queues no notice twice."""

import pendulum
from prefect import flow, get_run_logger, task

from tasks.core.db import session_scope
from tasks.knowledge.expiry import expire_due


@task(retries=2, retry_delay_seconds=30)
def sweep(warn_days: int) -> dict:
    with session_scope() as session:
        run = expire_due(session, now=pendulum.now("UTC"), warn_days=warn_days)
    return {"expired": run.expired, "warned": run.warned, "queued": run.queued}


@flow(name="knowledge-expiry")
def knowledge_expiry(warn_days: int = 7) -> dict:
    result = sweep(warn_days)
    get_run_logger().info("知识库到期：%(expired)d 篇失效，%(warned)d 篇即将到期，新消息 %(queued)d 条",
                          result)
    return result
