"""The dashboard served at ``GET /``: one HTML file shipped inside the package.

The page carries its script and style inline and loads nothing else, so it works
without a build step or any other site. It is served with a Content-Security-Policy
that allows exactly that inline script and style (by their hashes) and requests to
this server only, and that forbids framing it into another site's page (whose
clicks on its buttons would otherwise pass the same-origin checks).
"""

import base64
import hashlib
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

PAGE_FILE = "dashboard.html"
"""The page's file name inside the ``pamiq_core.console`` package."""


@dataclass(frozen=True)
class DashboardPage:
    """The page's bytes and the headers to serve them with."""

    body: bytes
    headers: dict[str, str]


def _hashes(html: str, tag: str) -> str:
    blocks = re.findall(rf"<{tag}>(.*?)</{tag}>", html, flags=re.DOTALL)
    return " ".join(
        "'sha256-"
        + base64.b64encode(hashlib.sha256(block.encode()).digest()).decode()
        + "'"
        for block in blocks
    )


@cache
def dashboard_page() -> DashboardPage:
    """The dashboard, read from the package once."""
    html = (
        resources.files("pamiq_core.console")
        .joinpath(PAGE_FILE)
        .read_text(encoding="utf-8")
    )
    policy = "; ".join(
        [
            "default-src 'none'",
            f"script-src {_hashes(html, 'script')}",
            f"style-src {_hashes(html, 'style')}",
            "connect-src 'self'",
            "img-src data:",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )
    return DashboardPage(
        html.encode(),
        {
            "Content-Security-Policy": policy,
            "X-Frame-Options": "DENY",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-cache",
        },
    )
