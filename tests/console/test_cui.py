import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from unittest import mock

import pytest

from pamiq_core.console import Console, ControlCommands, SystemStatus, WebApiServer, cui
from pamiq_core.console.web_api import TOKEN_ENV_VAR, WebApiClient

from .conftest import ControlStandIn, FakeSystem, MakeServer, free_port, in_process

HELP = """\
h/help    Show all commands and details.
p/pause   Pause the system.
r/resume  Resume the system.
save      Save a checkpoint.
shutdown  Shutdown the system.
status    Show the system status and metrics.
q/quit    Exit the console.
"""
ALL_COMMANDS = [
    "h",
    "help",
    "p",
    "pause",
    "q",
    "quit",
    "r",
    "resume",
    "save",
    "shutdown",
    "status",
]
OFFLINE = "Can't connect to the system."
UNREACHABLE = "Cannot reach a system at localhost:"
QUEUE_FULL = "  (the server answered 503: Command queue is full, try again later)\n"
DISK_FULL = "Saving /states/x.state failed: [Errno 28] No space left on device"


def answers(monkeypatch: pytest.MonkeyPatch, *lines: str) -> None:
    """Answer the confirmation question with ``lines``."""
    replies = iter(lines)
    monkeypatch.setattr("builtins.input", lambda prompt="": next(replies))


def typed(
    monkeypatch: pytest.MonkeyPatch, lines: Iterable[str | BaseException]
) -> list[str]:
    """Feed ``lines`` to the console prompt (an exception is raised instead)."""
    prompts: list[str] = []
    pending = iter(lines)

    def fake_prompt(message: str, completer: object = None) -> str:
        prompts.append(message)
        line = next(pending)
        if isinstance(line, BaseException):
            raise line
        return line

    monkeypatch.setattr(cui, "prompt", fake_prompt)
    return prompts


Connect = Callable[[WebApiServer | None], int]


@pytest.fixture
def connect(monkeypatch: pytest.MonkeyPatch) -> Iterator[Connect]:
    """Make the consoles' clients reach ``server`` in-process; returns the port to
    give them. None: a port nothing listens on."""
    clients: list[WebApiClient] = []

    def connect(server: WebApiServer | None) -> int:
        def make_client(host: str, port: int, token: str | None = None) -> WebApiClient:
            client = (
                WebApiClient(host, port)
                if token is None
                else WebApiClient(host, port, token=token)
            )
            if server is not None:
                in_process(client, server)
            clients.append(client)
            return client

        monkeypatch.setattr(cui, "WebApiClient", make_client)
        return free_port()

    yield connect
    for client in clients:
        client.close()


MakeConsole = Callable[[WebApiServer | None], Console]


@pytest.fixture
def make_console(connect: Connect) -> Iterator[MakeConsole]:
    consoles: list[Console] = []

    def make(server: WebApiServer | None) -> Console:
        consoles.append(Console("localhost", connect(server)))
        return consoles[-1]

    yield make
    for console in consoles:
        console.close()


@pytest.fixture
def console(server: WebApiServer, make_console: MakeConsole) -> Console:
    return make_console(server)


@pytest.fixture
def offline_console(make_console: MakeConsole) -> Console:
    return make_console(None)


def run_main(*args: str) -> int | str | None:
    """Run ``pamiq-console`` with ``args``; its exit code."""
    try:
        cui.main(list(args))
    except SystemExit as e:
        return e.code
    return 0


