"""`make bench --only ...` keeps the parts it did not run: bench/report.py carries the previous results
file's figures over, each section labelled with the run that measured it. Small JSON inputs, no bench run."""

import json
from pathlib import Path
from typing import Any

from bench import report

MACHINE = {"cpu": "test cpu", "cores": "2"}


def meta(parts: list[str], finished_at: str, commit: str | None, minutes: float) -> dict[str, Any]:
    return {
        "finished_at": finished_at,
        "command": "make bench" if len(parts) > 1 else f'make bench ARGS="--only {parts[0]}"',
        "elapsed_minutes": minutes,
        "note": "",
        "machine": MACHINE,
        "settings": {"fsync": "on"},
        "cluster": "a test cluster",
        "duration": 10.0,
        "clients": [1, 4, 16],
        "http_clients": [4, 16],
        "workers": [1, 2],
        "depths": [1000, 1000000],
        "cases": None,
        "endurance_duration": 600,
        "sample_interval": 10.0,
        "parts": parts,
        "commit": commit,
    }


def sql_results(tps: float) -> dict[str, Any]:
    row = {
        "case": "publish_one",
        "label": "publish to 1 queue",
        "clients": 16,
        "tps": tps,
        "messages_per_second": tps,
        "latency_ms": 1.5,
        "failed": 0,
        "baseline": None,
        "ratio": None,
        "ran_dry": False,
        "command": "pgbench -f publish_one.sql",
    }
    return {"rows": [row], "store": "a store"}


def shards_results(overhead_us: float) -> dict[str, Any]:
    return {
        "overhead": [
            {
                "call": call,
                "shards": 1,
                "router_us": 1000 + overhead_us,
                "direct_us": 1000.0,
                "overhead_us": overhead_us,
                "router_cpu_us_per_call": 90.0,
                "direct_cpu_us_per_call": 300.0,
            }
            for call in ("publish", "consume", "ack")
        ],
        "throughput": [
            {
                "case": case,
                "shards": n,
                "clients": 16,
                "messages_per_second": 1000.0 * (n + 1),
                "ran_dry": False,
                "failed": 0,
            }
            for case in ("publish", "consume")
            for n in (0, 1, 2, 4)
        ],
        "shard_counts": [1, 2, 4],
        "clients": [16],
        "duration": 10.0,
        "topics": 16,
        "topics_per_shard": {"1": [16], "2": [8, 8], "4": [4, 4, 4, 4]},
        "cores": 2,
    }


def full_run() -> dict[str, Any]:
    """The results file a complete earlier run wrote (sql and shards measured; the other parts left out
    to keep the inputs small)."""
    results: dict[str, Any] = {
        "sql": sql_results(1234.0),
        "depth": {"rows": [{"depth": 1000, "consume_ms": 0.5, "cycle_ms": 1.0, "tps": 900.0, "depth_after": 1000}]},
        "shards": shards_results(321.0),
        "meta": meta(["sql", "shards"], "2026-12-01 10:00 UTC", "abc123def456", 35.0),
    }
    report.record_measured(results, {"sql": 12.5, "shards": 4.0})
    return results


