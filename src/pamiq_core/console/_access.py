"""Who may use the web API: loopback addresses, access tokens, browser origins.

The server binds to loopback unless told otherwise. Binding anywhere else needs an
access token, which every request must then carry. A server without a token still
refuses requests that a web page from another site could make through the user's
browser (a foreign ``Host`` or ``Origin`` header), so no page can pause or shut down
a local system behind the user's back.
"""

import hmac
import ipaddress
import os
from urllib.parse import parse_qs

TOKEN_ENV_VAR = "PAMIQ_WEB_API_TOKEN"
"""Environment variable read when no token is passed explicitly."""


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` names this machine's loopback interface only.

    True for ``localhost``, addresses in ``127.0.0.0/8`` and ``::1`` (also in
    brackets or as an IPv4-mapped address); False for everything else, including
    ``0.0.0.0``, ``::`` and host names, which may reach other machines.
    """
    name = host.strip().lower()
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    if name in ("localhost", "localhost."):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def configured_token(token: str | None) -> str | None:
    """The token to use: ``token``, else ``PAMIQ_WEB_API_TOKEN``, else None.

    Surrounding whitespace is removed: an HTTP header cannot carry it, so a token
    read from a file with its line break still matches what clients send. An empty
    environment variable counts as unset.

    Raises:
        ValueError: If ``token`` is given but blank.
    """
    if token is None:
        token = os.environ.get(TOKEN_ENV_VAR, "").strip()
        return token or None
    if not token.strip():
        raise ValueError(
            f"The web API access token is blank ({token!r}); give a non-blank "
            "token, or None to use the environment variable "
            f"{TOKEN_ENV_VAR} (or no token on a loopback address)."
        )
    return token.strip()


def resolve_token(host: str, token: str | None) -> str | None:
    """The token a server on ``host`` requires, or None when it requires none.

    Args:
        host: The address the server binds to.
        token: The token given explicitly; None falls back to the environment
            variable ``PAMIQ_WEB_API_TOKEN``. Surrounding whitespace is removed.

    Raises:
        ValueError: If ``token`` is blank, or ``host`` is not a loopback address
            and there is no token.
    """
    token = configured_token(token)
    if token is None and not is_loopback_host(host):
        raise ValueError(
            f"The web API would listen on {host!r}, which other machines may reach, "
            "so it needs an access token. Pass one (token=... to WebApiServer, "
            f"web_api_token=... to the control thread) or set the environment "
            f"variable {TOKEN_ENV_VAR}; clients then send "
            "'Authorization: Bearer <token>'. To allow only this machine, bind to "
            "'localhost' instead."
        )
    return token


def carries_token(
    expected: str, authorization: bytes | None, query_string: bytes
) -> bool:
    """Whether a request carries ``expected``.

    The token may come as ``Authorization: Bearer <token>`` or, for pages opened
    in a browser, as the query parameter ``token``; surrounding whitespace is
    ignored in both. Compared in constant time.
    """
    wanted = expected.encode()
    if authorization is not None:
        scheme, _, credentials = authorization.strip().partition(b" ")
        if scheme.lower() == b"bearer" and hmac.compare_digest(
            credentials.strip(), wanted
        ):
            return True
    if b"token=" in query_string:
        values = parse_qs(query_string.decode("latin-1"), encoding="utf-8")
        for value in values.get("token", []):
            given = value.strip().encode("utf-8", "surrogateescape")
            if hmac.compare_digest(given, wanted):
                return True
    return False


def _hostname(authority: str) -> str:
    """The host part of ``host[:port]`` (IPv6 addresses in brackets)."""
    if authority.startswith("["):
        return authority[: authority.find("]") + 1] if "]" in authority else ""
    return authority.rpartition(":")[0] if ":" in authority else authority


def is_same_site(host_header: bytes | None, origin_header: bytes | None) -> bool:
    """Whether a request to a token-less server can only come from this machine.

    The ``Host`` header must name loopback (a DNS name that an attacker points at
    127.0.0.1 does not count), and an ``Origin`` header, sent by browsers with
    cross-site and ``POST`` requests, must be the server's own origin.
    """
    if host_header is None:
        return origin_header is None
    host = host_header.decode("latin-1").strip().lower()
    if not is_loopback_host(_hostname(host)):
        return False
    if origin_header is None:
        return True
    return origin_header.decode("latin-1").strip().lower() == f"http://{host}"
