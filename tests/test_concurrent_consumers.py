"""Many consumers racing over one queue: each message is leased by exactly one of them."""

import threading
from collections import Counter

import psycopg

CONSUMERS = 8
MESSAGES = 1000


def test_racing_consumers_each_get_distinct_messages(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("select fastqueue.create_topic('events')")
        conn.execute("select fastqueue.create_queue('jobs', 'events', 600, 600)")
        conn.execute(
            "select count(*) from generate_series(1, %s) n,"
            " lateral fastqueue.publish('events', jsonb_build_object('n', n))",
            (MESSAGES,),
        )

    delivered: list[list[tuple[str, int]]] = [[] for _ in range(CONSUMERS)]
    start = threading.Barrier(CONSUMERS)
    errors: list[BaseException] = []

    def consume(slot: int) -> None:
        try:
            with psycopg.connect(database_url, autocommit=True) as conn:
                start.wait()
                while True:
                    rows = conn.execute(
                        "select id::text, delivery_attempts from fastqueue.consume('jobs', 7)"
                    ).fetchall()
                    if not rows:
                        return
                    delivered[slot].extend(rows)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=consume, args=(slot,)) for slot in range(CONSUMERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    everything = [row for rows in delivered for row in rows]
    counts = Counter(message_id for message_id, _ in everything)
    assert len(counts) == MESSAGES
    assert [m for m, c in counts.items() if c > 1] == [], "a message was leased twice within its lease"
    assert {attempts for _, attempts in everything} == {1}
    assert sum(1 for rows in delivered if rows) > 1, "only one consumer got work: the race did not happen"

    with psycopg.connect(database_url, autocommit=True) as conn:
        acked = conn.execute("select count(*) filter (where fastqueue.ack(id)) from fastqueue.messages").fetchone()[0]
        assert acked == MESSAGES
        assert conn.execute("select count(*) from fastqueue.messages").fetchone()[0] == 0
