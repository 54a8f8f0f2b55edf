"""How the gateway reads a JSON request body: as FastAPI does (json.loads), but a number Python cannot
hold as the JSON said it is refused with a 422 saying so, instead of FastAPI's 400 "There was an error
parsing the body" (an integer of more than 4,300 digits) or a value PostgreSQL then refuses (1e999 read
as infinity, NaN). A number with more digits than a double holds is rounded to the nearest double, as
most JSON parsers do; to keep every digit, send it as a string, or publish from SQL (jsonb keeps them).
"""

import json
import math
import re
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import HTTPException
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

_NONZERO_MANTISSA = re.compile(r"^-?0*\.?0*[1-9]")


def _shown(text: str) -> str:
    return text if len(text) <= 24 else f"{text[:20]}... ({len(text)} characters)"


def _refuse(text: str, why: str) -> HTTPException:
    return HTTPException(
        status_code=422,
        detail=f"The number {_shown(text)} in the body {why}: send such a value as a string"
        " (a message with it can be published from SQL, where jsonb keeps every digit)",
    )


def _integer(text: str) -> int:
    limit = sys.get_int_max_str_digits()  # 0: no limit
    if limit and len(text.lstrip("-")) > limit:
        raise _refuse(text, f"has more than {limit} digits")
    return int(text)


def _float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise _refuse(text, "is beyond a double's range (about 1.8e308)")
    if value == 0.0 and _NONZERO_MANTISSA.match(text.split("e")[0].split("E")[0]):
        raise _refuse(text, "is too small for a double (it would be stored as 0)")
    return value


def _constant(text: str) -> Any:
    raise HTTPException(status_code=422, detail=f"{text} is not a JSON value: JSON numbers are finite")


def loads(body: bytes) -> Any:
    return json.loads(body, parse_int=_integer, parse_float=_float, parse_constant=_constant)


class _JSONRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = loads(await self.body())
        return self._json


def json_request(request: Request) -> Request:
    """The request, as one whose json() reads the body with loads() above (the same one, if it is)."""
    if isinstance(request, _JSONRequest):
        return request
    return _JSONRequest(request.scope, request.receive, request._send)


class JSONBodyRoute(APIRoute):
    """An APIRoute whose JSON body is read by loads() above."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            return await handler(json_request(request))

        return route
