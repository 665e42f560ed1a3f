import ast
import subprocess
import sys
from pathlib import Path

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


CONSOLE_DIR = Path(console.__file__).parent
ALLOWED_BELOW = ("pamiq_core.metrics", "pamiq_core.time", "pamiq_core.utils")
"""What the console may import of pamiq_core besides itself: it sits above these and
below the threads (whose control thread imports its server) and the launcher."""


def _runtime_imports(path: Path) -> set[str]:
    """The pamiq_core modules ``path`` imports when it runs, at any depth of the
    code (a function-level import counts), but not under ``if TYPE_CHECKING:``."""
    package = "pamiq_core.console"
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = f"{package}.{base}" if base else package
            if base == package:
                found.update(f"{package}.{alias.name}" for alias in node.names)
            elif base.startswith("pamiq_core"):
                found.add(base)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("pamiq_core"))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return found


def _console_modules() -> dict[str, Path]:
    return {
        f"pamiq_core.console.{path.stem}": path
        for path in CONSOLE_DIR.glob("*.py")
        if path.stem != "__init__"
    }


def test_the_console_imports_nothing_above_it() -> None:
    above = {
        (module, imported)
        for module, path in _console_modules().items()
        for imported in _runtime_imports(path)
        if not imported.startswith("pamiq_core.console")
        and not imported.startswith(ALLOWED_BELOW)
    }
    assert above == set()


def test_the_console_modules_import_each_other_without_cycles() -> None:
    modules = _console_modules()
    graph = {
        module: {m for m in _runtime_imports(path) if m in modules}
        for module, path in modules.items()
    }
    done: set[str] = set()

    def visit(module: str, trail: tuple[str, ...]) -> None:
        assert module not in trail, " -> ".join((*trail, module))
        if module in done:
            return
        for imported in graph[module]:
            visit(imported, (*trail, module))
        done.add(module)

    for module in graph:
        visit(module, ())
