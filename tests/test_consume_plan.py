"""consume() on a queue with 100,000 messages leases through an index scan, not a table scan.

auto_explain logs the plans of the statements inside consume() (a PL/pgSQL function, so a plain
EXPLAIN would show only "Function Scan"); with client_min_messages = log those plans reach us as
notices. Timings are printed for the record, not asserted: speed targets live in bench/.
"""

import json
import statistics
import time

import psycopg

QUEUED = 100_000


def walk(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from walk(child)


def test_consume_uses_the_queue_index_at_100k_messages(conn: psycopg.Connection) -> None:
    conn.execute("select fastqueue.create_topic('events')")
    conn.execute("select fastqueue.create_queue('big', 'events', 600, 86400)")
    conn.execute("select fastqueue.create_queue('other', null, 600, 86400)")
    # Set-based fill (a publish() call per row would take minutes): half of the rows in another
    # queue so the index has to pick one queue's range.
    for queue in ("big", "other"):
        conn.execute(
            """insert into fastqueue.messages (queue_id, data, expired_at, scheduled_at, created_at)
               select %s, jsonb_build_object('n', n), now() + interval '1 day',
                      now() - (n || ' milliseconds')::interval, now() - interval '1 minute'
                 from generate_series(1, %s) n""",
            (queue, QUEUED),
        )
    conn.execute("vacuum analyze fastqueue.messages")
    for _ in range(6):  # the plan that stays in use (consume forces a generic plan anyway)
        conn.execute("select id from fastqueue.consume('big', 10)").fetchall()

    plans: list[dict] = []

    def keep_plan(diag: psycopg.errors.Diagnostic) -> None:
        # auto_explain's message: "duration: 0.123 ms  plan:\n{json}"
        message = diag.message_primary or ""
        if message.startswith("duration:"):
            head, plan = message.split("\n", 1)
            plans.append({**json.loads(plan), "Duration": float(head.split()[1])})

    conn.add_notice_handler(keep_plan)
    conn.execute("load 'auto_explain'")
    for setting, value in {
        "auto_explain.log_min_duration": "0",
        "auto_explain.log_nested_statements": "on",
        "auto_explain.log_analyze": "on",
        "auto_explain.log_format": "json",
        "client_min_messages": "log",
    }.items():
        conn.execute("select set_config(%s, %s, false)", (setting, value))

    leased = conn.execute("select id from fastqueue.consume('big', 10)").fetchall()
    assert len(leased) == 10

    # Two statements lease: one picks and locks the messages (FOR UPDATE SKIP LOCKED), one updates
    # them by physical address (ctid). Neither may read the table from end to end.
    texts = [p.get("Query Text", "").lower() for p in plans]
    pick_plans = [p for p, t in zip(plans, texts) if "for update skip locked" in t]
    update_plans = [p for p, t in zip(plans, texts) if "update fastqueue.messages" in t]
    assert pick_plans and update_plans, f"no plan logged for the lease statements; saw: {texts}"
    nodes = [node for plan in pick_plans for node in walk(plan["Plan"])]
    index_scans = [n for n in nodes if n.get("Relation Name") == "messages" and "Index" in n["Node Type"]]
    assert any(n.get("Index Name") == "messages_queue_id_scheduled_at_idx" for n in index_scans), nodes
    all_nodes = [node for plan in pick_plans + update_plans for node in walk(plan["Plan"])]
    assert not [n for n in all_nodes if n["Node Type"] == "Seq Scan" and n.get("Relation Name") == "messages"]
    # The update finds the locked rows by their address, without an index descent per row.
    assert any(n["Node Type"] == "Tid Scan" for plan in update_plans for n in walk(plan["Plan"]))

    conn.execute("select set_config('client_min_messages', 'notice', false)")
    conn.execute("select set_config('auto_explain.log_min_duration', '-1', false)")
    durations = []
    for _ in range(50):
        started = time.perf_counter()
        conn.execute("select id from fastqueue.consume('big', 10)").fetchall()
        durations.append((time.perf_counter() - started) * 1000)
    print(
        f"\nconsume(10) at {QUEUED} queued: lease statements {pick_plans[0]['Duration'] + update_plans[0]['Duration']:.3f} ms"
        f" (index scan {index_scans[0].get('Actual Total Time', 0):.3f} ms);"
        f" median round trip over 50 calls {statistics.median(durations):.3f} ms"
    )
