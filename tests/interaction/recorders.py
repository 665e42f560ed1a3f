"""Parts of an interaction that record every call they receive.

Each recorder appends ``"<name>.<event>"`` to a log shared by the whole tree under test,
so a test can check both what reached each part and in which order.
"""

from collections.abc import Callable
from pathlib import Path
from typing import Any

from pamiq_core.interaction import Actuator, Agent, Environment, Sensor, Wrapper

HOOKS = ("setup", "on_paused", "on_resumed", "teardown")


class Recorder:
    """Records lifecycle hooks and state calls into a shared log."""

    def __init__(self, name: str, log: list[str]) -> None:
        self.name = name
        self.log = log

    def record(self, event: str) -> None:
        self.log.append(f"{self.name}.{event}")

    def events(self) -> list[str]:
        """What reached this part, without the name prefix, in order."""
        prefix = f"{self.name}."
        return [e.removeprefix(prefix) for e in self.log if e.startswith(prefix)]

    def setup(self) -> None:
        self.record("setup")

    def teardown(self) -> None:
        self.record("teardown")

    def on_paused(self) -> None:
        self.record("on_paused")

    def on_resumed(self) -> None:
        self.record("on_resumed")

    def save_state(self, path: Path) -> None:
        self.record("save_state")
        path.write_text(self.name)

    def load_state(self, path: Path) -> None:
        self.record(f"load_state:{path.read_text()}")


class RecordingSensor(Recorder, Sensor[Any]):
    def __init__(self, name: str, log: list[str], value: Any = None) -> None:
        super().__init__(name, log)
        self.value = value

    def read(self) -> Any:
        self.record("read")
        return self.value


class RecordingActuator(Recorder, Actuator[Any]):
    def __init__(self, name: str, log: list[str]) -> None:
        super().__init__(name, log)
        self.actions: list[Any] = []

    def operate(self, action: Any) -> None:
        self.record("operate")
        self.actions.append(action)


class RecordingWrapper(Recorder, Wrapper[Any, Any]):
    """Wraps with ``func``; by default tags the value: ``(name, value)``."""

    def __init__(
        self, name: str, log: list[str], func: Callable[[Any], Any] | None = None
    ) -> None:
        super().__init__(name, log)
        self.func = func

    def wrap(self, value: Any) -> Any:
        self.record("wrap")
        return (self.name, value) if self.func is None else self.func(value)


class RecordingEnvironment(Recorder, Environment[Any, Any]):
    def __init__(self, name: str, log: list[str], observation: Any = None) -> None:
        super().__init__(name, log)
        self.observation = observation
        self.actions: list[Any] = []

    def observe(self) -> Any:
        self.record("observe")
        return self.observation

    def affect(self, action: Any) -> None:
        self.record("affect")
        self.actions.append(action)


class RecordingAgent(Agent[Any, Any]):
    """An agent that records hooks and state and returns ``(name, observation)``.

    It calls ``super()`` in every hook, as users are told to, so that its children
    are reached too.
    """

    def __init__(
        self,
        name: str,
        log: list[str],
        agents: dict[str, Agent[Any, Any]] | None = None,
    ) -> None:
        super().__init__(agents)
        self.name = name
        self.log = log

    def record(self, event: str) -> None:
        self.log.append(f"{self.name}.{event}")

    def step(self, observation: Any) -> Any:
        self.record("step")
        return (self.name, observation)

    def setup(self) -> None:
        self.record("setup")
        super().setup()

    def teardown(self) -> None:
        self.record("teardown")
        super().teardown()

    def on_paused(self) -> None:
        self.record("on_paused")
        super().on_paused()

    def on_resumed(self) -> None:
        self.record("on_resumed")
        super().on_resumed()

    def save_state(self, path: Path) -> None:
        self.record("save_state")
        super().save_state(path)

    def load_state(self, path: Path) -> None:
        self.record("load_state")
        super().load_state(path)
