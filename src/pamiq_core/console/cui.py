"""``pamiq-console``: steer a running system from a terminal or a script.

Without a command it opens an interactive prompt; with one (``pamiq-console pause``)
it runs that command and exits 0 on success, 1 on failure or when the system cannot
be reached. prompt_toolkit is imported only when a console is created.
"""

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from ._status_table import format_metrics
from .system_status import SystemStatus
from .web_api import WebApiClient

if TYPE_CHECKING:
    from prompt_toolkit.completion import Completer


def prompt(message: str, completer: "Completer | None" = None) -> str:
    """Read one line with prompt_toolkit (the console's input; patch it in tests)."""
    from prompt_toolkit import prompt as read_line

    return read_line(message, completer=completer)


@dataclass(frozen=True)
class Command:
    """One console command: its names, help, and what it does."""

    name: str
    help: str
    aliases: tuple[str, ...] = ()
    request: Callable[[WebApiClient], str | None] | None = None
    """The web API call of a command that needs the system; None for a local one."""
    failure: str = ""
    """What failed, in ``Failed to <failure>...``."""
    confirm: bool = False
    """Whether to ask before sending the request."""
    ends_console: bool = False
    """Whether the console ends after the command succeeded."""
    show: "Callable[[Console], bool] | None" = None
    """A local command's action; returns whether it succeeded."""

    @property
    def names(self) -> tuple[str, ...]:
        """The aliases, then the name."""
        return (*self.aliases, self.name)

    @property
    def needs_system(self) -> bool:
        """Whether the command talks to the system."""
        return self.request is not None


def _show_help(console: "Console") -> bool:
    print(HELP_TEXT)
    return True


def _show_status(console: "Console") -> bool:
    return console.show_status()


COMMANDS: tuple[Command, ...] = (
    Command("help", "Show all commands and details.", ("h",), show=_show_help),
    Command("pause", "Pause the system.", ("p",), WebApiClient.pause, "pause"),
    Command("resume", "Resume the system.", ("r",), WebApiClient.resume, "resume"),
    Command("save", "Save a checkpoint.", (), WebApiClient.save_state, "save state"),
    Command(
        "shutdown",
        "Shutdown the system.",
        (),
        WebApiClient.shutdown,
        "shutdown",
        confirm=True,
        ends_console=True,
    ),
    Command("status", "Show the system status and metrics.", show=_show_status),
    Command("quit", "Exit the console.", ("q",), ends_console=True),
)
"""Every command, in the order of the help; the one description of them."""

BY_NAME = {name: command for command in COMMANDS for name in command.names}
"""Commands by each of their names."""

HELP_TEXT = "\n".join(
    f"{'/'.join(command.names):<10}{command.help}" for command in COMMANDS
)


class _Outcome(NamedTuple):
    succeeded: bool
    leave: bool


def _command_names(obj: object) -> list[str]:
    return [
        name.removeprefix("command_")
        for name in dir(obj)
        if name.startswith("command_")
    ]


class Console:
    """An interactive console for a system's web API.

    Its commands come from :data:`COMMANDS`, each a method ``command_<name>`` (an
    alias calls its command's method); a command that returns a truthy value ends
    :meth:`main_loop`. The interactive and the one-shot paths run commands the same
    way and print the same messages.
    """

    def __init__(self, host: str, port: int, token: str | None = None) -> None:
        """Connect to the web API at ``host``:``port``.

        Args:
            host: The server's host.
            port: The server's port.
            token: Access token; None falls back to ``PAMIQ_WEB_API_TOKEN``.

        Raises:
            ValueError: If ``token`` is blank.
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
        if BY_NAME[command].needs_system and self._offline(command):
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
            assume_yes: Do not ask for confirmation (of a shutdown).

        Returns:
            True on success; False if the command failed, was cancelled, or the
            system could not be reached.
        """
        spec = BY_NAME.get(command)
        if spec is None:
            print(f"*** Unknown syntax: {command}")
            return False
        if spec.needs_system:
            self.fetch_status()
            if self._offline(command):
                return False
        return self._perform(spec, assume_yes=assume_yes).succeeded

    def show_status(self) -> bool:
        """Print the system's status and metrics as tables; False if unreachable."""
        address = f"{self._host}:{self._port}"
        self.fetch_status()
        if self.status is SystemStatus.OFFLINE:
            reason = self._client.last_error or "is it running?"
            print(f"Cannot reach a system at {address}: {reason}")
            return False
        metrics = self._client.get_metrics()
        if metrics is None:
            print(f"system  {address}")
            print(f"status  {self.status.status_name}")
            print("(this system serves no metrics)")
            return True
        print(format_metrics(metrics, address))
        return True

    def close(self) -> None:
        """Close the connection to the web API."""
        self._client.close()

    def _perform(self, command: Command, *, assume_yes: bool = False) -> _Outcome:
        """Carry ``command`` out and print what happened (both paths come here)."""
        if command.request is None:
            succeeded = command.show(self) if command.show is not None else True
            return _Outcome(succeeded, command.ends_console)
        if command.confirm and not (assume_yes or self._confirm(command)):
            print(f"{command.name.capitalize()} cancelled.")
            return _Outcome(False, False)
        result = command.request(self._client)
        if not result:
            print(f"Failed to {command.failure}...")
            self._print_reason()
            return _Outcome(False, False)
        if not command.ends_console:
            print(result if result != "accepted" else "accepted: still running")
        return _Outcome(True, command.ends_console)

    def _offline(self, command: str) -> bool:
        """Whether the system is offline, saying so for ``command``."""
        if self.status is not SystemStatus.OFFLINE:
            return False
        print(f'Command "{command}" not executed. Can\'t connect to the system.')
        self._print_reason()
        return True

    def _print_reason(self) -> None:
        """Say why the latest request failed, when the client knows."""
        if self._client.last_error is not None:
            print(f"  ({self._client.last_error})")

    def _confirm(self, command: Command) -> bool:
        try:
            answer = input(f"Confirm system {command.name}? (y/[N]): ")
        except (KeyboardInterrupt, EOFError):
            print()
            return False
        return answer.lower() in {"y", "yes"}


def _command_method(command: Command, name: str) -> Callable[[Console], bool | None]:
    """The method ``command_<name>`` of ``command``: aliases call the long form."""
    if name != command.name:
        long_form = f"command_{command.name}"

        def alias(self: Console) -> bool | None:
            method: Callable[[], bool | None] = getattr(self, long_form)
            return method()

        alias.__doc__ = f"Alias of ``{command.name}``."
        return alias

    def run(self: Console) -> bool | None:
        outcome = self._perform(command)  # pyright: ignore[reportPrivateUsage]
        return outcome.leave if command.ends_console else None

    run.__doc__ = command.help
    return run


# The command_<name> methods are made from the table, so that nothing lists the
# commands a second time; spec'd code (and dir()) finds them as usual.
for _command in COMMANDS:
    for _name in _command.names:
        _method = _command_method(_command, _name)
        _method.__name__ = _method.__qualname__ = f"command_{_name}"
        setattr(Console, f"command_{_name}", _method)


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
        choices=sorted(BY_NAME),
        help="run this one command and exit",
    )
    args = parser.parse_args(argv)
    try:
        console = (
            Console(args.host, args.port)
            if args.token is None
            else Console(args.host, args.port, token=args.token)
        )
    except ValueError as error:
        parser.error(str(error))
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
