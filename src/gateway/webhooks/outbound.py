"""One webhook POST, made safely (issue 14, item 4): https only (outside development), the host resolved
once and the connection made to that address, never to loopback, private, link-local, multicast, reserved or
cloud-metadata addresses (loopback is allowed in development, where the demo's sample app listens on
127.0.0.1; every address with `GATEWAY_WEBHOOK_ALLOW_PRIVATE=true`, for development and tests), no redirect
followed, 10 s for the whole exchange, at most 1 KiB of the answer read.

Resolving once and connecting to the address checked closes the gap a second lookup would open (DNS
rebinding): the request goes to the IP, with the original host in `Host` and in TLS (SNI and certificate
check, through httpcore's `sni_hostname`). A name that resolves to any refused address is refused whole.
Proxies from the environment are ignored (`trust_env=False`): they would make the check moot.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
import ssl
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Final

import httpx

__all__ = [
    "MAX_RESPONSE_BYTES",
    "TIMEOUT_SECONDS",
    "Outcome",
    "Refused",
    "address_refused",
    "post",
    "resolve",
]

TIMEOUT_SECONDS: Final = 10.0
MAX_RESPONSE_BYTES: Final = 1024


@functools.cache
def _tls() -> ssl.SSLContext:
    """One TLS context for every send: building one loads the CA bundle, which costs more than a send."""
    return ssl.create_default_context()


Resolver = Callable[[str, int], Awaitable[list[str]]]


class Refused(Exception):
    """The URL may not be called: its scheme, or an address its host resolves to. `reason` is ours;
    `permanent` unless the host could not be resolved (DNS may answer next time)."""

    def __init__(self, reason: str, *, permanent: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


@dataclass(frozen=True, slots=True)
class Outcome:
    """What came of one attempt: the receiver's status, or why there was none (`error`, our words)."""

    status: int | None
    error: str | None
    excerpt: bytes = b""  # at most MAX_RESPONSE_BYTES of the answer, for nobody but the logs' length
    permanent: bool = False  # trying again cannot help (a refused URL)

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def address_refused(address: str) -> str | None:
    """Why a webhook may not connect to `address`, or None: only globally routable unicast addresses."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return "loopback address"
    if ip.is_link_local:  # 169.254.0.0/16 holds the cloud metadata services
        return "link-local address"
    if ip.is_multicast:
        return "multicast address"
    if ip.is_private or ip.is_reserved or ip.is_unspecified or not ip.is_global:
        return "private or reserved address"
    return None


def _is_address(host: str) -> bool:
    """An IP literal (httpx gives IPv6 without brackets): nothing to look up."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


async def resolve(host: str, port: int) -> list[str]:
    """The addresses the name `host` resolves to, in the resolver's order."""
    try:
        found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        raise Refused("host not found", permanent=False) from None
    addresses: list[str] = []
    for _family, _type, _proto, _name, sockaddr in found:
        address = str(sockaddr[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise Refused("host not found", permanent=False)
    return addresses


async def post(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    allow_http: bool,
    allow_private: bool,
    allow_loopback: bool = False,
    seconds: float = TIMEOUT_SECONDS,
    resolver: Resolver = resolve,
) -> Outcome:
    """POST `body` to `url`; raises `Refused` before any connection when the URL may not be called."""
    target = httpx.URL(url)
    if target.scheme not in ("https", "http") or (target.scheme == "http" and not allow_http):
        raise Refused("https required")
    host = target.host
    if not host:
        raise Refused("no host")
    port = target.port or (443 if target.scheme == "https" else 80)
    addresses = [host] if _is_address(host) else await resolver(host, port)
    if not allow_private:
        for address in addresses:
            reason = address_refused(address)
            if reason is not None and not (allow_loopback and reason == "loopback address"):
                raise Refused(reason)
    address = addresses[0]
    literal = f"[{address}]" if ":" in address else address
    sent_headers = {**headers, "host": target.netloc.decode("ascii")}
    extensions = {"sni_hostname": host} if target.scheme == "https" else {}
    try:
        async with (
            asyncio.timeout(seconds),
            httpx.AsyncClient(
                trust_env=False, follow_redirects=False, timeout=seconds, verify=_tls()
            ) as client,
            client.stream(
                "POST",
                target.copy_with(host=literal),
                content=body,
                headers=sent_headers,
                extensions=extensions,
            ) as response,
        ):
            excerpt = b""
            async for chunk in response.aiter_raw():
                excerpt += chunk
                if len(excerpt) >= MAX_RESPONSE_BYTES:
                    break
            status = response.status_code
    except TimeoutError:
        return Outcome(None, "timed out")
    except httpx.TimeoutException:
        return Outcome(None, "timed out")
    except httpx.ConnectError as exc:
        return Outcome(
            None, "TLS failed" if "SSL" in type(exc.__cause__ or exc).__name__ else "could not connect"
        )
    except httpx.HTTPError as exc:
        return Outcome(None, type(exc).__name__)
    error = None
    if 300 <= status < 400:
        error = "redirect not followed"
    elif status >= 400 or status < 200:
        error = f"answered {status}"
    return Outcome(status, error, excerpt[:MAX_RESPONSE_BYTES])
