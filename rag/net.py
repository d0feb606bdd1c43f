"""Who may reach a server: the one loopback test and bind check of the chat page and the API.

Both front ends listen on 127.0.0.1 by default; another address needs protection (a login for
the page, an API key for the API) or, for the page, an explicit ``--insecure``.

Example:
    >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("[::1]"), is_loopback("0.0.0.0")
    (True, True, True, False)
    >>> check_bind("0.0.0.0", secured=False, verb="listen", secret="a key", risk="use it", fix="Set one.")
    Traceback (most recent call last):
    ...
    rag.errors.BindError: refusing to listen on 0.0.0.0 without a key: anyone who can reach this machine could use it. Set one.
"""

from __future__ import annotations

import ipaddress

from rag.errors import BindError

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def is_loopback(host: str) -> bool:
    """True when ``host`` only accepts connections from this machine (127.0.0.0/8, ::1, localhost)."""
    host = host.strip()
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(
    host: str,
    *,
    secured: bool,
    verb: str,
    secret: str,
    risk: str,
    fix: str,
    error: type[BindError] = BindError,
) -> None:
    """Refuse to listen beyond loopback unless the server is ``secured``.

    Args:
        host: The address to listen on.
        secured: A password or key protects it (or the user accepted the risk).
        verb: What the server does there ("listen", "serve"), for the message.
        secret: What is missing ("an API key", "a password").
        risk: What anyone could do without it.
        fix: How to fix it.
        error: The exception raised (a :class:`BindError`).

    Raises:
        BindError: ``host`` is not loopback and the server is not secured.
    """
    if is_loopback(host) or secured:
        return
    raise error(
        f"refusing to {verb} on {host} without {secret}: anyone who can reach this machine "
        f"could {risk}. {fix}"
    )
