"""``pamiq-console``: steer a running system from a terminal or a script.

Without a command it opens an interactive prompt; with one (``pamiq-console pause``)
it runs that command and exits 0 on success, 1 on failure or when the system cannot
be reached. prompt_toolkit is imported only when a console is created.
"""

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from ._status_table import format_metrics
from .system_status import SystemStatus
from .web_api import WebApiClient

if TYPE_CHECKING:
    from prompt_toolkit.completion import Completer

HELP_TEXT = """\
h/help    Show all commands and details.
p/pause   Pause the AMI system.
r/resume  Resume the AMI system.
save      Save a checkpoint.
shutdown  Shutdown the AMI system.
status    Show the system status and metrics.
q/quit    Exit the console."""

_NEEDS_SYSTEM = frozenset({"pause", "p", "resume", "r", "save", "shutdown"})
_LONG_NAMES = {"h": "help", "p": "pause", "r": "resume", "q": "quit"}


def prompt(message: str, completer: "Completer | None" = None) -> str:
    """Read one line with prompt_toolkit (the console's input; patch it in tests)."""
    from prompt_toolkit import prompt as read_line

    return read_line(message, completer=completer)


def _command_names(obj: object) -> list[str]:
    return [
        name.removeprefix("command_")
        for name in dir(obj)
        if name.startswith("command_")
    ]


