"""The benchmark's smallest mode runs against the test cluster and writes a complete report.

`make bench` itself measures for many minutes; this only proves that every part runs, that the report
has all its sections, and that the HTTP load client's loss and double-delivery checks pass. It writes
to a temporary path, never to the committed BENCHMARKS.md.
"""

import json
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from tests.conftest import ADMIN_URL, unique_name

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent


def test_bench_quick_mode_writes_a_complete_report(tmp_path: Path) -> None:
    from bench import report
    from bench.common import Target
    from bench.report import SECTIONS, targets
    from bench.shardbench import plproxy_missing
    from bench.sqlbench import CASES

    output, shards_output = tmp_path / "BENCHMARKS.md", tmp_path / "shards" / "BENCHMARKS.md"
    shards_output.parent.mkdir()
    database, shards_database = unique_name("fq_bench"), unique_name("fq_bench")
    # the SQL cases but four whose code paths others take (raw_insert100 and raw_dequeue100: the raw
    # baselines'; consume_ack_100: consume_ack_10's; publish_fanout5: publish_fanout5_4k's): the time
    # they took pays for the shards part
    skipped = ("raw_insert100", "raw_dequeue100", "consume_ack_100", "publish_fanout5")
    cases = [case.name for case in CASES if case.name not in skipped]
    options = ["--quick", "--database-url", ADMIN_URL, "--drop-database", "--duration", "1"]
    command = [
        sys.executable,
        "-m",
        "bench",
        *options,
        "--database-name",
        database,
        "--clients",
        "2",
        "--cases",
        ",".join(cases),
        "--http-clients",
        "4",
        "--workers",
        "1",
        "--depths",
        "500,2000",
        "--endurance-duration",
        "6",
        "--sample-interval",
        "2",
        "--output",
        str(output),
    ]
    command += [arg for part in report.PARTS if part != "shards" for arg in ("--only", part)]
    # the shards part in a run of its own, at the same time (its own databases): the two runs wait
    # on servers and timers more than they use the cores
    shards_command = [sys.executable, "-m", "bench", *options, "--database-name", shards_database, "--only", "shards"]
    shards_command += ["--shard-counts", "2", "--shard-clients", "2", "--output", str(shards_output)]
    with subprocess.Popen(
        shards_command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as shards_run:
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=360)
        shards_log, _ = shards_run.communicate(timeout=360)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert shards_run.returncode == 0, shards_log[-3000:]

    # the shards run's results written over the other's, which carries every other part over: one
    # complete report, as `make bench ARGS="--only shards"` after a whole run would write it
    shards_results = json.loads(shards_output.with_suffix(".json").read_text())
    combined = tmp_path / "combined" / "BENCHMARKS.md"
    combined.parent.mkdir()
    combined.with_suffix(".json").write_text(output.with_suffix(".json").read_text())
    report.write(shards_results, combined)

    text = output.read_text()
    assert "Loss and double-delivery checks: all passed." in text
    assert "Carried over" not in text
    combined_text = combined.read_text()
    for section in SECTIONS:
        assert section in combined_text, f"{section} missing from the report"
    assert combined_text.count("> Carried over: measured") == 5  # SQL, depth, HTTP, endurance, push
    assert "Loss and double-delivery checks: all passed." in combined_text

    results = json.loads(output.with_suffix(".json").read_text())
    rows = results["sql"]["rows"]
    assert {r["case"] for r in rows} == {
        "publish_one",
        "publish_batch100",
        "consume_ack_1",
        "consume_ack_next_1",
        "consume_ack_10",
        "raw_insert",
        "raw_dequeue",
        "publish_one_4k",
        "publish_fanout5_4k",
    }
    assert all(r["failed"] == 0 for r in rows)
    # bytes per message of the 4 KiB cases: at least the payload itself went to disk for each message
    for row in rows:
        if row["case"].endswith("_4k"):
            assert row["messages_published"] > 0 and row["bytes_per_message"] > 4096, row
    # the lock-manager check sampled pg_locks while the cases ran
    assert sum(r["lock_samples"] for r in rows) > 0
    assert any(r["relation_locks_per_backend_max"] for r in rows)
    assert [r["depth"] for r in results["depth"]["rows"]] == [500, 2000]
    assert all(r["consume_ms"] for r in results["depth"]["rows"])
    http = results["http"]["rows"]
    assert {r["case"] for r in http} == {
        "publish",
        "consume+ack",
        "consume-with-acks",
        "sqs-send",
        "sqs-receive+delete",
        "end-to-end",
    }
    for row in http:
        assert row["checked"] > 0, row
        assert row["lost"] == 0 and row["duplicates"] == 0, row
        assert not row["errors"], row
        # issue 17: the server's CPU over the run, per request, from /proc
        assert row["cpu_us_per_request"] is not None and row["cpu_us_per_request"] > 0, row
    endurance = results["endurance"]
    assert endurance["steady"]["samples"] and endurance["held"]["released_at"] is not None
    for run in endurance.values():
        assert run["consume_probes"] > 0 and run["consume_p99_ms"] is not None
        assert run["sizes_last"]["total_bytes"] > 0
        # rotation runs during endurance as deployed (the pg_cron job, else a worker) wherever the store rotates
        assert run["rotation_kind"] in (("worker", "pg_cron") if run["store_rotates"] else ("none",)), run["rotation"]
    figures = {t["target"]: t for t in targets(results)}
    bytes_ratio = next(t for name, t in figures.items() if "on-disk bytes per message" in name)
    assert bytes_ratio["figure"] is not None and bytes_ratio["required"] == 1.3
    # each run says per part when it measured it (the JSON's record, which carry-over reads)
    assert set(results["measured"]) == {"sql", "http", "endurance", "push"}
    merged = json.loads(combined.with_suffix(".json").read_text())
    assert {part: m["carried"] for part, m in merged["measured"].items()} == {
        "sql": True,
        "http": True,
        "endurance": True,
        "push": True,
        "shards": False,
    }

    # issue 21: a router over 2 shards, overhead per call beside the shard, throughput beside one database
    shards = shards_results["shards"]
    missing = plproxy_missing(Target(ADMIN_URL, shards_database))
    if missing:
        assert shards == {"skipped": missing} and f"Not run: {missing}." in combined_text
    else:
        assert {r["call"] for r in shards["overhead"]} == {"publish", "consume", "ack"}
        for row in shards["overhead"]:
            assert row["router_us"] > 0 and row["direct_us"] > 0, row
        cells = {(r["case"], r["shards"], r["clients"]) for r in shards["throughput"]}
        assert cells == {(case, n, 2) for case in ("publish", "consume") for n in (0, 2)}
        for row in shards["throughput"]:
            assert row["messages"] > 0 and row["failed"] == 0, row
        assert shards["topics_per_shard"] == {"2": [8, 8]}
        assert "| publish | " in combined_text.split("## Sharding (PL/Proxy router)", 1)[1]
        overhead = [t for t in targets(merged) if t["target"].startswith("Sharding: router overhead")]
        assert len(overhead) == 3 and all(t["figure"] is not None for t in overhead)
    with psycopg.connect(ADMIN_URL) as conn:
        left = conn.execute(
            "select datname from pg_database where datname like %s or datname like %s",
            (database + "%", shards_database + "%"),
        ).fetchall()
    assert left == [], f"databases the bench left behind: {left}"


def test_each_http_case_runs_alone(tmp_path: Path) -> None:
    """--http-cases may pick any case: one that takes its prefill or duration from another case's must
    still run, and write its row."""
    output = tmp_path / "BENCHMARKS.md"
    database = unique_name("fq_bench")
    alone = ["consume-with-acks", "sqs-receive+delete"]
    ran = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--quick",
            "--database-url",
            ADMIN_URL,
            "--drop-database",
            "--database-name",
            database,
            "--only",
            "http",
            "--no-carry-over",
            "--duration",
            "1",
            "--http-clients",
            "2",
            "--workers",
            "1",
            "--http-cases",
            ",".join(alone),
            "--output",
            str(output),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert ran.returncode == 0, ran.stdout[-2000:] + ran.stderr[-3000:]
    rows = json.loads(output.with_suffix(".json").read_text())["http"]["rows"]
    assert [row["case"] for row in rows] == alone
    assert all(row["lost"] == 0 and row["duplicates"] == 0 and row["checked"] > 0 for row in rows), rows
