"""Whether a host is this machine: the one loopback check of the page, the `ui` command and the Chroma client."""

from __future__ import annotations

import ipaddress


def is_loopback(host: str | None) -> bool:
    """True for localhost, *.localhost and loopback addresses (127.0.0.0/8, ::1, also as "[::1]"); case and a
    trailing dot do not matter. No DNS lookup: a name that happens to resolve to this machine is not loopback."""
    if not host:
        return False
    host = host.strip("[]").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
