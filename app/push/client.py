"""A minimal HTTP/1.1 client for push requests, with the safety rules built in (docs/push.md).

One connection per request (`connection: close`): the endpoint's host is resolved and every address
checked (safety.resolve) at every connection, and the connection goes to a checked address, so DNS
rebinding cannot point a later request elsewhere. TLS verifies the certificate against the URL's
host name. Redirects are not followed: a 3xx is an outcome like any other non-2xx. Only the status
line and headers and at most RESPONSE_LIMIT_BYTES of the body are read. The request carries only the
headers built here: no cookies, no proxy settings from the environment, and none of the gateway's
or the database's credentials."""

import asyncio
import ssl
from dataclasses import dataclass

from .safety import Endpoint, RefusedEndpoint, resolve
from .wire import USER_AGENT

RESPONSE_LIMIT_BYTES = 64 * 1024
_HEADER_LIMIT_BYTES = 16 * 1024


class PushFailed(Exception):
    """No status came back; outcome is 'timeout', 'refused' or 'error' (/metrics' label)."""

    def __init__(self, outcome: str, reason: str) -> None:
        super().__init__(reason)
        self.outcome = outcome


@dataclass(frozen=True)
class PushResponse:
    status: int
    body: bytes  # at most RESPONSE_LIMIT_BYTES


_TLS = ssl.create_default_context()


async def _read_response(reader: asyncio.StreamReader) -> PushResponse:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.LimitOverrunError as exc:
        raise PushFailed("error", "the response's headers are too long") from exc
    except asyncio.IncompleteReadError as exc:
        raise PushFailed("error", "the endpoint closed the connection before answering") from exc
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit() or len(parts[1]) != 3:
        raise PushFailed("error", f"not an HTTP/1.x status line: {lines[0][:80]!r}")
    length: int | None = None
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length" and value.strip().isdigit():
            length = int(value.strip())
    limit = RESPONSE_LIMIT_BYTES if length is None else min(length, RESPONSE_LIMIT_BYTES)
    body = b""
    while len(body) < limit:
        chunk = await reader.read(limit - len(body))
        if not chunk:
            break
        body += chunk
    return PushResponse(int(parts[1]), body)


async def post(
    endpoint: Endpoint,
    body: bytes,
    headers: dict[str, str],
    timeout: float,
    allow_private_networks: bool,
) -> PushResponse:
    """POSTs body to the endpoint within timeout seconds (resolution, connection, TLS, request and
    response together). Raises PushFailed for a timeout, a refused connection or any other failure,
    RefusedEndpoint when the safety rules forbid the address."""
    try:
        async with asyncio.timeout(timeout):
            return await _post(endpoint, body, headers, allow_private_networks)
    except TimeoutError as exc:
        raise PushFailed("timeout", f"no answer within {timeout:.1f} s") from exc


async def _post(endpoint: Endpoint, body: bytes, headers: dict[str, str], allow_private_networks: bool) -> PushResponse:
    addresses = await resolve(endpoint, allow_private_networks)
    tls = _TLS if endpoint.scheme == "https" else None
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    last: OSError | None = None
    for address in addresses:
        try:
            reader, writer = await asyncio.open_connection(
                str(address),
                endpoint.port,
                ssl=tls,
                server_hostname=endpoint.host if tls else None,
                limit=_HEADER_LIMIT_BYTES,
            )
            break
        except ssl.SSLError as exc:
            raise PushFailed("error", f"TLS failed: {exc}") from exc
        except OSError as exc:
            last = exc
    if reader is None or writer is None:
        if isinstance(last, ConnectionRefusedError):
            raise PushFailed("refused", f"connection refused by {endpoint.host}:{endpoint.port}")
        raise PushFailed("error", f"cannot connect to {endpoint.host}:{endpoint.port}: {last}")
    try:
        head = [
            f"POST {endpoint.target} HTTP/1.1",
            f"host: {endpoint.host_header}",
            f"user-agent: {USER_AGENT}",
            f"content-length: {len(body)}",
            "connection: close",
            *(f"{name}: {value}" for name, value in headers.items()),
        ]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
        await writer.drain()
        return await _read_response(reader)
    except (ConnectionError, ssl.SSLError, OSError) as exc:
        raise PushFailed("error", f"the connection failed: {exc}") from exc
    finally:
        writer.close()
        try:
            await asyncio.wait_for(writer.wait_closed(), 1.0)
        except (OSError, ssl.SSLError, TimeoutError):
            pass


__all__ = ["RESPONSE_LIMIT_BYTES", "PushFailed", "PushResponse", "RefusedEndpoint", "post"]
