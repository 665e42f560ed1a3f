"""pamiq-kbctl, with a stand-in for pynput.

pynput cannot even be imported without a display, so these tests install a small
fake ``pynput.keyboard`` with the same shape: a ``Key`` enum, ``KeyCode`` objects
with a ``char``, and a ``Listener`` that the test drives by hand.
"""

import enum
import subprocess
import sys
import types
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any, ClassVar
from unittest import mock

import pytest

from pamiq_core.console import keyboard as kbctl
from pamiq_core.console.keyboard import KBCTL_EXTRA_HINT, KeyboardController

from .conftest import free_port


class Key(enum.Enum):
    alt = 1
    alt_l = 2
    alt_r = 3
    alt_gr = 4
    shift = 5
    shift_l = 6
    shift_r = 7
    ctrl = 8
    ctrl_l = 9
    ctrl_r = 10
    cmd = 11
    cmd_l = 12
    cmd_r = 13
    page_up = 14
    page_down = 15
    caps_lock = 16
    num_lock = 17
    print_screen = 18
    media_volume_up = 19
    space = 20


class KeyCode:
    def __init__(self, vk: int | None = None, char: str | None = None) -> None:
        self.vk = vk
        self.char = char

    @classmethod
    def from_char(cls, char: str) -> "KeyCode":
        return cls(char=char)


class Listener:
    instances: ClassVar[list["Listener"]] = []

    def __init__(
        self,
        on_press: Callable[[Any], None] | None = None,
        on_release: Callable[[Any], None] | None = None,
    ) -> None:
        self.on_press = on_press
        self.on_release = on_release
        self.stopped = False
        self.script: list[tuple[str, Any]] = []
        Listener.instances.append(self)

    def __enter__(self) -> "Listener":
        return self

    def __exit__(self, *args: object) -> None:
        self.stop()

    def stop(self) -> None:
        self.stopped = True

    def join(self, timeout: float | None = None) -> None:
        """Replay the scripted key events until stopped."""
        for action, key in self.script:
            if self.stopped:
                return
            if action == "press" and self.on_press is not None:
                self.on_press(key)
            elif action == "release" and self.on_release is not None:
                self.on_release(key)
        if not self.stopped:
            raise KeyboardInterrupt


@pytest.fixture(autouse=True)
def fake_pynput(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    package = types.ModuleType("pynput")
    keyboard = types.ModuleType("pynput.keyboard")
    keyboard.Key = Key  # type: ignore[attr-defined]
    keyboard.KeyCode = KeyCode  # type: ignore[attr-defined]
    keyboard.Listener = Listener  # type: ignore[attr-defined]
    package.keyboard = keyboard  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "pynput", package)
    monkeypatch.setitem(sys.modules, "pynput.keyboard", keyboard)
    Listener.instances = []
    return keyboard


@pytest.fixture
def client() -> Iterator[mock.Mock]:
    with mock.patch.object(kbctl, "WebApiClient") as client_class:
        client_class.return_value.last_error = None
        yield client_class.return_value


def char(c: str) -> KeyCode:
    return KeyCode.from_char(c)


def make_controller(quit_keys: str | None = None) -> KeyboardController:
    return KeyboardController(
        "localhost", 8391, "alt+shift+p", "alt+shift+r", quit_keys
    )


def sent(controller: KeyboardController) -> None:
    """Wait for the requests the controller has submitted."""
    future: Future[None] = controller._executor.submit(lambda: None)
    future.result(timeout=10)


class TestGetKeyName:
    @pytest.mark.parametrize(
        ("key", "name"),
        [
            (Key.alt, "alt"),
            (Key.alt_l, "alt"),
            (Key.alt_r, "alt"),
            (Key.shift_l, "shift"),
            (Key.shift_r, "shift"),
            (Key.ctrl_l, "ctrl"),
            (Key.ctrl_r, "ctrl"),
            (Key.cmd_l, "cmd"),
            (Key.cmd_r, "cmd"),
            (Key.alt_gr, "alt_gr"),
            (Key.page_up, "page_up"),
            (Key.page_down, "page_down"),
            (Key.caps_lock, "caps_lock"),
            (Key.num_lock, "num_lock"),
            (Key.print_screen, "print_screen"),
            (Key.media_volume_up, "media_volume_up"),
            (Key.space, "space"),
        ],
    )
    def test_special_keys(self, key: Key, name: str) -> None:
        assert KeyboardController.get_key_name(key) == name  # type: ignore[arg-type]

    def test_only_the_sides_of_a_modifier_share_a_name(self) -> None:
        names = {KeyboardController.get_key_name(k) for k in Key}  # type: ignore[arg-type]
        sided = {
            f"{m}_{side}" for m in ("alt", "shift", "ctrl", "cmd") for side in "lr"
        }
        assert names == {k.name for k in Key} - sided
        assert len(names) == len(Key) - len(sided)

    @pytest.mark.parametrize(("c", "name"), [("p", "p"), ("P", "p"), ("∏", "∏")])
    def test_character_keys(self, c: str, name: str) -> None:
        assert KeyboardController.get_key_name(char(c)) == name  # type: ignore[arg-type]

    def test_a_key_code_without_a_character_has_no_name(self) -> None:
        assert KeyboardController.get_key_name(KeyCode(vk=42)) is None  # type: ignore[arg-type]


