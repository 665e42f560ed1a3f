"""Observe and steer a running system: web API, status, console, keyboard.

``pamiq_core.console.keyboard`` (``pamiq-kbctl``) needs the ``kbctl`` extra and is
not imported here.
"""

from .cui import Console
from .system_status import SystemStatus, SystemStatusProvider
from .web_api import ControlCommands, WebApiClient, WebApiServer

__all__ = [
    "Console",
    "SystemStatus",
    "SystemStatusProvider",
    "WebApiServer",
    "WebApiClient",
    "ControlCommands",
]
