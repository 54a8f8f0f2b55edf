"""consume() on a queue with 100,000 messages leases through an index scan, not a table scan: a Merge
Append of both slots' (queue_id, scheduled_at) indexes under the row locks, the update by id, and
each leased row's body by one index probe on (slot, id), never a join that sorts or hashes the
body table (docs/storage.md, Plan shapes).

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
    # Set-based fill of the store's tables (a publish() call per row would take minutes): half of
    # the rows in another queue so the index has to pick one queue's range, and each queue's rows
    # spread over both slots (odd n in slot 0, even n in slot 1) so the lease has to read both.
    for queue in ("big", "other"):
        conn.execute(
            """with body as (
                   insert into fastqueue.message_bodies (slot, id, data, size_bytes, created_at)
                   select (n %% 2)::smallint, gen_random_uuid(), jsonb_build_object('n', n), 10, now() - interval '1 minute'
                     from generate_series(1, %s) n
                   returning slot, id, data, created_at)
               insert into fastqueue.deliveries (slot, body_id, queue_id, scheduled_at, expired_at, created_at, updated_at)
               select b.slot, b.id, %s, now() - ((b.data ->> 'n') || ' milliseconds')::interval,
                      now() + interval '1 day', b.created_at, now()
                 from body b""",
            (QUEUED, queue),
        )
    conn.execute("vacuum analyze fastqueue.deliveries, fastqueue.message_bodies")
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
    # them by id and returns them with their bodies. Neither may read a table from end to end.
    texts = [p.get("Query Text", "").lower() for p in plans]
    pick_plans = [p for p, t in zip(plans, texts) if "for update skip locked" in t]
    update_plans = [p for p, t in zip(plans, texts) if "update fastqueue.deliveries" in t]
    assert pick_plans and update_plans, f"no plan logged for the lease statements; saw: {texts}"
    nodes = [node for plan in pick_plans for node in walk(plan["Plan"])]
    # Both slots in one ordered scan: a Merge Append of the two children's queue index.
    assert any(n["Node Type"] == "Merge Append" for n in nodes), nodes
    index_scans = [
        n for n in nodes if str(n.get("Relation Name", "")).startswith("deliveries_") and "Index" in n["Node Type"]
    ]
    assert {n.get("Index Name") for n in index_scans} >= {
        "deliveries_0_queue_id_scheduled_at_idx",
        "deliveries_1_queue_id_scheduled_at_idx",
    }, nodes
    all_nodes = [node for plan in pick_plans + update_plans for node in walk(plan["Plan"])]
    store = ("deliveries_0", "deliveries_1", "message_bodies_0", "message_bodies_1")
    assert not [n for n in all_nodes if n["Node Type"] == "Seq Scan" and n.get("Relation Name") in store]
    # No sort or hash of the body table: each leased row's body is one index probe on (slot, id).
    body_scans = [n for n in all_nodes if str(n.get("Relation Name", "")).startswith("message_bodies")]
    assert body_scans, all_nodes
    assert all(
        n["Node Type"] == "Index Scan"
        and n.get("Index Name", "").endswith("_id_idx")
        and "body_id" in n.get("Index Cond", "")
        for n in body_scans
    ), body_scans
    assert not [n for n in all_nodes if n["Node Type"] in ("Hash", "Hash Join", "Merge Join")], all_nodes
    update_nodes = [node for plan in update_plans for node in walk(plan["Plan"])]
    assert {n.get("Index Name") for n in update_nodes if "Index" in n["Node Type"]} >= {
        "deliveries_0_id_idx",
        "deliveries_1_id_idx",
    }, update_nodes
    assert any(n.get("Index Name", "").startswith("message_bodies_") for n in update_nodes), update_nodes

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
