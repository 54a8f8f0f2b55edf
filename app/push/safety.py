"""Where a push request may go: never to a loopback, private, link-local, multicast or otherwise
non-public address, unless FASTQUEUE_PUSH_ALLOW_PRIVATE_NETWORKS=true.

SQL refuses a literal address at queue write time (fastqueue._check_push_endpoint); a host name is
resolved here at every connection and every address it resolves to is checked, and the connection
goes to the address that was checked (never to a second lookup), so a name that changes its answer
between lookups (DNS rebinding) cannot slip through."""

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class RefusedEndpoint(Exception):
    """The endpoint may not be called; the message says why (it goes to the worker's log)."""


@dataclass(frozen=True)
class Endpoint:
    scheme: str
    host: str
    port: int
    target: str  # path and query, what the request line carries

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


def parse_endpoint(url: str) -> Endpoint:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise RefusedEndpoint(f"not an http(s) URL with a host: {url}")
    if parts.username is not None or parts.password is not None:
        raise RefusedEndpoint("the URL carries user:password@, which is never sent")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError as exc:
        raise RefusedEndpoint(f"bad port in {url}") from exc
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    return Endpoint(scheme, parts.hostname, port, target)


def is_public(address: IPAddress) -> bool:
    """False for loopback, private, link-local, multicast, unspecified, reserved and shared addresses
    (an IPv4-mapped IPv6 address is judged by its IPv4 address)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_unspecified
        or address.is_reserved
        or (isinstance(address, ipaddress.IPv4Address) and address in ipaddress.ip_network("100.64.0.0/10"))
    )


async def resolve(endpoint: Endpoint, allow_private_networks: bool) -> list[IPAddress]:
    """The addresses to connect to, each checked; raises RefusedEndpoint when the host resolves to a
    non-public address (any of them: a name that mixes public and private answers is refused whole)."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(endpoint.host, endpoint.port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise RefusedEndpoint(f"cannot resolve {endpoint.host}: {exc.strerror}") from exc
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _canonname, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise RefusedEndpoint(f"{endpoint.host} resolves to no address")
    if not allow_private_networks:
        for address in addresses:
            if not is_public(address):
                raise RefusedEndpoint(
                    f"{endpoint.host} resolves to {address}, a loopback, private, link-local or multicast"
                    " address (set FASTQUEUE_PUSH_ALLOW_PRIVATE_NETWORKS=true to allow it)"
                )
    return addresses
