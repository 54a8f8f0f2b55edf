"""The one place where database errors become HTTP responses.

The SQL API raises every error with a SQLSTATE and a sentence for the caller (db/functions/*.sql);
here the SQLSTATE picks the status and the sentence (the error's primary message) becomes
{"detail": ...}. Routes never choose an error status themselves.

    P0002 no_data_found                   404  "Queue not found"
    23505 unique_violation                422  "This queue already exists" (as fastqueue 1.7)
    22023 invalid_parameter_value         422  which value is wrong and the allowed range
    23514 check_violation                 422  a table rule, should a function let one through
    22P05 untranslatable_character        422  "\\u0000" inside a JSON string
    22P02 invalid_text_representation     422  JSON PostgreSQL refuses (lone surrogates, NaN)
    54000 program_limit_exceeded          413  "Message too large: <size> bytes, the limit is <limit> bytes"
    FQ409 stale delivery (fastqueue's)    409  "Stale delivery: the message is now on delivery attempt <n>, not <given>"
    client-side DataError                 422  a NUL byte in a text argument (psycopg refuses to send it)
    55P03 lock_not_available, 57014 query_canceled
                                          503  lock_timeout or statement_timeout ran out (app/database/pool.py)
    class 08, 57P01-57P03, OperationalError, pool timeout
                                          503  the database cannot be reached now (a restart, a failover)
    25006 read_only_sql_transaction       503  the connection reached a standby, not the primary
    Every 503 carries Retry-After: 1. A publish or an ack that got a 503 or no answer has an unknown
    outcome (docs/ha.md): retry a publish with the same deduplication_id; a retried ack is harmless.
    anything else                         500  a bug: logged with its traceback and the database's text;
                                               the answer says only "Internal Server Error"

Only the sentences of the SQLSTATEs above (fastqueue's own, written for the caller) reach an answer: an
error this table does not map may name a table, a constraint or a value, so its text goes to the log.

Requests that do not fit the schemas never reach the database: they get FastAPI's 422 with a list
of the fields at fault, as fastqueue 1.7 did (rendered here only so that a lone surrogate echoed back
from the input cannot turn it into a 500). A body sent with a content type that is not JSON is not
parsed at all (FastAPI hands its bytes to the schema): its 422 says to send JSON, and echoes the bytes
only as text that cannot fail to encode. Two answers come from middleware before any of this: 413
for a request body too large to hold an acceptable message (app/limits.py) and 401/403 when
authentication is on (app/gateway/auth.py).
"""

import json
import logging
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

log = logging.getLogger("fastqueue.errors")

STATUS_BY_SQLSTATE = {
    "P0002": 404,
    "23505": 422,
    "22023": 422,
    "23514": 422,
    "22P05": 422,
    "22P02": 422,
    "54000": 413,  # program_limit_exceeded: publish's message size limit
    "FQ409": 409,  # fastqueue's own: ack/nack/set_deadline with a delivery_attempt that is no longer the latest
    "FQDUP": 409,  # fastqueue's own: a deduplication_id already used on the topic for a different message
    "55P03": 503,  # lock_not_available: the gateway's lock_timeout ran out
    "57014": 503,  # query_canceled: the gateway's statement_timeout ran out
    "57P01": 503,  # admin_shutdown
    "57P02": 503,  # crash_shutdown
    "57P03": 503,  # cannot_connect_now
    "25006": 503,  # read_only_sql_transaction: a standby reached (a multi-host URL without target_session_attrs=read-write)
}
# Sent with every 503: the database is away for a moment (a restart, a failover to the standby, a lock).
RETRY_AFTER_SECONDS = 1
UNAVAILABLE = "The database is unavailable, try again later"
TIMED_OUT = (
    "The database did not answer in time (a row locked by another session, or a long statement), try again later"
)
TIMEOUT_SQLSTATES = frozenset({"55P03", "57014"})
INTERNAL_ERROR = "Internal Server Error"


def status_for(exc: psycopg.Error) -> int:
    sqlstate = exc.sqlstate
    if sqlstate in STATUS_BY_SQLSTATE:
        return STATUS_BY_SQLSTATE[sqlstate]
    if sqlstate is not None and sqlstate.startswith("08"):  # connection_exception
        return 503
    if isinstance(exc, psycopg.OperationalError):  # includes psycopg_pool.PoolTimeout and lost connections
        return 503
    if sqlstate is None and isinstance(exc, psycopg.DataError):  # refused by psycopg before sending
        return 422
    return 500


def detail_for(exc: psycopg.Error, status: int) -> str:
    if exc.sqlstate in TIMEOUT_SQLSTATES:
        return TIMED_OUT
    if status == 503:
        # Connection errors name hosts and ports: operators find them in the log, clients need not.
        return UNAVAILABLE
    if status >= 500:
        # Unmapped: the database's own text (a constraint's name, a value) is for the log only.
        return INTERNAL_ERROR
    message = exc.diag.message_primary if exc.sqlstate else None
    return (message or str(exc)).strip() or INTERNAL_ERROR


async def database_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, psycopg.Error)
    status = status_for(exc)
    if status >= 500:
        log.error(
            "%s %s failed: %s (sqlstate %s)",
            request.method,
            request.url.path,
            str(exc).strip(),
            exc.sqlstate,
            exc_info=status == 500,
        )
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if status == 503 else None
    return JSONResponse({"detail": detail_for(exc, status)}, status_code=status, headers=headers)


class _EscapingJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        try:
            return super().render(content)
        except UnicodeEncodeError:
            # The input held a lone surrogate ("\ud800"), which UTF-8 cannot encode: escape it instead.
            return json.dumps(content, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode("ascii")


NOT_JSON = (
    "The body was not read as JSON: send a JSON object with the header Content-Type: application/json"
    " (the content type given was {content_type!r})"
)


def _readable(error: dict[str, Any], request: Request) -> dict[str, Any]:
    """A body FastAPI did not parse (its content type is not JSON) reaches the schema as bytes, which
    may not be UTF-8: say what to send, and show the bytes as text."""
    if not isinstance(error.get("input"), bytes):
        return error
    content_type = request.headers.get("content-type", "")
    return {
        **error,
        "msg": NOT_JSON.format(content_type=content_type[:100]),
        "input": error["input"][:200].decode("utf-8", "backslashreplace"),
    }


async def invalid_request(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [_readable(error, request) for error in exc.errors()]
    return _EscapingJSONResponse({"detail": jsonable_encoder(errors)}, status_code=422)


async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    # Starlette logs the traceback itself after this handler answers.
    return JSONResponse({"detail": INTERNAL_ERROR}, status_code=500)


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(psycopg.Error, database_error)
    app.add_exception_handler(Exception, unexpected_error)
