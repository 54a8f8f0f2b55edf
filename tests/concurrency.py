"""Helpers for tests that order two real connections with row locks: one transaction holds a lock,
another call runs in a thread and is seen waiting for it, then the first commits."""

import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg

WAIT_SECONDS = 20  # generous: the machine is shared


class Call:
    """Runs fn(conn) in a thread on its own autocommit connection; keeps its result or its error."""

    def __init__(self, database_url: str, fn: Callable[[psycopg.Connection], Any]) -> None:
        self.conn = psycopg.connect(database_url, autocommit=True)
        self.pid = self.conn.info.backend_pid
        self.result: Any = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(fn,), daemon=True)
        self._thread.start()

    def _run(self, fn: Callable[[psycopg.Connection], Any]) -> None:
        try:
            self.result = fn(self.conn)
        except BaseException as exc:  # handed back to the test
            self.error = exc

    def done(self) -> bool:
        return not self._thread.is_alive()

    def join(self) -> "Call":
        self._thread.join(timeout=WAIT_SECONDS)
        assert not self._thread.is_alive(), f"the call on backend {self.pid} did not finish"
        self.conn.close()
        return self


def is_waiting_for_a_lock(observer: psycopg.Connection, pid: int) -> bool:
    row = observer.execute("select wait_event_type from pg_stat_activity where pid = %s", (pid,)).fetchone()
    return row is not None and row[0] == "Lock"


def wait_until_blocked_or_done(observer: psycopg.Connection, call: Call) -> bool:
    """True once the call waits for a row lock, False if it finished without waiting."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if call.done():
            return False
        if is_waiting_for_a_lock(observer, call.pid):
            return True
        time.sleep(0.02)
    raise AssertionError(f"backend {call.pid} neither finished nor waited for a lock within {WAIT_SECONDS} s")


def race_behind_held_rows(database_url: str, first: str, second: str, messages: int = 50) -> tuple[Call, Call, int]:
    """Leases `messages` messages of a new queue 'jobs', holds their rows in a transaction (a nack),
    starts `first` and `second` (SQL taking the list of those ids as text, `%s::uuid[]`: `first` gets the
    first 30 in order, `second` the last 30 in reverse, so they overlap on 10) and sees both wait for the
    rows; then commits the holder and returns both finished calls and the number of messages left."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("select fastqueue.create_topic('events')")
        conn.execute("select fastqueue.create_queue('jobs', 'events', 600, 600)")
        conn.execute(
            "select count(*) from generate_series(1, %s) n, lateral fastqueue.publish('events', jsonb_build_object('n', n))",
            (messages,),
        )
        ids = [r[0] for r in conn.execute("select id::text from fastqueue.consume('jobs', %s)", (messages,)).fetchall()]
    with psycopg.connect(database_url) as holder, psycopg.connect(database_url, autocommit=True) as observer:
        holder.execute("select fastqueue.nack_messages(%s::uuid[], delay_seconds => 30)", (ids,))
        forward = Call(database_url, lambda conn: conn.execute(first, (ids[:30],)).fetchone()[0])
        backward = Call(database_url, lambda conn: conn.execute(second, (list(reversed(ids[-30:])),)).fetchone()[0])
        assert wait_until_blocked_or_done(observer, forward)
        assert wait_until_blocked_or_done(observer, backward)
        holder.commit()
        forward.join()
        backward.join()
        assert forward.error is None and backward.error is None, (forward.error, backward.error)
        left = observer.execute("select count(*) from fastqueue.messages").fetchone()[0]
    return forward, backward, left
