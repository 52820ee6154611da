"""Radio transports behind ``hal.interfaces.Radio``: UDP and TCP to a real ground system."""

import socket


def resolve_ipv4(host: str, port: int) -> tuple[str, int]:
    """``(host, port)`` as the IPv4 address a datagram or connection from it carries."""
    try:
        info = socket.getaddrinfo(host, port, socket.AF_INET, socket.SOCK_DGRAM)
    except (OSError, UnicodeError) as exc:
        raise ValueError(f"cannot resolve {host!r}: {exc}") from None
    ip, resolved = info[0][4][:2]
    return str(ip), int(resolved)