class TestKeyCombinations:
    def test_pressing_the_pause_combination_sends_pause(
        self, client: mock.Mock, capsys: pytest.CaptureFixture[str]
    ) -> None:
        client.pause.return_value = "ok"
        controller = make_controller()
        for key in (Key.alt_l, Key.shift_r, char("P")):
            controller.on_press(key)  # type: ignore[arg-type]
        sent(controller)
        client.pause.assert_called_once_with()
        client.resume.assert_not_called()
        out = capsys.readouterr().out
        assert "key press: alt\nkey press: shift\nkey press: p\n" in out
        assert "Success to send pause command." in out

    def test_the_resume_combination_sends_resume(
        self, client: mock.Mock, capsys: pytest.CaptureFixture[str]
    ) -> None:
        client.resume.return_value = None  # the server refused
        client.last_error = "the server answered 503: full"
        controller = make_controller()
        for key in (Key.shift, Key.alt, char("r")):
            controller.on_press(key)  # type: ignore[arg-type]
        sent(controller)
        client.resume.assert_called_once_with()
        out = capsys.readouterr().out
        assert (
            "Failed to send resume command.\n  (the server answered 503: full)\n" in out
        )

    def test_the_held_keys_must_match_exactly(self, client: mock.Mock) -> None:
        controller = make_controller()
        for key in (Key.ctrl, Key.alt, Key.shift, char("p")):
            controller.on_press(key)  # type: ignore[arg-type]
        sent(controller)
        client.pause.assert_not_called()

    def test_released_keys_are_forgotten(self, client: mock.Mock) -> None:
        controller = make_controller()
        controller.on_press(Key.alt)  # type: ignore[arg-type]
        controller.on_press(char("x"))  # type: ignore[arg-type]
        controller.on_release(char("x"))  # type: ignore[arg-type]
        controller.on_press(Key.shift)  # type: ignore[arg-type]
        controller.on_press(char("p"))  # type: ignore[arg-type]
        sent(controller)
        client.pause.assert_called_once_with()

    def test_left_and_right_variants_of_a_modifier_are_one_key(
        self, client: mock.Mock
    ) -> None:
        controller = make_controller()
        controller.on_press(Key.alt_l)  # type: ignore[arg-type]
        controller.on_press(Key.shift_l)  # type: ignore[arg-type]
        controller.on_release(Key.shift_r)  # type: ignore[arg-type]
        controller.on_press(Key.shift_r)  # type: ignore[arg-type]
        controller.on_press(char("p"))  # type: ignore[arg-type]
        sent(controller)
        client.pause.assert_called_once_with()

    def test_page_keys_no_longer_merge(self, client: mock.Mock) -> None:
        controller = KeyboardController("localhost", 8391, "page_up", "page_down", None)
        controller.on_press(Key.page_down)  # type: ignore[arg-type]
        sent(controller)
        client.pause.assert_not_called()
        client.resume.assert_called_once_with()

    def test_key_repeat_fires_again(self, client: mock.Mock) -> None:
        controller = make_controller()
        for key in (Key.alt, Key.shift, char("p"), char("p")):
            controller.on_press(key)  # type: ignore[arg-type]
        sent(controller)
        assert client.pause.call_count == 2

    def test_unknown_keys_are_ignored(
        self, client: mock.Mock, capsys: pytest.CaptureFixture[str]
    ) -> None:
        controller = make_controller()
        controller.on_press(None)
        controller.on_press(KeyCode(vk=7))  # type: ignore[arg-type]
        controller.on_release(None)
        assert capsys.readouterr().out == ""


