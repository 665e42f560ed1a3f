import subprocess
import sys

import pamiq_core.console as console
from pamiq_core.console import cui, system_status, web_api


def test_exports() -> None:
    assert console.__all__ == [
        "Console",
        "SystemStatus",
        "SystemStatusProvider",
        "WebApiServer",
        "WebApiClient",
        "ControlCommands",
    ]
    assert console.Console is cui.Console
    assert console.SystemStatus is system_status.SystemStatus
    assert console.SystemStatusProvider is system_status.SystemStatusProvider
    assert console.WebApiServer is web_api.WebApiServer
    assert console.WebApiClient is web_api.WebApiClient
    assert console.ControlCommands is web_api.ControlCommands


def test_importing_the_console_loads_no_server_client_or_terminal_library() -> None:
    code = (
        "import sys, pamiq_core.console, pamiq_core.thread.threads;"
        "heavy = ('starlette', 'uvicorn', 'httpx', 'prompt_toolkit', 'pynput',"
        " 'pamiq_core.console.keyboard');"
        "print(','.join(m for m in heavy if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