class Console:
    """An interactive console for a system's web API.

    Commands are the methods named ``command_<name>``; a command that returns a
    truthy value ends :meth:`main_loop`.
    """

    def __init__(self, host: str, port: int, token: str | None = None) -> None:
        """Connect to the web API at ``host``:``port``.

        Args:
            host: The server's host.
            port: The server's port.
            token: Access token; None falls back to ``PAMIQ_WEB_API_TOKEN``.
        """
        from prompt_toolkit.completion import WordCompleter

        self._host = host
        self._port = port
        if token is None:
            self._client = WebApiClient(host, port)
        else:
            self._client = WebApiClient(host, port, token=token)
        self.all_commands: list[str] = _command_names(self)
        self._completer = WordCompleter(self.all_commands)
        self.status = SystemStatus.OFFLINE

    def fetch_status(self) -> None:
        """Ask the system for its status."""
        self.status = self._client.get_status()

    def run_command(self, command: str) -> bool | None:
        """Run ``command`` (a name in :attr:`all_commands`) and return its result.

        Commands that need the system are not run while it is offline.
        """
        self.fetch_status()
        if command in _NEEDS_SYSTEM and self.status is SystemStatus.OFFLINE:
            self._print_not_executed(command)
            return False
        result: bool | None = getattr(self, f"command_{command}")()
        self.fetch_status()
        return result

    def main_loop(self) -> None:
        """Read and run commands until ``quit``, a shutdown, Ctrl-C or Ctrl-D."""
        print('Welcome to the PAMIQ console. "help" lists commands.\n')
        try:
            while True:
                self.fetch_status()
                line = prompt(
                    f"pamiq-console ({self.status.status_name}) > ",
                    completer=self._completer,
                )
                if line == "":
                    continue
                if line in self.all_commands:
                    if self.run_command(line):
                        break
                else:
                    print(f"*** Unknown syntax: {line}")
        except (KeyboardInterrupt, EOFError):
            print("Leaving the console.")

    def run_once(self, command: str, *, assume_yes: bool = False) -> bool:
        """Run one command as a script would, printing what happened.

        Args:
            command: A name in :attr:`all_commands`.
            assume_yes: Shut down without asking for confirmation.

        Returns:
            True on success; False if the command failed, was cancelled, or the
            system could not be reached.
        """
        if command not in self.all_commands:
            print(f"*** Unknown syntax: {command}")
            return False
        name = _LONG_NAMES.get(command, command)
        if name == "status":
            self.command_status()
            return self.status is not SystemStatus.OFFLINE
        if name not in _NEEDS_SYSTEM:
            getattr(self, f"command_{command}")()
            return True
        self.fetch_status()
        if self.status is SystemStatus.OFFLINE:
            self._print_not_executed(command)
            return False
        if name == "shutdown" and not (assume_yes or self._confirm_shutdown()):
            print("Shutdown cancelled.")
            return False
        requests = {
            "pause": ("pause", self._client.pause),
            "resume": ("resume", self._client.resume),
            "save": ("save state", self._client.save_state),
            "shutdown": ("shutdown", self._client.shutdown),
        }
        return self._send(*requests[name])

    def _print_not_executed(self, command: str) -> None:
        print(f'Command "{command}" not executed. Can\'t connect AMI system.')
        self._print_reason()

    def _print_reason(self) -> None:
        """Say why the latest request failed, when the client knows."""
        if self._client.last_error is not None:
            print(f"  ({self._client.last_error})")

    def _send(self, action: str, request: Callable[[], str | None]) -> bool:
        result = request()
        if result:
            print(result)
            return True
        print(f"Failed to {action}...")
        self._print_reason()
        return False

    def _confirm_shutdown(self) -> bool:
        try:
            answer = input("Confirm AMI system shutdown? (y/[N]): ")
        except (KeyboardInterrupt, EOFError):
            print()
            return False
        return answer.lower() in {"y", "yes"}

    def close(self) -> None:
        """Close the connection to the web API."""
        self._client.close()

    def command_help(self) -> None:
        """Show all commands and details."""
        print(HELP_TEXT)

    def command_h(self) -> None:
        """Alias of ``help``."""
        self.command_help()

    def command_pause(self) -> None:
        """Pause the system."""
        self._send("pause", self._client.pause)

    def command_p(self) -> None:
        """Alias of ``pause``."""
        self.command_pause()

    def command_resume(self) -> None:
        """Resume the system."""
        self._send("resume", self._client.resume)

    def command_r(self) -> None:
        """Alias of ``resume``."""
        self.command_resume()

    def command_save(self) -> None:
        """Save a snapshot of the system's state."""
        self._send("save state", self._client.save_state)

    def command_shutdown(self) -> bool:
        """Shut the system down after confirmation; True ends the console."""
        if not self._confirm_shutdown():
            print("Shutdown cancelled.")
            return False
        if self._client.shutdown():
            return True
        print("Failed to shutdown...")
        return False

    def command_status(self) -> None:
        """Show what the system is doing: its status and metrics, as tables."""
        address = f"{self._host}:{self._port}"
        self.fetch_status()
        if self.status is SystemStatus.OFFLINE:
            reason = self._client.last_error or "is it running?"
            print(f"Cannot reach a system at {address}: {reason}")
            return
        metrics = self._client.get_metrics()
        if metrics is None:
            print(f"system  {address}")
            print(f"status  {self.status.status_name}")
            print("(this system serves no metrics)")
            return
        print(format_metrics(metrics, address))

    def command_quit(self) -> bool:
        """Leave the console; the system keeps running."""
        return True

    def command_q(self) -> bool:
        """Alias of ``quit``."""
        return self.command_quit()


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of ``pamiq-console``.

    Args:
        argv: Command-line arguments; None reads ``sys.argv``.
    """
    parser = argparse.ArgumentParser(
        prog="pamiq-console",
        description=(
            "Control a running pamiq-core system through its web API. Without a "
            "command, open an interactive console; with one, run it and exit "
            "(0 on success)."
        ),
    )
    parser.add_argument("--host", default="localhost", help="default: localhost")
    parser.add_argument("--port", type=int, default=8391, help="default: 8391")
    parser.add_argument(
        "--token",
        default=None,
        help="access token of the web API (default: $PAMIQ_WEB_API_TOKEN)",
    )
    parser.add_argument(
        "-y",
        "--yes",
        action="store_true",
        help="with the shutdown command: do not ask for confirmation",
    )
    parser.add_argument(
        "command",
        nargs="?",
        choices=_command_names(Console),
        help="run this one command and exit",
    )
    args = parser.parse_args(argv)
    console = (
        Console(args.host, args.port)
        if args.token is None
        else Console(args.host, args.port, token=args.token)
    )
    try:
        if args.command is None:
            console.main_loop()
            return
        succeeded = console.run_once(args.command, assume_yes=args.yes)
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        raise SystemExit(130) from None
    finally:
        console.close()
    if not succeeded:
        raise SystemExit(1)
