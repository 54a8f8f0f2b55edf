"""The benchmark's smallest mode runs against the test cluster and writes a complete report.

`make bench` itself measures for many minutes; this only proves that every part runs, that the report
has all its sections, and that the HTTP load client's loss and double-delivery checks pass. It writes
to a temporary path, never to the committed BENCHMARKS.md.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ADMIN_URL, unique_name

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent


def test_bench_quick_mode_writes_a_complete_report(tmp_path: Path) -> None:
    from bench.report import SECTIONS, targets

    output = tmp_path / "BENCHMARKS.md"
    command = [
        sys.executable,
        "-m",
        "bench",
        "--quick",
        "--database-url",
        ADMIN_URL,
        "--database-name",
        unique_name("fq_bench"),
        "--drop-database",
        "--duration",
        "1",
        "--clients",
        "2",
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
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=360)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    text = output.read_text()
    for section in SECTIONS:
        assert section in text, f"{section} missing from the report"
    assert "Loss and double-delivery checks: all passed." in text

    results = json.loads(output.with_suffix(".json").read_text())
    rows = results["sql"]["rows"]
    assert {r["case"] for r in rows} >= {
        "publish_one",
        "publish_fanout5",
        "publish_batch100",
        "consume_ack_1",
        "consume_ack_next_1",
        "consume_ack_10",
        "consume_ack_100",
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
