"""Which addresses a fetch may connect to, and resolving a host name exactly once.

The policy is checked on the *resolved* addresses (so `http://2130706433/`, `http://localtest.me/` or a
DNS name pointing at 10.0.0.5 are caught), and the fetcher then connects to the address it checked: no
second resolution happens anywhere, which is what defeats DNS rebinding.

Refused unless allowed (`allow_private`, or a network listed in `allowed_networks`): every address that is
not globally reachable — loopback, private (RFC 1918, ULA), link-local, carrier-grade NAT 100.64.0.0/10,
multicast, reserved, unspecified, documentation / benchmarking ranges — and IPv6 forms that embed such an
IPv4 address: IPv4-mapped `::ffff:a.b.c.d`, 6to4 `2002::/16`, NAT64 `64:ff9b::/96` and Teredo `2001::/32`
(Teredo is never globally routable, so it is refused even when its embedded addresses are public).
Cloud metadata endpoints (169.254.169.254, fd00:ec2::254) are refused always, even when private addresses
are allowed: nothing a crawler or a grounding request needs lives there.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, cast

from llm_twin.web.errors import FetchError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# (host, port) -> address strings in preference order; the default asks the system resolver.
Resolver = Callable[[str, int], list[str]]

METADATA_ADDRESSES = frozenset({ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")})
CGNAT = ipaddress.ip_network("100.64.0.0/10")
NAT64 = ipaddress.ip_network("64:ff9b::/96")


_Check = tuple[str, Callable[[Any], bool]]
# Order matters: the first matching label is the reason given (loopback before private, and so on).
_COMMON_CHECKS: tuple[_Check, ...] = (
    ("unspecified", lambda ip: ip.is_unspecified),
    ("loopback", lambda ip: ip.is_loopback),
    ("link-local", lambda ip: ip.is_link_local),
    ("multicast", lambda ip: ip.is_multicast),
)
_V4_CHECKS = _COMMON_CHECKS + (
    ("carrier-grade NAT (100.64.0.0/10)", lambda ip: ip in CGNAT),
    ("reserved", lambda ip: ip.is_reserved),
    ("private", lambda ip: ip.is_private),
)
_V6_CHECKS = _COMMON_CHECKS + (
    ("site-local", lambda ip: ip.is_site_local),
    ("private", lambda ip: ip.is_private),
    ("reserved", lambda ip: ip.is_reserved),
)


def _first_label(ip: IPAddress, checks: tuple[_Check, ...]) -> str | None:
    for label, matches in checks:
        if matches(ip):
            return label
    return None if ip.is_global else "special-purpose (not globally reachable)"


def classify(ip: IPAddress) -> str | None:
    """Why `ip` is not a public address ("loopback", "6to4 address embedding 127.0.0.1 (loopback)"...);
    None for a globally reachable unicast address."""
    if ip in METADATA_ADDRESSES:
        return "cloud metadata"
    if isinstance(ip, ipaddress.IPv4Address):
        return _first_label(ip, _V4_CHECKS)
    if ip.ipv4_mapped is not None:
        inner = classify(ip.ipv4_mapped)
        return f"IPv4-mapped address of {ip.ipv4_mapped} ({inner})" if inner else None
    if ip.sixtofour is not None:
        inner = classify(ip.sixtofour)
        if inner:
            return f"6to4 address embedding {ip.sixtofour} ({inner})"
    if ip in NAT64:
        embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        inner = classify(embedded)
        return f"NAT64 address embedding {embedded} ({inner})" if inner else None
    if ip.teredo is not None:
        server, client = ip.teredo
        bad = [f"{a} ({classify(a)})" for a in (server, client) if classify(a)]
        detail = f"embedding {', '.join(bad)}" if bad else "not globally routable"
        return f"Teredo address {detail}"
    return _first_label(ip, _V6_CHECKS)


def connect_address(ip: IPAddress) -> IPAddress:
    """The address to dial: an IPv4-mapped address is dialled as the IPv4 address it maps."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


@dataclass(frozen=True)
class AddressPolicy:
    """What may be connected to; `setting` names the config key that allows private addresses (for errors)."""

    allow_private: bool = False
    allowed_networks: tuple[IPNetwork, ...] = field(default_factory=tuple)
    setting: str = "allow_private_addresses"

    @classmethod
    def of(cls, allow_private: bool, allowed_networks: Iterable[str] = (), setting: str = "allow_private_addresses"
           ) -> AddressPolicy:
        try:
            networks = tuple(ipaddress.ip_network(n, strict=False) for n in allowed_networks)
        except ValueError as exc:
            raise ValueError(f"allowed_networks: {exc}") from exc
        return cls(allow_private=allow_private, allowed_networks=networks, setting=setting)

    def refusal(self, ip: IPAddress) -> str | None:
        """Why `ip` may not be connected to under this policy, or None if it may."""
        label = classify(ip)
        if label is None:
            return None
        if "cloud metadata" in label:  # also when embedded (IPv4-mapped, 6to4, NAT64)
            return label
        if self.allow_private or any(ip in net for net in self.allowed_networks if net.version == ip.version):
            return None
        return label

    def check(self, host: str, addresses: list[IPAddress]) -> None:
        """Refuse the host if any of its addresses is refused (a mixed answer is itself suspicious)."""
        for ip in addresses:
            why = self.refusal(ip)
            if why is not None:
                hint = ("cloud metadata endpoints are always refused" if "cloud metadata" in why
                        else f"set {self.setting} (or list the network in allowed_networks) to allow it")
                shown = host if host == str(ip) else f"{host} resolves to {ip}, which"
                raise FetchError("private_address", f"{shown} is a non-public address ({why}); {hint}")


def system_resolver(host: str, port: int) -> list[str]:
    """Addresses of `host` from the system resolver (hosts file, DNS...), in the order it prefers them."""
    seen: list[str] = []
    for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        address = str(info[4][0]).split("%", 1)[0]
        if address not in seen:
            seen.append(address)
    return seen


def resolve(host: str, port: int, timeout_s: float, resolver: Resolver | None = None) -> list[IPAddress]:
    """All addresses of `host`, resolved once, within `timeout_s` (the system resolver has no timeout of its
    own, so it runs in a daemon thread the caller stops waiting for)."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    resolve_fn = resolver or system_resolver
    result: dict[str, object] = {}
    done = threading.Event()

    def run() -> None:
        try:
            result["addresses"] = resolve_fn(host, port)
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
            result["error"] = exc
        finally:
            done.set()

    threading.Thread(target=run, name=f"resolve-{host}", daemon=True).start()
    if not done.wait(max(timeout_s, 0.0)):
        raise FetchError("timeout", f"resolving {host} took longer than {timeout_s:.3g} s")
    error = result.get("error")
    if isinstance(error, BaseException):
        raise FetchError("dns", f"cannot resolve host {host!r}: {error}") from error
    resolved = result.get("addresses")
    try:
        addresses = [ipaddress.ip_address(str(a).split("%", 1)[0]) for a in cast(Iterable[Any], resolved or [])]
    except ValueError as exc:
        raise FetchError("dns", f"resolver returned an invalid address for {host!r}: {exc}") from exc
    if not addresses:
        raise FetchError("dns", f"cannot resolve host {host!r}: no addresses")
    return addresses


def resolve_checked(host: str, port: int, policy: AddressPolicy, timeout_s: float,
                    resolver: Resolver | None = None) -> list[IPAddress]:
    """Resolve once and check every address; the returned addresses are the only ones to connect to."""
    addresses = resolve(host, port, timeout_s, resolver)
    policy.check(host, addresses)
    return [connect_address(a) for a in addresses]
