"""Hooks and state reach every part of a deeply nested interaction.

The tree under test nests every container and wrapper there is::

    FixedIntervalInteraction
    ├── agent: root ── planner ── reflex
    │               └── logger
    └── environment: EnvironmentWrapper(obs_wrapper, act_wrapper)
        └── ModularEnvironment
            ├── SensorsDict
            │   ├── camera: SensorWrapper(camera_wrapper) ── camera
            │   └── inner: SensorsDict ── touch
            └── ActuatorsDict
                ├── keyboard: ActuatorWrapper(keyboard_wrapper)
                │             └── ActuatorsDict ── keys (holds keys)
                └── arm: arm
"""

from pathlib import Path
from typing import Any

import pytest

from pamiq_core.interaction import (
    ActuatorsDict,
    ActuatorWrapper,
    EnvironmentWrapper,
    FixedIntervalInteraction,
    ModularEnvironment,
    SensorsDict,
    SensorWrapper,
)

from .recorders import (
    HOOKS,
    RecordingActuator,
    RecordingAgent,
    RecordingSensor,
    RecordingWrapper,
)


class KeyHolder(RecordingActuator):
    """Presses the keys it is told to and keeps them down until told otherwise.

    Follows the Actuator convention: held keys are released on pause and teardown.
    """

    def __init__(self, name: str, log: list[str]) -> None:
        super().__init__(name, log)
        self.held: set[str] = set()

    def operate(self, action: Any) -> None:
        super().operate(action)
        self.held = set(action)

    def on_paused(self) -> None:
        super().on_paused()
        self.held.clear()

    def teardown(self) -> None:
        super().teardown()
        self.held.clear()


def identity(value: Any) -> Any:
    return value


class Tree:
    def __init__(self) -> None:
        self.log: list[str] = []
        log = self.log
        self.keys = KeyHolder("keys", log)
        self.arm = RecordingActuator("arm", log)
        self.agents = [
            RecordingAgent("root", log),
            RecordingAgent("planner", log),
            RecordingAgent("reflex", log),
            RecordingAgent("logger", log),
        ]
        root, planner, reflex, logger = self.agents
        planner._agents["reflex"] = reflex
        root._agents.update(planner=planner, logger=logger)
        self.leaves = [
            RecordingWrapper("obs_wrapper", log, identity),
            RecordingWrapper("act_wrapper", log, identity),
            RecordingSensor("camera", log, "image"),
            RecordingWrapper("camera_wrapper", log, identity),
            RecordingSensor("touch", log, "pressure"),
            RecordingWrapper("keyboard_wrapper", log, identity),
            self.keys,
            self.arm,
        ]
        obs_w, act_w, camera, camera_w, touch, keyboard_w, keys, arm = self.leaves
        sensors = SensorsDict(
            camera=SensorWrapper(camera, camera_w), inner=SensorsDict(touch=touch)
        )
        actuators = ActuatorsDict(
            keyboard=ActuatorWrapper(ActuatorsDict(keys=keys), keyboard_w), arm=arm
        )
        self.environment = EnvironmentWrapper(
            ModularEnvironment(sensors, actuators), obs_w, act_w
        )
        self.interaction = FixedIntervalInteraction.with_sleep_adjustor(
            root, self.environment, interval=0.0
        )

    def parts(self) -> list[Any]:
        return [*self.agents, *self.leaves]

    def events_of(self, name: str) -> list[str]:
        prefix = f"{name}."
        return [e.removeprefix(prefix) for e in self.log if e.startswith(prefix)]


@pytest.fixture
def tree() -> Tree:
    return Tree()


def test_every_part_sees_every_hook_once_in_order(tree: Tree) -> None:
    for hook in HOOKS:
        getattr(tree.interaction, hook)()
    for part in tree.parts():
        assert tree.events_of(part.name) == list(HOOKS), part.name


def test_agents_are_reached_before_the_environment(tree: Tree) -> None:
    tree.interaction.on_paused()
    assert [e.split(".")[0] for e in tree.log] == [
        "root",
        "planner",
        "reflex",
        "logger",
        "camera",  # sensors before actuators; wrapped parts before their wrappers
        "camera_wrapper",
        "touch",
        "keys",
        "keyboard_wrapper",
        "arm",
        "obs_wrapper",
        "act_wrapper",
    ]


def test_a_step_goes_through_every_sensor_and_actuator(tree: Tree) -> None:
    tree.interaction.setup()

    class Presser(RecordingAgent):
        def step(self, observation: Any) -> Any:
            return {"keyboard": {"keys": ["w", "shift"]}, "arm": observation}

    tree.interaction.agent = Presser("presser", tree.log)
    tree.log.clear()
    tree.interaction.step()
    assert tree.keys.held == {"w", "shift"}
    assert tree.log == [
        "camera.read",
        "camera_wrapper.wrap",
        "touch.read",
        "obs_wrapper.wrap",
        "act_wrapper.wrap",
        "keyboard_wrapper.wrap",
        "keys.operate",
        "arm.operate",
    ]
    assert tree.arm.actions == [{"camera": "image", "inner": {"touch": "pressure"}}]


def test_held_keys_are_released_when_the_system_pauses(tree: Tree) -> None:
    tree.keys.operate(["w"])
    tree.interaction.on_paused()
    assert tree.keys.held == set()


def test_held_keys_are_released_on_teardown(tree: Tree) -> None:
    tree.keys.operate(["w"])
    tree.interaction.teardown()
    assert tree.keys.held == set()


def test_state_reaches_every_part_at_its_own_path(tree: Tree, tmp_path: Path) -> None:
    tree.interaction.save_state(tmp_path / "interaction")
    files = sorted(
        str(p.relative_to(tmp_path / "interaction"))
        for p in (tmp_path / "interaction").rglob("*")
        if p.is_file()
    )
    assert files == [
        "environment/act_wrapper",
        "environment/env/actuator/arm",
        "environment/env/actuator/keyboard/actuator/keys",
        "environment/env/actuator/keyboard/wrapper",
        "environment/env/sensor/camera/sensor",
        "environment/env/sensor/camera/wrapper",
        "environment/env/sensor/inner/touch",
        "environment/obs_wrapper",
    ]
    tree.log.clear()
    tree.interaction.load_state(tmp_path / "interaction")
    for leaf in tree.leaves:
        assert tree.events_of(leaf.name) == [f"load_state:{leaf.name}"]
    for agent in tree.agents:
        assert tree.events_of(agent.name) == ["load_state"]