class TestTheCommandTable:
    def test_gives_the_commands_and_aliases(self, console: Console) -> None:
        assert console.all_commands == ALL_COMMANDS
        assert sorted(cui.BY_NAME) == ALL_COMMANDS

    def test_gives_the_help(
        self, console: Console, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert cui.HELP_TEXT + "\n" == HELP
        assert not console.run_command("help")
        assert capsys.readouterr().out == HELP

    def test_gives_the_completion(self, console: Console) -> None:
        assert console._completer.words == ALL_COMMANDS  # type: ignore[attr-defined]

    def test_gives_the_one_shot_choices(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert run_main("dance") == 2
        error = capsys.readouterr().err
        assert "invalid choice: 'dance'" in error
        assert ", ".join(f"'{name}'" for name in ALL_COMMANDS) in error

    @pytest.mark.parametrize(("alias", "name"), [("h", "help"), ("p", "pause")])
    def test_aliases_call_their_long_form_through_the_console(
        self, console: Console, alias: str, name: str
    ) -> None:
        with mock.patch.object(console, f"command_{name}") as long_form:
            getattr(console, f"command_{alias}")()
        long_form.assert_called_once_with()

    def test_each_command_method_says_what_it_does(self) -> None:
        assert Console.command_pause.__doc__ == "Pause the system."  # type: ignore[attr-defined]
        assert Console.command_p.__doc__ == "Alias of ``pause``."  # type: ignore[attr-defined]
        assert Console.command_p.__name__ == "command_p"  # type: ignore[attr-defined]


class TestConsole:
    def test_creates_its_client_through_the_module_name(self) -> None:
        with mock.patch.object(cui, "WebApiClient") as client_class:
            Console("somehost", 1234)
        client_class.assert_called_once_with("somehost", 1234)

    def test_starts_offline_and_fetches_the_status(
        self, system: FakeSystem, console: Console
    ) -> None:
        assert console.status is SystemStatus.OFFLINE
        console.fetch_status()
        assert console.status is SystemStatus.ACTIVE
        system.controller.shutdown()
        console.fetch_status()
        assert console.status is SystemStatus.SHUTTING_DOWN

    @pytest.mark.parametrize(
        ("command", "expected"),
        [
            ("pause", ControlCommands.PAUSE),
            ("p", ControlCommands.PAUSE),
            ("resume", ControlCommands.RESUME),
            ("r", ControlCommands.RESUME),
            ("save", ControlCommands.SAVE_STATE),
        ],
    )
    def test_commands_are_sent_and_the_result_printed(
        self,
        control: ControlStandIn,
        console: Console,
        capsys: pytest.CaptureFixture[str],
        command: str,
        expected: ControlCommands,
    ) -> None:
        assert not console.run_command(command)
        assert capsys.readouterr().out == "ok\n"
        assert control.commands() == [expected]

    def test_a_failed_save_prints_the_systems_reason(
        self,
        control: ControlStandIn,
        console: Console,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        control.answer = lambda request: request.fail(DISK_FULL)
        console.run_command("save")
        assert capsys.readouterr().out == (
            f"Failed to save state...\n  (the server answered 500: {DISK_FULL})\n"
        )

    def test_a_command_still_running_says_so(
        self,
        make_server: MakeServer,
        make_console: MakeConsole,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        server = make_server(on_command=lambda: None, reply_timeout=0)
        make_console(server).run_command("save")
        assert capsys.readouterr().out == "accepted: still running\n"

    @pytest.mark.parametrize(
        ("command", "failure"),
        [("pause", "pause"), ("resume", "resume"), ("save", "save state")],
    )
    def test_a_refused_command_says_so(
        self,
        make_server: MakeServer,
        make_console: MakeConsole,
        capsys: pytest.CaptureFixture[str],
        command: str,
        failure: str,
    ) -> None:
        # room for one command; nobody takes it
        console = make_console(make_server(on_command=lambda: None, reply_timeout=0))
        console.run_command(command)
        capsys.readouterr()
        console.run_command(command)
        assert capsys.readouterr().out == f"Failed to {failure}...\n" + QUEUE_FULL

    @pytest.mark.parametrize(
        "command", ["pause", "p", "resume", "r", "save", "shutdown"]
    )
    def test_commands_are_not_sent_while_offline(
        self,
        offline_console: Console,
        capsys: pytest.CaptureFixture[str],
        command: str,
    ) -> None:
        assert offline_console.run_command(command) is False
        first, reason = capsys.readouterr().out.splitlines()
        assert first == f'Command "{command}" not executed. {OFFLINE}'
        assert reason.startswith("  (no answer (")
        assert reason.endswith("is the system running?)")

    def test_a_refused_token_is_named_as_the_reason(
        self,
        make_server: MakeServer,
        make_console: MakeConsole,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        console = make_console(make_server(token="s3cret"))
        assert console.run_command("pause") is False
        out = capsys.readouterr().out
        assert out.startswith(f'Command "pause" not executed. {OFFLINE}\n')
        assert "the server answered 401 Unauthorized" in out

    @pytest.mark.parametrize("command", ["quit", "q"])
    def test_quit_ends_the_console(self, console: Console, command: str) -> None:
        assert console.run_command(command) is True

    @pytest.mark.parametrize("answer", ["y", "Y", "yes", "YES"])
    def test_a_confirmed_shutdown_ends_the_console(
        self,
        control: ControlStandIn,
        console: Console,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
        answer: str,
    ) -> None:
        answers(monkeypatch, answer)
        assert console.run_command("shutdown") is True
        assert capsys.readouterr().out == ""
        assert control.commands() == [ControlCommands.SHUTDOWN]

    @pytest.mark.parametrize("answer", ["", "n", "no", " y", "maybe"])
    def test_anything_else_cancels_the_shutdown(
        self,
        control: ControlStandIn,
        console: Console,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
        answer: str,
    ) -> None:
        answers(monkeypatch, answer)
        assert console.run_command("shutdown") is False
        assert capsys.readouterr().out == "Shutdown cancelled.\n"
        assert control.commands() == []

    def test_the_confirmation_question_names_the_system(
        self, console: Console, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        asked: list[str] = []
        monkeypatch.setattr(
            "builtins.input", lambda prompt="": asked.append(prompt) or "n"
        )
        console.run_command("shutdown")
        assert asked == ["Confirm system shutdown? (y/[N]): "]

    @pytest.mark.parametrize("interruption", [KeyboardInterrupt(), EOFError()])
    def test_ctrl_c_or_ctrl_d_at_the_question_cancels(
        self,
        console: Console,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
        interruption: BaseException,
    ) -> None:
        def interrupted(prompt: str = "") -> str:
            raise interruption

        monkeypatch.setattr("builtins.input", interrupted)
        assert console.run_command("shutdown") is False
        assert capsys.readouterr().out.endswith("Shutdown cancelled.\n")

    def test_status_prints_a_table(
        self,
        system: FakeSystem,
        console: Console,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        system.controller.pause()
        system.inference.pause(system.controller.pause_request())
        system.training.pause(system.controller.pause_request())
        assert not console.run_command("status")
        lines = capsys.readouterr().out.splitlines()
        assert lines[0].split() == ["system", f"localhost:{console._port}"]
        assert lines[1].split() == ["status", "paused"]
        assert lines[3].split()[:4] == ["inference", "50", "steps,", "100.0"]
        assert lines[6].startswith("failed saves  1, the latest")
        assert any(line.split()[:2] == ["model", "syncs"] for line in lines)
        assert ["critic", "0", "15", "-", "-", "-"] in [line.split() for line in lines]
        assert ["buffer", "30", "100", "30%"] in [line.split() for line in lines]

    def test_status_of_a_system_without_metrics(
        self,
        make_server: MakeServer,
        make_console: MakeConsole,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        make_console(make_server(metrics=None)).run_command("status")
        lines = capsys.readouterr().out.splitlines()
        assert lines[1] == "status  active"
        assert lines[2] == "(this system serves no metrics)"

    def test_status_of_an_offline_system(
        self, offline_console: Console, capsys: pytest.CaptureFixture[str]
    ) -> None:
        offline_console.run_command("status")
        out = capsys.readouterr().out
        assert out.startswith(UNREACHABLE)
        assert out.endswith("is the system running?\n")


Situation = Callable[
    [MakeServer, ControlStandIn, pytest.MonkeyPatch], WebApiServer | None
]


def offline(
    make_server: MakeServer, control: ControlStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    return None


def wrong_token(
    make_server: MakeServer, control: ControlStandIn, monkeypatch: pytest.MonkeyPatch
) -> WebApiServer:
    return make_server(token="s3cret")


def save_fails(
    make_server: MakeServer, control: ControlStandIn, monkeypatch: pytest.MonkeyPatch
) -> WebApiServer:
    control.answer = lambda request: request.fail(DISK_FULL)
    return make_server()


def queue_full(
    make_server: MakeServer, control: ControlStandIn, monkeypatch: pytest.MonkeyPatch
) -> WebApiServer:
    server = make_server(on_command=lambda: None, reply_timeout=0)
    filler = in_process(WebApiClient("localhost", 1), server)
    assert filler.pause() == "accepted"
    filler.close()
    return server


def shutdown_cancelled(
    make_server: MakeServer, control: ControlStandIn, monkeypatch: pytest.MonkeyPatch
) -> WebApiServer:
    monkeypatch.setattr("builtins.input", lambda prompt="": "n")
    return make_server()


def shutdown_refused(
    make_server: MakeServer, control: ControlStandIn, monkeypatch: pytest.MonkeyPatch
) -> WebApiServer:
    monkeypatch.setattr("builtins.input", lambda prompt="": "y")
    control.answer = lambda request: request.fail("Already shutting down", 409)
    return make_server()


class TestBothPathsSayTheSame:
    """The interactive console and ``pamiq-console <command>`` print alike."""

    @pytest.mark.parametrize(
        ("situation", "command"),
        [
            (offline, "pause"),
            (offline, "shutdown"),
            (wrong_token, "resume"),
            (save_fails, "save"),
            (queue_full, "pause"),
            (shutdown_cancelled, "shutdown"),
            (shutdown_refused, "shutdown"),
        ],
    )
    def test_a_failure(
        self,
        make_server: MakeServer,
        control: ControlStandIn,
        make_console: MakeConsole,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
        situation: Situation,
        command: str,
    ) -> None:
        server = situation(make_server, control, monkeypatch)
        interactive = make_console(server)
        assert not interactive.run_command(command)
        said_interactively = capsys.readouterr().out
        one_shot = make_console(server)
        assert one_shot.run_once(command) is False
        assert capsys.readouterr().out == said_interactively
        assert said_interactively  # something was said


class TestMainLoop:
    def test_runs_commands_until_quit(
        self,
        control: ControlStandIn,
        console: Console,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        prompts = typed(monkeypatch, ["", "hello", " pause", "pause", "quit", "help"])
        console.main_loop()
        out = capsys.readouterr().out
        assert out == (
            'Welcome to the PAMIQ console. "help" lists commands.\n\n'
            "*** Unknown syntax: hello\n"
            "*** Unknown syntax:  pause\n"
            "ok\n"
        )
        assert prompts[0] == "pamiq-console (active) > "
        assert len(prompts) == 5
        assert control.commands() == [ControlCommands.PAUSE]

    def test_shows_an_offline_system_in_the_prompt(
        self, offline_console: Console, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        prompts = typed(monkeypatch, ["q"])
        offline_console.main_loop()
        assert prompts == ["pamiq-console (offline) > "]

    def test_a_confirmed_shutdown_ends_the_loop(
        self, console: Console, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        prompts = typed(monkeypatch, ["shutdown", "never read"])
        answers(monkeypatch, "y")
        console.main_loop()
        assert len(prompts) == 1

    @pytest.mark.parametrize(
        "key", [KeyboardInterrupt(), EOFError()], ids=["C-c", "C-d"]
    )
    def test_ctrl_c_and_ctrl_d_leave_cleanly(
        self,
        console: Console,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
        key: BaseException,
    ) -> None:
        typed(monkeypatch, ["help", key])
        console.main_loop()  # returns instead of raising
        assert capsys.readouterr().out.endswith("Leaving the console.\n")


class TestOneShot:
    @pytest.fixture
    def port(self, server: WebApiServer, connect: Connect) -> int:
        return connect(server)

    @pytest.mark.parametrize(
        ("command", "expected"),
        [
            ("pause", ControlCommands.PAUSE),
            ("p", ControlCommands.PAUSE),
            ("resume", ControlCommands.RESUME),
            ("save", ControlCommands.SAVE_STATE),
        ],
    )
    def test_runs_the_command_and_exits_0(
        self,
        control: ControlStandIn,
        port: int,
        capsys: pytest.CaptureFixture[str],
        command: str,
        expected: ControlCommands,
    ) -> None:
        assert run_main("--port", str(port), command) == 0
        assert capsys.readouterr().out == "ok\n"
        assert control.commands() == [expected]

    def test_a_failed_save_exits_1_with_the_reason(
        self,
        control: ControlStandIn,
        port: int,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        control.answer = lambda request: request.fail(DISK_FULL)
        assert run_main("--port", str(port), "save") == 1
        assert DISK_FULL in capsys.readouterr().out

    @pytest.mark.parametrize("command", ["pause", "shutdown", "status"])
    def test_an_unreachable_system_exits_1(
        self, connect: Connect, capsys: pytest.CaptureFixture[str], command: str
    ) -> None:
        port = connect(None)
        assert run_main("--port", str(port), "--yes", command) == 1
        out = capsys.readouterr().out
        assert (UNREACHABLE if command == "status" else OFFLINE) in out

    def test_status(self, port: int, capsys: pytest.CaptureFixture[str]) -> None:
        assert run_main("--host", "localhost", "--port", str(port), "status") == 0
        out = capsys.readouterr().out
        assert "status        active" in out
        assert "step period" in out

    def test_shutdown_asks_unless_yes(
        self,
        control: ControlStandIn,
        port: int,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        answers(monkeypatch, "n")
        assert run_main("--port", str(port), "shutdown") == 1
        assert capsys.readouterr().out == "Shutdown cancelled.\n"
        assert control.commands() == []
        answers(monkeypatch)  # asking again would fail: no answers left
        assert run_main("--port", str(port), "--yes", "shutdown") == 0
        assert capsys.readouterr().out == ""
        assert control.commands() == [ControlCommands.SHUTDOWN]

    @pytest.mark.parametrize("command", ["help", "h", "quit", "q"])
    def test_commands_that_need_no_system(
        self, connect: Connect, capsys: pytest.CaptureFixture[str], command: str
    ) -> None:
        assert run_main("--port", str(connect(None)), command) == 0
        if command.startswith("h"):
            assert capsys.readouterr().out == HELP

    def test_sends_the_token(
        self,
        make_server: MakeServer,
        connect: Connect,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        port = str(connect(make_server(token="s3cret")))
        assert run_main("--port", port, "status") == 1
        assert run_main("--port", port, "--token", "s3cret", "status") == 0
        monkeypatch.setenv(TOKEN_ENV_VAR, "s3cret")
        assert run_main("--port", port, "status") == 0

    def test_a_blank_token_is_a_usage_error(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert run_main("--token", " ", "status") == 2
        assert "access token is blank" in capsys.readouterr().err


class TestInteractiveMain:
    def test_opens_the_console_and_leaves_with_0(
        self, connect: Connect, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        typed(monkeypatch, [EOFError()])
        assert run_main("--port", str(connect(None))) == 0

    def test_connects_to_the_given_address(self) -> None:
        with mock.patch.object(cui, "Console") as console_class:
            assert run_main("--host", "h", "--port", "1") == 0
        console_class.assert_called_once_with("h", 1)
        console_class.return_value.main_loop.assert_called_once_with()


def test_the_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "pamiq-console"
    result = subprocess.run(
        [script, "--port", str(free_port()), "status"],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert UNREACHABLE in result.stdout
    assert result.stderr == ""