class TestRun:
    def test_prints_the_keys_and_stops_on_the_quit_combination(
        self, client: mock.Mock, capsys: pytest.CaptureFixture[str]
    ) -> None:
        controller = make_controller(quit_keys="alt+shift+q")
        original = Listener.__init__

        def scripted(self: Listener, **kwargs: Any) -> None:
            original(self, **kwargs)
            self.script = [
                ("press", Key.alt),
                ("press", Key.shift),
                ("press", char("q")),
                ("press", char("never seen")),
            ]

        with mock.patch.object(Listener, "__init__", scripted):
            controller.run()
        out = capsys.readouterr().out
        assert out.startswith(
            "Keyboard controller started.\n"
            "Pause: alt+p+shift\n"
            "Resume: alt+r+shift\n"
            "Quit: alt+q+shift\n"
            "Press Ctrl+C to exit.\n"
        )
        assert "never seen" not in out
        assert Listener.instances[0].stopped
        assert controller._executor._shutdown  # type: ignore[attr-defined]

    def test_no_quit_line_without_quit_keys(
        self, client: mock.Mock, capsys: pytest.CaptureFixture[str]
    ) -> None:
        with pytest.raises(KeyboardInterrupt):
            make_controller().run()
        assert "Quit:" not in capsys.readouterr().out


class TestMain:
    def test_builds_the_controller_from_the_options(self) -> None:
        with mock.patch.object(kbctl, "KeyboardController") as controller_class:
            kbctl.main(
                ["--host", "h", "--port", "1", "--pause-key", "a+b", "--quit-key", "q"]
            )
        controller_class.assert_called_once_with(
            host="h",
            port=1,
            pause_keys="a+b",
            resume_keys=kbctl._default_keys(sys.platform)[1],
            quit_keys="q",
            token=None,
        )
        controller_class.return_value.run.assert_called_once_with()

    def test_ctrl_c_stops_it_cleanly(
        self, client: mock.Mock, capsys: pytest.CaptureFixture[str]
    ) -> None:
        kbctl.main([])  # the fake listener raises KeyboardInterrupt
        assert capsys.readouterr().out.endswith("\nKeyboard controller stopped.\n")

    @pytest.mark.parametrize(
        ("platform", "keys"),
        [
            ("linux", ("alt+shift+p", "alt+shift+r", None)),
            ("darwin", ("alt+shift+∏", "alt+shift+‰", None)),
            ("win32", ("alt+shift+p", "alt+shift+r", "alt+shift+q")),
        ],
    )
    def test_default_keys(self, platform: str, keys: tuple[str, ...]) -> None:
        assert kbctl._default_keys(platform) == keys


class TestWithoutPynput:
    @pytest.fixture
    def no_pynput(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setitem(sys.modules, "pynput", None)  # import fails
        monkeypatch.delitem(sys.modules, "pynput.keyboard")

    @pytest.mark.usefixtures("no_pynput")
    def test_creating_a_controller_names_the_extra(self) -> None:
        with pytest.raises(ModuleNotFoundError, match=r"pamiq-core\[kbctl\]"):
            make_controller()

    @pytest.mark.usefixtures("no_pynput")
    def test_the_command_prints_the_hint_and_fails(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        with pytest.raises(SystemExit) as info:
            kbctl.main([])
        assert info.value.code == 1
        assert capsys.readouterr().err == KBCTL_EXTRA_HINT + "\n"

    def test_a_keyboard_that_cannot_be_reached_is_reported(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        def no_display(*args: object) -> None:
            raise ImportError("this platform is not supported: no display")

        monkeypatch.setattr(kbctl, "_pynput_keyboard", no_display)
        with pytest.raises(SystemExit) as info:
            kbctl.main([])
        assert info.value.code == 1
        assert "cannot listen to the keyboard" in capsys.readouterr().err

    def test_the_installed_command_prints_the_hint(self) -> None:
        script = Path(sys.executable).parent / "pamiq-kbctl"
        probe = subprocess.run(
            [sys.executable, "-c", "import pynput"],
            check=False,
            capture_output=True,
            timeout=60,
        )
        if probe.returncode == 0:
            pytest.skip("pynput is installed here")
        result = subprocess.run(
            [script, "--port", str(free_port())],
            check=False,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 1
        assert result.stderr.strip() == KBCTL_EXTRA_HINT
        assert "Traceback" not in result.stderr
