from collections import UserDict
from pathlib import Path
from typing import Any, get_origin

import pytest

from pamiq_core.interaction import (
    Actuator,
    ActuatorsDict,
    Environment,
    ModularEnvironment,
    Sensor,
    SensorsDict,
)

from .recorders import HOOKS, RecordingActuator, RecordingSensor


@pytest.fixture
def log() -> list[str]:
    return []


class TestSensorAndActuator:
    def test_abstract_methods(self) -> None:
        assert Sensor.__abstractmethods__ == {"read"}
        assert Actuator.__abstractmethods__ == {"operate"}

    def test_are_subscriptable_at_run_time(self) -> None:
        assert get_origin(Sensor[int]) is Sensor
        assert get_origin(Actuator[int]) is Actuator


class TestModularEnvironment:
    @pytest.fixture
    def env(self, log: list[str]) -> ModularEnvironment[Any, Any]:
        return ModularEnvironment(
            RecordingSensor("sensor", log, 7), RecordingActuator("actuator", log)
        )

    def test_is_an_environment_with_public_parts(
        self, env: ModularEnvironment[Any, Any]
    ) -> None:
        assert isinstance(env, Environment)
        assert isinstance(env.sensor, RecordingSensor)
        assert isinstance(env.actuator, RecordingActuator)

    def test_observes_with_the_sensor_and_acts_with_the_actuator(
        self, env: ModularEnvironment[Any, Any]
    ) -> None:
        assert env.observe() == 7
        env.affect("push")
        assert isinstance(env.actuator, RecordingActuator)
        assert env.actuator.actions == ["push"]

    @pytest.mark.parametrize("hook", HOOKS)
    def test_hooks_reach_the_sensor_then_the_actuator(
        self, env: ModularEnvironment[Any, Any], log: list[str], hook: str
    ) -> None:
        getattr(env, hook)()
        assert log == [f"sensor.{hook}", f"actuator.{hook}"]

    def test_state_layout(
        self, env: ModularEnvironment[Any, Any], log: list[str], tmp_path: Path
    ) -> None:
        env.save_state(tmp_path / "env")
        assert sorted(p.name for p in (tmp_path / "env").iterdir()) == [
            "actuator",
            "sensor",
        ]
        with pytest.raises(FileExistsError):
            env.save_state(tmp_path / "env")
        log.clear()
        env.load_state(tmp_path / "env")
        assert log == ["sensor.load_state:sensor", "actuator.load_state:actuator"]

    def test_from_dict_builds_the_base_class_from_named_parts(
        self, log: list[str]
    ) -> None:
        class Custom(ModularEnvironment[Any, Any]):
            pass

        sensors = {"camera": RecordingSensor("camera", log, "image")}
        actuators = {"arm": RecordingActuator("arm", log)}
        env = Custom.from_dict(sensors, actuators)
        assert type(env) is ModularEnvironment
        assert isinstance(env.sensor, SensorsDict)
        assert isinstance(env.actuator, ActuatorsDict)
        assert env.observe() == {"camera": "image"}
        env.affect({"arm": "lift"})
        assert actuators["arm"].actions == ["lift"]


class TestSensorsDict:
    def test_is_a_sensor_and_a_user_dict_built_like_one(self, log: list[str]) -> None:
        a, b, c = (RecordingSensor(n, log) for n in "abc")
        sensors = SensorsDict({"a": a}, b=b)
        sensors["c"] = c
        assert isinstance(sensors, Sensor)
        assert isinstance(sensors, UserDict)
        assert list(sensors) == ["a", "b", "c"]

    def test_read_returns_a_new_plain_dict_in_key_order(self, log: list[str]) -> None:
        sensors = SensorsDict(
            b=RecordingSensor("b", log, 2), a=RecordingSensor("a", log, 1)
        )
        first, second = sensors.read(), sensors.read()
        assert type(first) is dict
        assert list(first.items()) == [("b", 2), ("a", 1)]
        assert first is not second
        assert log == ["b.read", "a.read"] * 2

    @pytest.mark.parametrize("hook", HOOKS)
    def test_hooks_reach_every_sensor_in_key_order(
        self, log: list[str], hook: str
    ) -> None:
        sensors = SensorsDict(b=RecordingSensor("b", log), a=RecordingSensor("a", log))
        getattr(sensors, hook)()
        assert log == [f"b.{hook}", f"a.{hook}"]

    def test_state_layout(self, log: list[str], tmp_path: Path) -> None:
        sensors = SensorsDict(b=RecordingSensor("b", log), a=RecordingSensor("a", log))
        sensors.save_state(tmp_path / "sensors")
        assert sorted(p.name for p in (tmp_path / "sensors").iterdir()) == ["a", "b"]
        log.clear()
        sensors.load_state(tmp_path / "sensors")
        assert log == ["b.load_state:b", "a.load_state:a"]

    def test_save_creates_the_directory_even_when_empty(self, tmp_path: Path) -> None:
        SensorsDict().save_state(tmp_path / "sensors")
        assert (tmp_path / "sensors").is_dir()
        with pytest.raises(FileExistsError):
            SensorsDict().save_state(tmp_path / "sensors")


class TestActuatorsDict:
    @pytest.fixture
    def parts(self, log: list[str]) -> dict[str, RecordingActuator]:
        return {"b": RecordingActuator("b", log), "a": RecordingActuator("a", log)}

    @pytest.fixture
    def actuators(self, parts: dict[str, RecordingActuator]) -> ActuatorsDict:
        return ActuatorsDict(parts)

    def test_is_an_actuator_and_a_user_dict(self, actuators: ActuatorsDict) -> None:
        assert isinstance(actuators, Actuator)
        assert isinstance(actuators, UserDict)

    def test_operates_each_actuator_with_its_own_action_in_key_order(
        self,
        actuators: ActuatorsDict,
        parts: dict[str, RecordingActuator],
        log: list[str],
    ) -> None:
        actuators.operate({"a": 1, "b": 2, "unknown": 3})
        assert log == ["b.operate", "a.operate"]
        assert (parts["a"].actions, parts["b"].actions) == ([1], [2])

    def test_a_missing_action_fails_after_earlier_actuators_ran(
        self, actuators: ActuatorsDict, log: list[str]
    ) -> None:
        with pytest.raises(KeyError, match="a"):
            actuators.operate({"b": 2})
        assert log == ["b.operate"]

    @pytest.mark.parametrize("hook", HOOKS)
    def test_hooks_reach_every_actuator_in_key_order(
        self, actuators: ActuatorsDict, log: list[str], hook: str
    ) -> None:
        getattr(actuators, hook)()
        assert log == [f"b.{hook}", f"a.{hook}"]

    def test_state_layout(
        self, actuators: ActuatorsDict, log: list[str], tmp_path: Path
    ) -> None:
        actuators.save_state(tmp_path / "actuators")
        assert sorted(p.name for p in (tmp_path / "actuators").iterdir()) == ["a", "b"]
        log.clear()
        actuators.load_state(tmp_path / "actuators")
        assert log == ["b.load_state:b", "a.load_state:a"]

    def test_save_creates_the_directory_even_when_empty(self, tmp_path: Path) -> None:
        ActuatorsDict().save_state(tmp_path / "actuators")
        assert (tmp_path / "actuators").is_dir()
