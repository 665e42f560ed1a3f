import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from unittest import mock

import pytest

from pamiq_core.console import Console, ControlCommands, SystemStatus, WebApiServer, cui
from pamiq_core.console.web_api import TOKEN_ENV_VAR

from .conftest import FakeSystem, StartServer, free_port

HELP = """\
h/help    Show all commands and details.
p/pause   Pause the AMI system.
r/resume  Resume the AMI system.
save      Save a checkpoint.
shutdown  Shutdown the AMI system.
status    Show the system status and metrics.
q/quit    Exit the console.
"""
OFFLINE = "Can't connect AMI system."
UNREACHABLE = "Cannot reach a system at localhost:"
QUEUE_FULL = "  (the server answered 503: Command queue is full, try again later)\n"


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


@pytest.fixture
def server(start_server: StartServer) -> WebApiServer:
    return start_server(max_queue_size=0)


MakeConsole = Callable[[WebApiServer | None], Console]


@pytest.fixture
def make_console() -> Iterator[MakeConsole]:
    """Consoles for a live server (None: for an address nothing listens on)."""
    consoles: list[Console] = []

    def make(server: WebApiServer | None) -> Console:
        if server is None:
            port = free_port()
        else:
            assert server.address is not None
            port = server.address[1]
        consoles.append(Console("localhost", port))
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


def queued(server: WebApiServer) -> list[ControlCommands]:
    commands: list[ControlCommands] = []
    while server.has_commands():
        commands.append(server.receive_command())
    return commands


