"""Where a webhook may point: checked when an operator sets it and again before every send,
after DNS resolution, so a name that later resolves inside the network is refused too.

The rule: `https`, a port between 1 and 65535, no user or password in the URL, and every
address the host resolves to is a public unicast one (not loopback, link-local such as a
cloud metadata service, private, multicast, unspecified or reserved). With
GETKEY_WEBHOOK_ALLOW_PRIVATE (receivers on premises) private and loopback addresses and plain
`http` are allowed too; credentials in the URL, link-local, multicast and unspecified
addresses never are. Reasons never repeat the URL (it may carry a receiver's token).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

ALLOW_PRIVATE_ENV = "GETKEY_WEBHOOK_ALLOW_PRIVATE"
MAX_URL = 2000

# (host, port) -> the addresses it resolves to.
Resolver = Callable[[str, int], Awaitable[list[str]]]
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UrlRefused(ValueError):
    """A webhook URL the policy does not allow; the message says why, in words."""


@dataclass(frozen=True)
class Target:
    """A checked URL and the addresses it resolved to (connect to one of these, not to a
    second resolution that could answer differently)."""

    url: str
    host: str
    port: int
    addresses: tuple[str, ...]


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def _port(parts: SplitResult) -> int:
    try:
        port = parts.port
    except ValueError:
        raise UrlRefused("the webhook URL's port is not a number between 1 and 65535") from None
    if port is None:
        return 443 if parts.scheme == "https" else 80
    if not 1 <= port <= 65535:
        raise UrlRefused("the webhook URL's port is not a number between 1 and 65535")
    return port


def check_syntax(url: str, *, allow_private: bool) -> tuple[str, str, int]:
    """(url, host, port) of an acceptable URL, before any resolution; UrlRefused otherwise."""
    url = url.strip()
    if len(url) > MAX_URL:
        raise UrlRefused(f"the webhook URL is longer than {MAX_URL} characters")
    parts = urlsplit(url)
    schemes = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in schemes or not parts.hostname:
        plain = f" (plain http only with {ALLOW_PRIVATE_ENV})" if not allow_private else ""
        raise UrlRefused(f"the webhook URL must be an absolute https:// URL{plain}")
    if "@" in parts.netloc:
        raise UrlRefused(
            "the webhook URL must not carry a user name or password: put a token in the "
            "path or rely on the signature"
        )
    port = _port(parts)
    host = parts.hostname
    try:
        literal: IpAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        check_address(str(literal), allow_private=allow_private)
    return url, host, port


def check_address(address: str, *, allow_private: bool) -> None:
    ip: IpAddress = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_unspecified or ip.is_multicast or ip.is_link_local:
        kind = "unspecified" if ip.is_unspecified else "multicast" if ip.is_multicast else (
            "link-local")
        raise UrlRefused(f"the webhook host resolves to a {kind} address, which is never allowed")
    if allow_private and (ip.is_private or ip.is_loopback):
        return
    if ip.is_loopback or ip.is_private or ip.is_reserved or not ip.is_global:
        kind = "loopback" if ip.is_loopback else "private or reserved"
        raise UrlRefused(
            f"the webhook host resolves to a {kind} address; set {ALLOW_PRIVATE_ENV} for "
            "receivers inside your network"
        )


async def check_url(
    url: str, *, allow_private: bool, resolver: Resolver = system_resolver
) -> Target:
    """The whole policy: syntax, then every resolved address. UrlRefused otherwise."""
    url, host, port = check_syntax(url, allow_private=allow_private)
    try:
        addresses = await resolver(host, port)
    except (OSError, UnicodeError) as exc:
        raise UrlRefused(f"the webhook host does not resolve ({type(exc).__name__})") from None
    if not addresses:
        raise UrlRefused("the webhook host does not resolve")
    for address in addresses:
        check_address(address, allow_private=allow_private)
    return Target(url, host, port, tuple(dict.fromkeys(addresses)))
