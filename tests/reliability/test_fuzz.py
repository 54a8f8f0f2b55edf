"""Schemathesis against the served /openapi.json of a real `fastqueue server`: every operation, a bounded
number of derandomized examples each, schema-valid and schema-invalid; no answer may be a 5xx, and
every answer must match the schema (a documented status, content type and body).

schemathesis's own pytest integration (`from_fixture`) does not work with pytest 9 here, so this
drives its Python API: one test per operation, listed from the app's OpenAPI document at collection
time and looked up in the document the server serves."""

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.generation import GenerationMode

from app.main import create_app
from tests.conftest import create_database, drop_database, unique_name
from tests.reliability.conftest import ServerProcess

pytestmark = pytest.mark.fault

MAX_EXAMPLES = 25
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
    try:
        server.start()
        _seed(server.url)
        yield server
    finally:
        server.stop()
        drop_database(name)


def _seed(url: str) -> None:
    """Ids the schema's examples name, so that some generated requests find something."""
    import httpx

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


def fuzz(operation, base_url: str) -> FuzzResult:
    """Sends up to MAX_EXAMPLES generated requests per generation mode; records, rather than stops at,
    what the checks find (the first three of each kind are kept)."""
    result = FuzzResult()
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        try:
            _fuzz_mode(operation, base_url, mode, result)
        except Unsatisfiable:
            result.notes.append(f"no {mode.value} input exists")
    return result


def _fuzz_mode(operation, base_url: str, mode: GenerationMode, result: FuzzResult) -> None:
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
        response = case.call(base_url=base_url, timeout=15)
        result.statuses[f"{mode.value[:3]} {response.status_code}"] += 1
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


def fuzz_once(path: str, method: str, schema, base_url: str) -> FuzzResult:
    if (path, method) not in _results:
        _results[(path, method)] = result = fuzz(schema[path][method], base_url)
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
    result = fuzz_once(path, method, served_schema, fuzz_server.url)
    assert not result.server_errors, "\n\n".join(result.server_errors)


@pytest.mark.parametrize("path, method", OPERATIONS, ids=_ids(OPERATIONS))
def test_fuzz_schema_conformance(path: str, method: str, served_schema, fuzz_server: ServerProcess) -> None:
    result = fuzz_once(path, method, served_schema, fuzz_server.url)
    assert not result.mismatches, "\n\n".join(result.mismatches)
