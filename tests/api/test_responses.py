"""The message routes write their JSON themselves (app/gateway/responses.py), with data and attributes as the
JSON text PostgreSQL wrote, compacted (app/database/pool.py compact_json): for a message without fractional numbers
that is byte for byte what the response models would write (schemas.Message, MessageList, AckedCount,
NackedCount); numbers come out as PostgreSQL writes them. And the gateway parses the other jsonb values
with its own function (app/database/pool.py load_json), which must give what json.loads gives."""

import json
import math
import struct
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest
from fastqueue.database.pool import compact_json, load_json
from fastqueue.gateway.responses import message, message_list
from fastqueue.gateway.schemas import AckedCount, Message, MessageList, NackedCount
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

MESSAGE_LIST = TypeAdapter(MessageList)

# What psycopg hands back for a jsonb column: JSON values, with ints past 64 bits and floats of any size.
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
time_zones = st.sampled_from([None, UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-3))])
timestamps = st.builds(
    lambda moment, zone: moment.replace(tzinfo=zone),
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
    time_zones,
)
rows = st.fixed_dictionaries(
    {
        "id": st.uuids(),
        "queue_id": st.text(min_size=1, max_size=20),
        "data": st.dictionaries(st.text(max_size=8), json_values, max_size=5),
        "attributes": st.none() | st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=3),
        "delivery_attempts": st.integers(min_value=0, max_value=2**31 - 1),
        "expired_at": timestamps,
        "scheduled_at": timestamps,
        "created_at": timestamps,
        "updated_at": timestamps,
        "ordering_key": st.none() | st.text(min_size=1, max_size=10),
        # fastqueue.messages has more columns than the API shows: they must not appear.
        "ordering_blocked": st.booleans(),
    }
)


def jsonb_text(value: object) -> bytes:
    """A value as jsonb's text output writes it: ", " and ": " between items, non-ASCII as UTF-8."""
    return json.dumps(value, separators=(", ", ": "), ensure_ascii=False).encode()


# jsonb holds no fractional number the way Python writes it (jsonb: 0.00000015, Python: 1.5e-07): these
# are the values whose text both agree on.
whole_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(10**40), max_value=10**40) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
whole_rows = rows.flatmap(
    lambda row: st.dictionaries(st.text(max_size=8), whole_json_values, max_size=5).map(
        lambda data: {**row, "data": data}
    )
)


def as_fetched(row: dict) -> dict:
    """The row as app/database/pool.py fetch_messages hands it over: data and attributes as compact JSON text."""
    attributes = row["attributes"]
    return {
        **row,
        "data": compact_json(jsonb_text(row["data"])),
        "attributes": None if attributes is None else compact_json(jsonb_text(attributes)),
    }


@pytest.mark.gateway_only("in-process property test, no database")
@settings(max_examples=300, deadline=None)
@given(st.lists(whole_rows, max_size=4), st.sampled_from([200, 201]))
def test_message_list_is_what_the_model_writes(messages: list[dict], status_code: int) -> None:
    response = message_list([as_fetched(row) for row in messages], status_code)
    expected = MESSAGE_LIST.dump_json(MESSAGE_LIST.validate_python({"data": messages}))
    assert response.body == expected
    assert response.status_code == status_code
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-length"] == str(len(expected))


@pytest.mark.gateway_only("in-process property test, no database")
@settings(max_examples=200, deadline=None)
@given(json_values)
def test_compact_json_removes_only_jsonb_spaces(value: object) -> None:
    """Whatever the strings hold (", ", ": ", quotes, backslashes), compaction changes no value."""
    compact = compact_json(jsonb_text(value))
    assert compact == json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def test_message_fields_follow_the_model() -> None:
    row = {name: None for name in Message.model_fields} | {
        "id": uuid.uuid4(),
        "queue_id": "q",
        "data": b"{}",
        "delivery_attempts": 0,
        "ordering_key": "k",
        **{name: datetime.now(UTC) for name in ("expired_at", "scheduled_at", "created_at", "updated_at")},
    }
    written = json.loads(message(row))
    assert list(written) == list(Message.model_fields), (
        "a field added to schemas.Message goes into app/gateway/responses.py"
    )


def test_counts_are_what_the_models_write() -> None:
    from fastqueue.gateway.responses import json_response

    for model, key in ((AckedCount, "acked"), (NackedCount, "nacked")):
        adapter = TypeAdapter(model)
        assert json_response({key: 7}).body == adapter.dump_json(adapter.validate_python({key: 7}))


def test_published_and_consumed_messages_read_as_peek_shows_them(
    client: httpx.Client, make_topic: Callable[..., str], make_queue: Callable[..., dict]
) -> None:
    """peek still answers through the response model: the same message, the same bytes."""
    topic_id = make_topic()
    queue_id = make_queue(topic_id=topic_id)["id"]
    data = {
        "float": 1e16,
        "small": 1.5e-7,
        "big": 10**30,
        "text": 'é \u2028 <&> "quoted" \\',
        "list": [True, None, 0.1],
    }
    body = {"data": data, "attributes": {"kind": "ünïcode"}, "ordering_key": "key-1"}
    published = client.post(f"/topics/{topic_id}/messages", json=body)
    assert published.status_code == 201, published.text
    peeked = client.get(f"/queues/{queue_id}/peek")
    assert peeked.status_code == 200, peeked.text
    assert published.content == peeked.content

    consumed = client.get(f"/queues/{queue_id}/messages")
    assert consumed.status_code == 200, consumed.text
    peeked = client.get(f"/queues/{queue_id}/peek")  # now with the lease's delivery_attempts and schedule
    assert consumed.content == peeked.content
    ids = [m["id"] for m in json.loads(consumed.content)["data"]]
    acked = client.post("/messages/ack", json={"ids": ids})
    assert acked.status_code == 200 and acked.content == b'{"acked":1}'


def _same(a: object, b: object) -> bool:
    """Equal, and of the same types all the way down (1 is not 1.0), floats bit for bit."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return struct.pack("<d", a) == struct.pack("<d", b) or (math.isnan(a) and math.isnan(b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[key], b[key]) for key in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


# jsonb's text output writes numbers as PostgreSQL numerics: no exponent, any number of digits.
numerics = st.decimals(allow_nan=False, allow_infinity=False, places=None).map(lambda d: format(d, "f"))


@pytest.mark.gateway_only("in-process property test, no database")
@settings(max_examples=500, deadline=None)
@given(json_values, numerics)
def test_load_json_gives_what_json_loads_gives(value: object, numeric: str) -> None:
    for text in (json.dumps(value), json.dumps(value, separators=(", ", ": "), ensure_ascii=False), numeric):
        data = text.encode()
        assert _same(load_json(data), json.loads(data)), text


def test_load_json_takes_deep_nesting_as_json_loads_does() -> None:
    data = ("[" * 250 + "]" * 250).encode()  # past pydantic-core's 200 levels
    assert _same(load_json(data), json.loads(data))
    numeric = ("1" + "0" * 400 + ".5").encode()  # past a float's range: inf, as json.loads has it
    assert _same(load_json(numeric), json.loads(numeric))
    assert _same(load_json(b"0." + b"0" * 400 + b"1"), 0.0)
