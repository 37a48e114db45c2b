"""What the ticket's story in the Prefect UI (flows/story.py) costs the Prefect server, apart from
everything else: on a server of its own (PostgreSQL), M times what the story adds to one
execution of the complaint lifecycle, measured in lifecycle_bench.py with and without it:
one markdown artifact (a complaint's, 2 KB), the run's tags set again 3 executions in 5 (the
department changes), and its two log lines. Prints the server's and the database's CPU seconds
per execution's worth, and the requests.

    .venv/bin/python bench/story_cost.py [M]
"""

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).resolve().parent)]

from lifecycle_bench import group_cpu, requests_since, tree_cpu  # noqa: E402

ROW = "| 业务部门处理 | 1 | 南京市玄武区供电公司营销部 | 张三 | 已处理 | 2026-12-03 17:00 | 2026-12-02 10:00 |"


def markdown(number: str) -> str:
    return "\n".join([f"### 工单 {number}（投诉）· 处理中", "南京市玄武区 · 南京市玄武区中山路1号", "",
                      "| 环节 | 次数 | 部门 | 处理人 | 结果 | 期限 | 办结时间 |", "|---|---|---|---|---|---|---|",
                      *[ROW] * 8, "", "| 时限 | 期限 | 状态 |", "|---|---|---|",
                      "| 答复时限 | 2026-12-03 17:00 | 进行中 |", "", "更新于 2026-12-02 10:00"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("m", nargs="?", type=int, default=500)
    m = parser.parse_args().m
    from prefect import flow
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import ArtifactCreate, LogCreate
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from gridline.local_postgres import LocalPostgres, free_port
    from gridline.local_prefect import LocalPrefect

    root = Path(tempfile.mkdtemp(prefix="gridline-story-"))
    cluster = LocalPostgres(Path(tempfile.mkdtemp(prefix="gridline-story-pg-")), durable=False)
    cluster.start()
    prefect = LocalPrefect(root / "home", free_port(), log_dir=root,
                           server_database_url=cluster.url().replace("+psycopg", "+asyncpg"),
                           env={"PREFECT_SERVER_LOGGING_LEVEL": "INFO"})
    try:
        prefect.start_server()
        with temporary_settings({PREFECT_API_URL: prefect.api_url}), \
                get_client(sync_client=True) as client:
            runs = [client.create_flow_run(flow(name="story-cost")(lambda: None), name=f"T{i}",
                                           tags=["type:complaint"]) for i in range(20)]
            database = int((cluster.datadir / "postmaster.pid").read_text().split()[0])
            log = root / "server.log"
            time.sleep(2)
            before = group_cpu(prefect.server.pid), tree_cpu(database), log.stat().st_size
            lines = []
            for i in range(m):
                run = runs[i % len(runs)]
                client.create_artifact(ArtifactCreate(
                    key=f"ticket-t{i % len(runs)}", type="markdown", data=markdown(run.name),
                    description=f"工单{run.name}的办理进度", flow_run_id=run.id))
                if i % 5 < 3:
                    client.update_flow_run(run.id, tags=["type:complaint", f"department:D{i}"])
                lines += [LogCreate(name="prefect.flow_runs", level=20, message=ROW,
                                    timestamp=run.created, flow_run_id=run.id)
                          .model_dump(mode="json") for _ in range(2)]
                if i % 5 in (1, 4):  # +0.4 log batches per execution, as measured in a run
                    client.create_logs(lines)
                    lines = []
            time.sleep(2)
            server, db = group_cpu(prefect.server.pid) - before[0], tree_cpu(database) - before[1]
            seen = requests_since(log, before[2])
        print(f"story of {m} executions: server {server / m:.4f} s, database {db / m:.4f} s CPU "
              f"per execution; {sum(seen.values()) / m:.2f} requests per execution "
              "(log lines in 0.4 batches per execution, as the run adds)", flush=True)
        for kind, count in sorted(seen.items(), key=lambda kv: -kv[1]):
            print(f"    {count / m:5.2f}  {kind}")
    finally:
        prefect.stop()
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
