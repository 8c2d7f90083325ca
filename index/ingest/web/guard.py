"""Which addresses citebot may fetch from: never an internal one, unless the owner allows it.

A URL is checked three times. Its host, when it is an IP address in any spelling (dotted,
decimal ``2130706433``, hex ``0x7f000001``, octal ``0177.0.0.1``, IPv6 ``[::1]``), is checked
before anything is sent. A host name is resolved by `GuardedResolver`, which refuses the whole
answer if any address in it is internal. And `guarded_socket` checks the very address each
socket is about to connect to, so a DNS answer that changes between the check and the
connection (DNS rebinding) or an IP literal that slipped past the first check still cannot
reach an internal address. Redirects are followed by the fetcher one hop at a time, each hop
going through all three.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

log = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

ALLOWED_SCHEMES = ("http", "https")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_REFUSED = "refused to contact"
_ALLOW_HINT = "set CITEBOT_ALLOW_PRIVATE_URLS=true to allow internal addresses"


class BlockedAddressError(OSError):
    """A URL points at an address citebot must not contact; the message says which and why."""


@dataclass(frozen=True)
class AddressPolicy:
    """Which addresses may be contacted.

    By default only global unicast addresses; `allow_private` lifts that (a self-hosted
    setup, the tests); `allowed_networks` lets through a few named internal networks only.
    """

    allow_private: bool = False
    allowed_networks: tuple[IPNetwork, ...] = ()

    def refusal(self, address: IPAddress) -> str | None:
        """Why `address` may not be contacted, or None when it may."""
        if self.allow_private or any(address in net for net in self.allowed_networks):
            return None
        return internal_kind(address)

    def check_address(self, address: IPAddress, host: str) -> None:
        """Raise BlockedAddressError when `address` (of `host`) may not be contacted."""
        kind = self.refusal(address)
        if kind is None:
            return
        where = str(address) if host == str(address) else f"{host} ({address})"
        raise BlockedAddressError(f"{_REFUSED} {where}: {kind}; {_ALLOW_HINT}")


def internal_kind(address: IPAddress) -> str | None:
    """What kind of non-public address this is ("a loopback address", ...), or None."""
    for embedded in _embedded_ipv4(address):
        kind = internal_kind(embedded)
        if kind is not None:
            return kind
    checks: list[tuple[bool, str]] = [
        (address.is_unspecified, "an unspecified address"),
        (address.is_loopback, "a loopback address"),
        (address.is_link_local, "a link-local address (cloud metadata lives there)"),
        (address.is_multicast, "a multicast address"),
        (address.is_reserved, "a reserved address"),
        (address.is_private, "a private address"),
        (not address.is_global, "not a public address"),
    ]
    return next((kind for flagged, kind in checks if flagged), None)


def _embedded_ipv4(address: IPAddress) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 address carries (mapped, 6to4, Teredo, NAT64)."""
    if not isinstance(address, ipaddress.IPv6Address):
        return []
    found = [address.ipv4_mapped, address.sixtofour]
    if address.teredo:
        found.extend(address.teredo)
    if address in _NAT64:
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return [a for a in found if a is not None]


def parse_ip_literal(host: str) -> IPAddress | None:
    """The address `host` spells, in any form a resolver would accept, or None for a name.

    Besides dotted quads and IPv6, this reads the legacy inet_aton forms that many resolvers
    still honour: one to four parts, each decimal, octal (leading 0) or hex (0x).
    """
    host = host.strip("[]").rstrip(".")
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    parts = host.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    try:
        numbers = [_inet_aton_part(part) for part in parts]
    except ValueError:
        return None
    *leading, last = numbers
    if any(n > 255 for n in leading) or last >= 256 ** (5 - len(parts)):
        return None
    value = 0
    for n in leading:
        value = value << 8 | n
    value = value << (8 * (5 - len(parts))) | last
    return ipaddress.IPv4Address(value)


def _inet_aton_part(part: str) -> int:
    lowered = part.lower()
    if lowered.startswith("0x"):
        return int(lowered[2:] or "0", 16)
    if len(part) > 1 and part.startswith("0"):
        return int(part, 8)
    if not part.isdigit():
        raise ValueError(part)
    return int(part)


def check_url(url: str | URL, policy: AddressPolicy) -> URL:
    """The URL, parsed, if its scheme and (literal) host may be fetched; else raise.

    Host names are checked when they are resolved (`GuardedResolver`) and again when
    connecting (`guarded_socket`).
    """
    parsed = url if isinstance(url, URL) else _parse(url)
    if parsed.scheme not in ALLOWED_SCHEMES:
        raise BlockedAddressError(
            f"only http and https URLs can be fetched, not {parsed.scheme or 'a bare path'}: "
            f"{_short(parsed)}"
        )
    host = parsed.raw_host
    if not host:
        raise BlockedAddressError(f"the URL has no host: {_short(parsed)}")
    literal = parse_ip_literal(host)
    if literal is not None:
        policy.check_address(literal, host)
    return parsed


def _parse(url: str) -> URL:
    try:
        return URL(url.strip())
    except ValueError as exc:
        raise BlockedAddressError(f"not a valid URL: {url[:200]!r} ({exc})") from None


def _short(url: URL) -> str:
    text = str(url)
    return text if len(text) <= 200 else text[:199] + "…"


class GuardedResolver(AbstractResolver):
    """Resolves with `inner` (the system resolver by default) and refuses internal answers."""

    def __init__(self, policy: AddressPolicy, inner: AbstractResolver | None = None) -> None:
        from aiohttp.resolver import ThreadedResolver

        self.policy = policy
        self.inner = inner or ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """The addresses of `host`, all of them public (or allowed); else BlockedAddressError."""
        answers = await self.inner.resolve(host, port, family)
        for answer in answers:
            self.policy.check_address(ipaddress.ip_address(answer["host"]), host)
        log.debug("resolved %s to %s", host, [a["host"] for a in answers])
        return answers

    async def close(self) -> None:
        """Release the inner resolver."""
        await self.inner.close()


def guarded_socket(policy: AddressPolicy) -> Callable[[Any], socket.socket]:
    """A socket factory for aiohttp's connector that refuses to open a socket to an address
    the policy forbids: the last check, on the address actually connected to."""

    def factory(addr_info: tuple[Any, ...]) -> socket.socket:
        family, type_, proto, _, sockaddr = addr_info
        address = ipaddress.ip_address(sockaddr[0].split("%", 1)[0])
        policy.check_address(address, str(address))
        return socket.socket(family=family, type=type_, proto=proto)

    return factory


def blocked_cause(exc: BaseException) -> BlockedAddressError | None:
    """The BlockedAddressError behind an aiohttp connection error, if that is what it was."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, BlockedAddressError):
            return current
        # With several addresses tried, aiohappyeyeballs merges the errors into one OSError.
        if isinstance(current, OSError) and _REFUSED in str(current):
            return BlockedAddressError(str(current))
        todo.extend(_causes(current))
    return None


def _causes(exc: BaseException) -> Iterable[BaseException | None]:
    yield exc.__cause__
    yield exc.__context__
    yield getattr(exc, "os_error", None)
