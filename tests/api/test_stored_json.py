"""Any JSON PostgreSQL stores comes back over HTTP, exactly (issue 13, item 3).

jsonb holds numbers as PostgreSQL numerics: any number of digits, no exponent. A message SQL accepts
(a number of 4,301 digits, 1e5000) once answered 500 on every consume, after leasing the batch, and on
every peek: the queue was poisoned. The gateway now sends data and attributes as PostgreSQL writes them
(compacted), never parsing them into Python numbers, and a consume leases nothing it then fails to send.
"""

import json
from collections.abc import Callable
from decimal import Decimal

import httpx
import psycopg
import pytest

HUGE_INTEGER = "9" * 4301  # past Python's 4,300-digit limit for int <-> str
EXACT_DECIMAL = "3.14159265358979323846264338327950288419716939937510"


def _publish_sql(db: psycopg.Connection, topic_id: str, data_sql: str) -> None:
    db.execute(f"select fastqueue.publish(%s, {data_sql})", (topic_id,))


def _raw_numbers(body: bytes) -> dict:
    """The answer parsed with every number kept as its text."""
    return json.loads(body, parse_int=str, parse_float=str)


@pytest.mark.single_database("reads or changes fastqueue.messages directly (a router has no tables)")
def test_numbers_of_any_size_are_delivered_exactly(
    client: httpx.Client, db: psycopg.Connection, make_topic: Callable[..., str], make_queue: Callable[..., dict]
) -> None:
    topic_id = make_topic()
    queue_id = make_queue(topic_id=topic_id)["id"]
    _publish_sql(db, topic_id, "jsonb_build_object('n', repeat('9', 4301)::numeric)")
    _publish_sql(db, topic_id, f"""'{{"x": 1e5000, "pi": {EXACT_DECIMAL}, "tiny": 1e-400}}'::jsonb""")
    _publish_sql(db, topic_id, """'{"ordinary": true}'::jsonb""")

    peeked = client.get(f"/queues/{queue_id}/peek")
    assert peeked.status_code == 200, peeked.text[:300]
    consumed = client.get(f"/queues/{queue_id}/messages")
    assert consumed.status_code == 200, consumed.text[:300]
    messages = _raw_numbers(consumed.content)["data"]
    assert [m["delivery_attempts"] for m in messages] == ["1", "1", "1"]
    assert messages[0]["data"] == {"n": HUGE_INTEGER}
    assert messages[1]["data"] == {
        "x": "1" + "0" * 5000,
        "pi": EXACT_DECIMAL,
        "tiny": "0." + "0" * 399 + "1",
    }
    assert messages[2]["data"] == {"ordinary": True}
    # The answer is JSON any parser reads, and the numbers are PostgreSQL's own.
    stored = db.execute(
        "select data::text from fastqueue.messages where queue_id = %s order by created_at", (queue_id,)
    ).fetchall()
    assert [Decimal(m["data"]["n"]) for m in messages[:1]] == [Decimal(HUGE_INTEGER)]
    assert [json.loads(text, parse_int=str, parse_float=str) for (text,) in stored] == [m["data"] for m in messages]


@pytest.mark.single_database("reads or changes fastqueue.messages directly (a router has no tables)")
def test_a_consume_answers_every_message_it_leases(
    client: httpx.Client, db: psycopg.Connection, make_topic: Callable[..., str], make_queue: Callable[..., dict]
) -> None:
    """The neighbours of a message with a huge number are delivered with it, each lease answered."""
    topic_id = make_topic()
    queue_id = make_queue(topic_id=topic_id)["id"]
    for n in range(3):
        _publish_sql(db, topic_id, f"""'{{"n": {n}}}'::jsonb""")
    _publish_sql(db, topic_id, """'{"x": 1e5000}'::jsonb""")
    consumed = client.get(f"/queues/{queue_id}/messages", params={"limit": 10})
    assert consumed.status_code == 200, consumed.text[:300]
    answered = {m["id"] for m in json.loads(consumed.content, parse_int=str, parse_float=str)["data"]}
    leased = {
        str(row[0])
        for row in db.execute(
            "select id from fastqueue.messages where queue_id = %s and delivery_attempts > 0", (queue_id,)
        )
    }
    assert len(answered) == 4 and leased == answered


def test_attributes_and_strings_come_back_as_sent(
    client: httpx.Client, make_topic: Callable[..., str], make_queue: Callable[..., dict]
) -> None:
    topic_id = make_topic()
    queue_id = make_queue(topic_id=topic_id)["id"]
    data = {"text": 'a, b: "c" \\ \u2028 é \n\t\u0001', "nested": {"list": [1, "x, y", {"k": ": "}], "empty": {}}}
    attributes = {"kind": "a, b", "other": ": x"}
    published = client.post(f"/topics/{topic_id}/messages", json={"data": data, "attributes": attributes})
    assert published.status_code == 201, published.text
    consumed = client.get(f"/queues/{queue_id}/messages")
    assert consumed.status_code == 200, consumed.text
    [message] = consumed.json()["data"]
    assert message["data"] == data and message["attributes"] == attributes
    # Compact: no space outside strings, strings escaped as the other answers escape them.
    compact = json.dumps(json.loads(consumed.content), separators=(",", ":"), ensure_ascii=False).encode()
    assert consumed.content == compact


def test_http_publish_of_huge_numbers_is_stored_exactly_or_refused(
    client: httpx.Client, make_topic: Callable[..., str], make_queue: Callable[..., dict]
) -> None:
    """The request side: a number JSON allows but a double cannot hold is a 422 saying so, or a store of
    what the gateway read: every digit of an integer, the nearest double of a fraction (as JSON parsers
    read numbers; publish from SQL to keep every digit)."""
    topic_id = make_topic()
    queue_id = make_queue(topic_id=topic_id)["id"]
    for number in (HUGE_INTEGER, "1e5000", "-1e5000", EXACT_DECIMAL):
        body = b'{"data": {"n": ' + number.encode() + b"}}"
        response = client.post(
            f"/topics/{topic_id}/messages", content=body, headers={"content-type": "application/json"}
        )
        assert response.status_code < 500, (number[:20], response.status_code, response.text[:300])
        if response.status_code == 201:
            [message] = _raw_numbers(response.content)["data"]
            expected = Decimal(number) if number.lstrip("-").isdigit() else Decimal(repr(float(number)))
            assert Decimal(message["data"]["n"]) == expected, number[:20]
        else:
            assert response.status_code == 422, response.text[:300]
            assert "number" in response.text, response.text[:300]
    consumed = client.get(f"/queues/{queue_id}/messages", params={"limit": 10})
    assert consumed.status_code == 200, consumed.text[:300]
