"""What the web server's connection guard did, for diagnostics and the flood test."""

from dataclasses import dataclass


@dataclass(frozen=True)
class ConnectionStats:
    """Counts of the server's connections since it started.

    Every connection the server accepted was admitted, or refused at once when all
    ``max_connections`` were busy with requests. An admitted one ends when its
    client closes it, when a newer one needs its place while it idles (evicted),
    or when it idles for ``header_timeout`` seconds (timed out).
    """

    open: int
    """Connections open now."""
    most_open: int
    """The most connections open at once."""
    admitted: int
    refused: int
    evicted: int
    timed_out: int
    longest_idle: float
    """The longest time (seconds) any connection was open without a request in
    progress: waiting for a request's head, or kept alive between requests."""
