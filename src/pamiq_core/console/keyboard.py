"""``pamiq-kbctl``: pause and resume a running system with key combinations.

Needs the ``kbctl`` extra (``pip install pamiq-core[kbctl]``), which provides
pynput. pynput is imported when a controller is created (not when this module is
imported), so that ``pamiq-kbctl`` can say what is missing instead of failing with
a traceback.
"""

import argparse
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from .web_api import WebApiClient

if TYPE_CHECKING:
    from pynput.keyboard import (  # pyright: ignore[reportMissingModuleSource]
        Key,
        KeyCode,
        Listener,
    )

KBCTL_EXTRA_HINT = (
    "pamiq-kbctl needs pynput, which is not installed: pip install pamiq-core[kbctl]"
)

_SIDED_MODIFIERS = frozenset({"alt", "ctrl", "shift", "cmd"})


def _pynput_keyboard():  # pyright infers the module type
    """Import ``pynput.keyboard``.

    Raises:
        ModuleNotFoundError: If pynput is not installed, naming the extra to install.
        ImportError: If pynput cannot reach the keyboard (for example without a
            display).
    """
    try:
        from pynput import keyboard  # pyright: ignore[reportMissingModuleSource]
    except ModuleNotFoundError as e:
        if e.name is None or e.name.partition(".")[0] != "pynput":
            raise
        raise ModuleNotFoundError(KBCTL_EXTRA_HINT, name="pynput") from e
    return keyboard


def _parse_keys(keys: str) -> set[str]:
    return set(keys.lower().split("+"))


class KeyboardController:
    """Sends pause and resume commands when key combinations are pressed.

    A combination fires when the set of held keys equals it exactly; holding it
    down fires again with each key repeat.
    """

    def __init__(
        self,
        host: str,
        port: int,
        pause_keys: str,
        resume_keys: str,
        quit_keys: str | None,
        token: str | None = None,
    ) -> None:
        """Prepare a controller for the web API at ``host``:``port``.

        Args:
            host: The web API's host.
            port: The web API's port.
            pause_keys: Keys that pause, joined by ``+`` (``"alt+shift+p"``).
            resume_keys: Keys that resume.
            quit_keys: Keys that stop the controller; None for none.
            token: Access token; None falls back to ``PAMIQ_WEB_API_TOKEN``.

        Raises:
            ModuleNotFoundError: If pynput is not installed.
        """
        _pynput_keyboard()
        if token is None:
            self._client = WebApiClient(host, port)
        else:
            self._client = WebApiClient(host, port, token=token)
        self._pause_keys = _parse_keys(pause_keys)
        self._resume_keys = _parse_keys(resume_keys)
        self._quit_keys = _parse_keys(quit_keys) if quit_keys else quit_keys
        self._held_keys: set[str] = set()
        self._executor = ThreadPoolExecutor(max_workers=1)
        self._listener: Listener | None = None

    @staticmethod
    def get_key_name(key: "Key | KeyCode") -> str | None:
        """The name a key has in key combinations, or None if it has none.

        Special keys keep their pynput name (``page_up``, ``caps_lock``), except
        that the left and right variants of a modifier count as the modifier
        (``alt_l`` and ``alt_r`` are ``alt``, ``shift_r`` is ``shift``). Character
        keys are their lower-cased character.
        """
        keyboard = _pynput_keyboard()
        if isinstance(key, keyboard.Key):
            name = key.name.lower()
            base, _, side = name.rpartition("_")
            if side in ("l", "r") and base in _SIDED_MODIFIERS:
                return base
            return name
        if key.char is None:
            return None
        return key.char.lower()

    def on_press(self, key: "Key | KeyCode | None") -> None:
        """Note a pressed key and fire the combination it completes."""
        name = None if key is None else self.get_key_name(key)
        if name is None:
            return
        print(f"key press: {name}")
        self._held_keys.add(name)
        if self._held_keys == self._pause_keys:
            self._executor.submit(self._send, "pause")
        elif self._held_keys == self._resume_keys:
            self._executor.submit(self._send, "resume")
        elif self._held_keys == self._quit_keys and self._listener is not None:
            self._listener.stop()

    def on_release(self, key: "Key | KeyCode | None") -> None:
        """Forget a released key."""
        name = None if key is None else self.get_key_name(key)
        if name is not None:
            self._held_keys.discard(name)

    def _send(self, command: str) -> None:
        request = self._client.pause if command == "pause" else self._client.resume
        if request():
            print(f"Success to send {command} command.")
        else:
            print(f"Failed to send {command} command.")
            if self._client.last_error is not None:
                print(f"  ({self._client.last_error})")

    def run(self) -> None:
        """Listen to the keyboard until the quit keys (or Ctrl+C)."""
        keyboard = _pynput_keyboard()
        print("Keyboard controller started.")
        print(f"Pause: {'+'.join(sorted(self._pause_keys))}")
        print(f"Resume: {'+'.join(sorted(self._resume_keys))}")
        if self._quit_keys:
            print(f"Quit: {'+'.join(sorted(self._quit_keys))}")
        print("Press Ctrl+C to exit.")
        self._listener = keyboard.Listener(
            on_press=self.on_press, on_release=self.on_release
        )
        try:
            with self._listener as listener:
                listener.join()
        finally:
            self._executor.shutdown()
            self._client.close()


def _default_keys(platform: str) -> tuple[str, str, str | None]:
    """Pause, resume and quit keys for ``platform`` (a ``sys.platform`` value)."""
    if platform == "darwin":  # the characters Option+P and Option+R type
        return "alt+shift+∏", "alt+shift+‰", None
    if platform == "win32":
        return "alt+shift+p", "alt+shift+r", "alt+shift+q"
    return "alt+shift+p", "alt+shift+r", None


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of ``pamiq-kbctl``.

    Args:
        argv: Command-line arguments; None reads ``sys.argv``.
    """
    pause_keys, resume_keys, quit_keys = _default_keys(sys.platform)
    parser = argparse.ArgumentParser(
        prog="pamiq-kbctl", description="PAMIQ keyboard controller"
    )
    parser.add_argument("--host", default="localhost", help="default: localhost")
    parser.add_argument("--port", type=int, default=8391, help="default: 8391")
    parser.add_argument(
        "--pause-key", default=pause_keys, help=f"default: {pause_keys}"
    )
    parser.add_argument(
        "--resume-key", default=resume_keys, help=f"default: {resume_keys}"
    )
    parser.add_argument("--quit-key", default=quit_keys, help=f"default: {quit_keys}")
    parser.add_argument(
        "--token",
        default=None,
        help="access token of the web API (default: $PAMIQ_WEB_API_TOKEN)",
    )
    args = parser.parse_args(argv)
    try:
        controller = KeyboardController(
            host=args.host,
            port=args.port,
            pause_keys=args.pause_key,
            resume_keys=args.resume_key,
            quit_keys=args.quit_key,
            token=args.token,
        )
        controller.run()
    except KeyboardInterrupt:
        print()
        print("Keyboard controller stopped.")
    except ImportError as e:
        if isinstance(e, ModuleNotFoundError) and e.name == "pynput":
            print(e, file=sys.stderr)
        else:  # pynput is installed but cannot reach a keyboard (no display?)
            print(f"pamiq-kbctl cannot listen to the keyboard: {e}", file=sys.stderr)
        raise SystemExit(1) from None
