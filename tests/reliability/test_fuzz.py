"""Schemathesis against the served /openapi.json of a real `fastqueue server`: every operation, a bounded
number of derandomized examples each, schema-valid and schema-invalid, and schema-valid again with the
path's ids naming a topic, a queue and messages that exist (so that the success answers are checked
too: a queue's messages include one with numbers no double holds, stored through SQL); no answer may be
a 5xx, and every answer must match the schema (a documented status, content type and body). Requests
may take as long as a long poll may wait (20 s); derandomized and bounded, the module takes about three
minutes.

schemathesis's own pytest integration (`from_fixture`) does not work with pytest 9 here, so this
drives its Python API: one test per operation, listed from the app's OpenAPI document at collection
time and looked up in the document the server serves."""

import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import psycopg
import pytest
import schemathesis
from fastqueue.gateway.main import create_app
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.generation import GenerationMode

from tests.conftest import create_database, drop_database, unique_name
from tests.support.server import ServerProcess

pytestmark = pytest.mark.fault

MAX_EXAMPLES = 20
# A long poll waits up to 20 s (wait_seconds): a request may take that long, and more on a busy machine.
REQUEST_TIMEOUT_SECONDS = 40
# The ids the known-ids pass puts in every path (the seeded topic and queue).
KNOWN_IDS = {"topic_id": "events", "queue_id": "all-events"}
CONFORMANCE = [status_code_conformance, content_type_conformance, response_schema_conformance]
HTTP_METHODS = {"get", "put", "post", "delete", "patch"}
OPERATIONS = sorted(
    (path, method.upper())
    for path, item in create_app().openapi()["paths"].items()
    for method in item
    if method in HTTP_METHODS
)


@pytest.fixture(scope="module")
def fuzz_server(template_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    name = unique_name("fq_fuzz")
    url = create_database(name, template=template_database)
    server = ServerProcess(database_url=url, log_dir=tmp_path_factory.mktemp("fuzz"), env={})
    # schemathesis reads answers with json.loads, which refuses integers of more than 4,300 digits by
    # default (a guard of Python's, not of JSON): this client reads what the server stores.
    digits = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        server.start()
        _seed(server.url, url)
        yield server
    finally:
        sys.set_int_max_str_digits(digits)
        server.stop()
        drop_database(name)


def _seed(url: str, database_url: str) -> None:
    """Ids the schema's examples name, so that some generated requests find something; run again before
    every request of the known-ids pass (a request before may have deleted them), with a message to lease."""
    with httpx.Client(base_url=url, timeout=15) as client:
        client.post("/topics", json={"id": "events"})
        client.post(
            "/queues",
            json={
                "id": "all-events",
                "topic_id": "events",
                "ack_deadline_seconds": 30,
                "message_retention_seconds": 1209600,
            },
        )
        client.post(
            "/topics/events/messages",
            json={"data": {"event_name": "event1", "n": 1.5, "list": [None, True]}, "ordering_key": "k"},
        )
    with psycopg.connect(database_url, autocommit=True) as conn:
        # Numbers jsonb keeps and no double holds: the answers must carry them (issue 13, item 3).
        conn.execute(
            "select fastqueue.publish('events', jsonb_build_object('n', repeat('9', 4301)::numeric,"
            " 'x', 1e5000::numeric, 'tiny', 1e-400::numeric, 'pi', 3.14159265358979323846264338327950288))"
        )


@pytest.fixture(scope="module")
def served_schema(fuzz_server: ServerProcess):
    return schemathesis.openapi.from_url(fuzz_server.url + "/openapi.json")


@dataclass
class FuzzResult:
    statuses: Counter = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _describe(case, response, exc: Exception) -> str:
    return (
        f"{case.method} {case.formatted_path} -> {response.status_code} {response.text[:200]!r}:"
        f" {type(exc).__name__}: {str(exc)[:600]}"
    )


def fuzz(operation, server: ServerProcess) -> FuzzResult:
    """Sends up to MAX_EXAMPLES generated requests per pass (schema-valid, schema-invalid, schema-valid
    with known ids in the path); records, rather than stops at, what the checks find (the first three of
    each kind are kept)."""
    result = FuzzResult()
    passes = [(GenerationMode.POSITIVE, False), (GenerationMode.NEGATIVE, False)]
    if any(name in KNOWN_IDS for name in _path_parameters(operation)):
        passes.append((GenerationMode.POSITIVE, True))
    for mode, known in passes:
        try:
            _fuzz_mode(operation, server, mode, result, known)
        except Unsatisfiable:
            result.notes.append(f"no {mode.value} input exists")
    return result


def _path_parameters(operation) -> list[str]:
    return [parameter.name for parameter in operation.path_parameters]


def _fuzz_mode(operation, server: ServerProcess, mode: GenerationMode, result: FuzzResult, known: bool = False) -> None:
    base_url = server.url
    label = "known" if known else mode.value[:3]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case) -> None:
        if known:
            _seed(base_url, server.database_url)
            case.path_parameters = {**case.path_parameters, **{
                name: value for name, value in KNOWN_IDS.items() if name in case.path_parameters
            }}  # fmt: skip
        response = case.call(base_url=base_url, timeout=REQUEST_TIMEOUT_SECONDS)
        result.statuses[f"{label} {response.status_code}"] += 1
        try:
            case.validate_response(response, checks=[not_a_server_error])
        except CHECK_FAILURES as exc:
            if len(result.server_errors) < 3:
                result.server_errors.append(_describe(case, response, exc))
        try:
            case.validate_response(response, checks=CONFORMANCE)
        except CHECK_FAILURES as exc:
            if len(result.mismatches) < 3:
                result.mismatches.append(_describe(case, response, exc))

    run()


# What a failed check raises (schemathesis's FailureGroup is a BaseExceptionGroup).
CHECK_FAILURES = (AssertionError, BaseExceptionGroup)


_results: dict[tuple[str, str], FuzzResult] = {}


def fuzz_once(path: str, method: str, schema, server: ServerProcess) -> FuzzResult:
    if (path, method) not in _results:
        _results[(path, method)] = result = fuzz(schema[path][method], server)
        print(
            f"\n[fuzz] {method} {path}: {sum(result.statuses.values())} requests, statuses"
            f" {dict(sorted(result.statuses.items()))}; {len(result.server_errors)} 5xx,"
            f" {len(result.mismatches)} schema mismatches {'; ' + ', '.join(result.notes) if result.notes else ''}"
        )
    return _results[(path, method)]


def _ids(operations) -> list[str]:
    return [f"{m} {p}" for p, m in operations]


@pytest.mark.parametrize("path, method", OPERATIONS, ids=_ids(OPERATIONS))
def test_fuzz_no_server_error(path: str, method: str, served_schema, fuzz_server: ServerProcess) -> None:
    result = fuzz_once(path, method, served_schema, fuzz_server)
    assert not result.server_errors, "\n\n".join(result.server_errors)


@pytest.mark.parametrize("path, method", OPERATIONS, ids=_ids(OPERATIONS))
def test_fuzz_schema_conformance(path: str, method: str, served_schema, fuzz_server: ServerProcess) -> None:
    result = fuzz_once(path, method, served_schema, fuzz_server)
    assert not result.mismatches, "\n\n".join(result.mismatches)