class TestConsole:
    def test_commands_and_aliases(self, console: Console) -> None:
        assert console.all_commands == [
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

    @pytest.mark.parametrize("command", ["help", "h"])
    def test_help(
        self, console: Console, capsys: pytest.CaptureFixture[str], command: str
    ) -> None:
        assert not console.run_command(command)
        assert capsys.readouterr().out == HELP

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
        server: WebApiServer,
        console: Console,
        capsys: pytest.CaptureFixture[str],
        command: str,
        expected: ControlCommands,
    ) -> None:
        assert not console.run_command(command)
        assert capsys.readouterr().out == "ok\n"
        assert queued(server) == [expected]

    @pytest.mark.parametrize(
        ("command", "message"),
        [
            ("pause", "Failed to pause...\n" + QUEUE_FULL),
            ("resume", "Failed to resume...\n" + QUEUE_FULL),
            ("save", "Failed to save state...\n" + QUEUE_FULL),
        ],
    )
    def test_a_refused_command_says_so(
        self,
        start_server: StartServer,
        make_console: MakeConsole,
        capsys: pytest.CaptureFixture[str],
        command: str,
        message: str,
    ) -> None:
        console = make_console(start_server())  # room for one command
        console.run_command(command)
        capsys.readouterr()
        console.run_command(command)
        assert capsys.readouterr().out == message

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
        start_server: StartServer,
        make_console: MakeConsole,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        console = make_console(start_server(token="s3cret"))
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
        server: WebApiServer,
        console: Console,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
        answer: str,
    ) -> None:
        answers(monkeypatch, answer)
        assert console.run_command("shutdown") is True
        assert capsys.readouterr().out == ""
        assert queued(server) == [ControlCommands.SHUTDOWN]

    @pytest.mark.parametrize("answer", ["", "n", "no", " y", "maybe"])
    def test_anything_else_cancels_the_shutdown(
        self,
        server: WebApiServer,
        console: Console,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
        answer: str,
    ) -> None:
        answers(monkeypatch, answer)
        assert console.run_command("shutdown") is False
        assert capsys.readouterr().out == "Shutdown cancelled.\n"
        assert queued(server) == []

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

    def test_a_failed_shutdown_prints_one_message(
        self,
        start_server: StartServer,
        make_console: MakeConsole,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        console = make_console(start_server())
        console.run_command("pause")  # fills the queue: the shutdown is refused
        capsys.readouterr()
        answers(monkeypatch, "y")
        assert console.run_command("shutdown") is False
        assert capsys.readouterr().out == "Failed to shutdown...\n"

    def test_status_prints_a_table(
        self,
        system: FakeSystem,
        console: Console,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        system.controller.pause()
        system.inference.pause()
        system.training.pause()
        assert not console.run_command("status")
        lines = capsys.readouterr().out.splitlines()
        assert lines[0].split() == ["system", f"localhost:{console._port}"]
        assert lines[1].split() == ["status", "paused"]
        assert lines[3].split()[:4] == ["inference", "50", "steps,", "100.0"]
        assert any(line.split()[:2] == ["model", "syncs"] for line in lines)
        assert any(line.split()[:3] == ["buffer", "size", "capacity"] for line in lines)
        assert ["buffer", "30", "100", "30%"] in [line.split() for line in lines]

    def test_status_of_a_system_without_metrics(
        self,
        start_server: StartServer,
        make_console: MakeConsole,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        console = make_console(start_server(metrics=None))
        console.run_command("status")
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


class TestMainLoop:
    def test_runs_commands_until_quit(
        self,
        server: WebApiServer,
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
        assert queued(server) == [ControlCommands.PAUSE]

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


def run_main(*args: str) -> int | str | None:
    """Run ``pamiq-console`` with ``args``; its exit code."""
    try:
        cui.main(list(args))
    except SystemExit as e:
        return e.code
    return 0


class TestOneShot:
    @pytest.fixture
    def port(self, server: WebApiServer) -> int:
        assert server.address is not None
        return server.address[1]

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
        server: WebApiServer,
        port: int,
        capsys: pytest.CaptureFixture[str],
        command: str,
        expected: ControlCommands,
    ) -> None:
        assert run_main("--port", str(port), command) == 0
        assert capsys.readouterr().out == "ok\n"
        assert queued(server) == [expected]

    def test_a_refused_command_exits_1(
        self, start_server: StartServer, capsys: pytest.CaptureFixture[str]
    ) -> None:
        server = start_server()
        assert server.address is not None
        port = str(server.address[1])
        assert run_main("--port", port, "pause") == 0
        assert run_main("--port", port, "pause") == 1
        assert capsys.readouterr().out.endswith("Failed to pause...\n" + QUEUE_FULL)

    @pytest.mark.parametrize("command", ["pause", "shutdown", "status"])
    def test_an_unreachable_system_exits_1(
        self, capsys: pytest.CaptureFixture[str], command: str
    ) -> None:
        assert run_main("--port", str(free_port()), "--yes", command) == 1
        out = capsys.readouterr().out
        assert (UNREACHABLE if command == "status" else OFFLINE) in out

    def test_status(self, port: int, capsys: pytest.CaptureFixture[str]) -> None:
        assert run_main("--host", "localhost", "--port", str(port), "status") == 0
        out = capsys.readouterr().out
        assert "status       active" in out
        assert "step period" in out

    def test_shutdown_asks_unless_yes(
        self,
        server: WebApiServer,
        port: int,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        answers(monkeypatch, "n")
        assert run_main("--port", str(port), "shutdown") == 1
        assert capsys.readouterr().out == "Shutdown cancelled.\n"
        assert queued(server) == []
        answers(monkeypatch)  # asking again would fail: no answers left
        assert run_main("--port", str(port), "--yes", "shutdown") == 0
        assert queued(server) == [ControlCommands.SHUTDOWN]

    @pytest.mark.parametrize("command", ["help", "h", "quit", "q"])
    def test_commands_that_need_no_system(
        self, capsys: pytest.CaptureFixture[str], command: str
    ) -> None:
        assert run_main("--port", str(free_port()), command) == 0
        if command.startswith("h"):
            assert capsys.readouterr().out == HELP

    def test_an_unknown_command_is_a_usage_error(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert run_main("dance") == 2
        assert "invalid choice" in capsys.readouterr().err

    def test_sends_the_token(
        self,
        start_server: StartServer,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        server = start_server(token="s3cret")
        assert server.address is not None
        port = str(server.address[1])
        assert run_main("--port", port, "status") == 1
        assert run_main("--port", port, "--token", "s3cret", "status") == 0
        monkeypatch.setenv(TOKEN_ENV_VAR, "s3cret")
        assert run_main("--port", port, "status") == 0


class TestInteractiveMain:
    def test_opens_the_console_and_leaves_with_0(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        typed(monkeypatch, [EOFError()])
        assert run_main("--port", str(free_port())) == 0

    def test_connects_to_the_given_address(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
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