def test_a_part_not_run_keeps_its_figures_and_says_which_run_measured_them(tmp_path: Path) -> None:
    output, json_output = tmp_path / "BENCHMARKS.md", tmp_path / "BENCHMARKS.json"
    report.write(full_run(), output, json_output)

    # a later run measures the shards part only
    later: dict[str, Any] = {
        "shards": shards_results(111.0),
        "meta": meta(["shards"], "2026-12-02 09:00 UTC", "fedcba987654", 5.0),
    }
    report.record_measured(later, {"shards": 4.5})
    report.write(later, output, json_output)

    text = output.read_text()
    sql_section = text.split("## SQL level", 1)[1].split("\n## ", 1)[0]
    assert "1,234" in sql_section  # the earlier run's TPS, still there
    assert "Not run" not in sql_section
    assert (
        "> Carried over: measured 2026-12-01 10:00 UTC at commit abc123def456 by `make bench`"
        " (10.0 s per case, this part took 12.5 minutes, its run 35.0 minutes)" in sql_section
    )
    depth_section = text.split("## Consume latency versus queue depth", 1)[1].split("\n## ", 1)[0]
    assert "Carried over: measured 2026-12-01 10:00 UTC" in depth_section and "0.500" in depth_section
    shards_section = text.split(report.SHARDS_SECTION, 1)[1].split("\n## ", 1)[0]
    assert "Carried over" not in shards_section  # measured by this run: its own figures
    assert "| publish | 1,000 | 1,111 | 111 |" in shards_section
    assert "Carried over from earlier runs (this run did not measure them): sql" in text
    # parts that neither run measured stay "Not run"
    http_section = text.split("## HTTP level", 1)[1].split("\n## ", 1)[0]
    assert "Not run (`--only`)." in http_section

    saved = json.loads(json_output.read_text())
    assert saved["sql"] == sql_results(1234.0)
    assert saved["measured"]["sql"] == {
        "finished_at": "2026-12-01 10:00 UTC",
        "commit": "abc123def456",
        "command": "make bench",
        "run_minutes": 35.0,
        "part_minutes": 12.5,
        "duration": 10.0,
        "carried": True,
    }
    assert saved["measured"]["shards"]["finished_at"] == "2026-12-02 09:00 UTC"
    assert saved["measured"]["shards"]["carried"] is False
    assert "http" not in saved["measured"]

    # a third run carries the sql part again: still labelled with the run that measured it
    third: dict[str, Any] = {
        "shards": shards_results(99.0),
        "meta": meta(["shards"], "2026-12-03 09:00 UTC", None, 5.0),
    }
    report.record_measured(third, {"shards": 4.0})
    report.write(third, output, json_output)
    again = json.loads(json_output.read_text())
    assert again["measured"]["sql"]["finished_at"] == "2026-12-01 10:00 UTC"
    assert again["sql"] == sql_results(1234.0)


def test_targets_from_a_carried_part_say_so(tmp_path: Path) -> None:
    output = tmp_path / "BENCHMARKS.md"
    report.write(full_run(), output)
    later: dict[str, Any] = {"sql": sql_results(2000.0), "meta": meta(["sql"], "2026-12-02 09:00 UTC", "fedcba", 9.0)}
    report.record_measured(later, {"sql": 9.0})
    report.write(later, output)
    rows = [line for line in output.read_text().split("## Targets", 1)[1].splitlines() if line.startswith("| ")]
    overhead = next(line for line in rows if "router overhead per publish call" in line)
    assert "| 321 µs |" in overhead and "carried from 2026-12-01 10:00 UTC" in overhead
    # a target of this run's own part carries no such mark
    assert not any("carried from" in line for line in rows if line.startswith("| SQL "))


def test_a_results_file_from_before_carry_over_is_labelled_from_its_run(tmp_path: Path) -> None:
    """bench/BENCHMARKS.json as committed before the carry-over: no "measured", no commit."""
    old = full_run()
    del old["measured"]
    del old["meta"]["commit"]
    json_output = tmp_path / "BENCHMARKS.json"
    json_output.write_text(json.dumps(old))
    later: dict[str, Any] = {
        "shards": shards_results(50.0),
        "meta": meta(["shards"], "2026-12-02 09:00 UTC", "fe", 5.0),
    }
    report.record_measured(later, {"shards": 4.0})
    report.write(later, tmp_path / "BENCHMARKS.md", json_output)
    text = (tmp_path / "BENCHMARKS.md").read_text()
    assert (
        "> Carried over: measured 2026-12-01 10:00 UTC at a commit not recorded by `make bench`"
        " (10.0 s per case, its run 35.0 minutes)" in text
    )


def test_no_carry_over_leaves_parts_not_run_out(tmp_path: Path) -> None:
    output = tmp_path / "BENCHMARKS.md"
    report.write(full_run(), output)
    later: dict[str, Any] = {
        "shards": shards_results(50.0),
        "meta": meta(["shards"], "2026-12-02 09:00 UTC", "fe", 5.0),
    }
    report.record_measured(later, {"shards": 4.0})
    report.write(later, output, carry=False)
    sql_section = output.read_text().split("## SQL level", 1)[1].split("\n## ", 1)[0]
    assert "Not run (`--only`)." in sql_section and "1,234" not in sql_section
