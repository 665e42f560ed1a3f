from pathlib import Path
from typing import Any, get_origin

import pytest

from pamiq_core.interaction import (
    ActuatorWrapper,
    Environment,
    EnvironmentWrapper,
    LambdaWrapper,
    Sensor,
    SensorWrapper,
    Wrapper,
)

from .recorders import (
    HOOKS,
    RecordingActuator,
    RecordingEnvironment,
    RecordingSensor,
    RecordingWrapper,
)


@pytest.fixture
def log() -> list[str]:
    return []


class Double(Wrapper[int, int]):
    def wrap(self, value: int) -> int:
        return 2 * value


class TestWrapper:
    def test_wrap_is_abstract(self) -> None:
        assert "wrap" in Wrapper.__abstractmethods__

    def test_is_subscriptable_at_run_time(self) -> None:
        assert get_origin(Wrapper[int, str]) is Wrapper
        assert get_origin(LambdaWrapper[int, str]) is LambdaWrapper

    def test_calling_wraps(self) -> None:
        assert Double()(3) == 6

    def test_wrap_sensor_transforms_readings(self, log: list[str]) -> None:
        wrapper = Double()
        sensor = wrapper.wrap_sensor(RecordingSensor("s", log, 5))
        assert isinstance(sensor, SensorWrapper)
        assert sensor._wrapper is wrapper
        assert sensor.read() == 10

    def test_wrap_actuator_applies_the_same_forward_transform(
        self, log: list[str]
    ) -> None:
        wrapper = Double()
        inner = RecordingActuator("a", log)
        actuator = wrapper.wrap_actuator(inner)
        assert isinstance(actuator, ActuatorWrapper)
        assert actuator.actuator is inner
        actuator.operate(5)
        assert inner.actions == [10]  # wrap(5), not an inverse


class TestLambdaWrapper:
    def test_wraps_with_the_function(self) -> None:
        assert LambdaWrapper(str.upper)("abc") == "ABC"

    def test_is_stateless(self, tmp_path: Path) -> None:
        LambdaWrapper(str).save_state(tmp_path / "wrapper")
        assert not (tmp_path / "wrapper").exists()


class TestCoercion:
    """A Wrapper is used as is; any other callable becomes a LambdaWrapper."""

    def test_environment_wrapper(self, log: list[str]) -> None:
        obs_wrapper = Double()
        env = EnvironmentWrapper(RecordingEnvironment("e", log), obs_wrapper, str)
        assert env._obs_wrapper is obs_wrapper
        assert isinstance(env._act_wrapper, LambdaWrapper)

    def test_sensor_wrapper(self, log: list[str]) -> None:
        assert isinstance(
            SensorWrapper(RecordingSensor("s", log), str)._wrapper, LambdaWrapper
        )

    def test_actuator_wrapper(self, log: list[str]) -> None:
        wrapper = Double()
        assert ActuatorWrapper(RecordingActuator("a", log), wrapper)._wrapper is wrapper
        assert isinstance(
            ActuatorWrapper(RecordingActuator("a", log), str)._wrapper, LambdaWrapper
        )


class TestEnvironmentWrapper:
    @pytest.fixture
    def inner(self, log: list[str]) -> RecordingEnvironment:
        return RecordingEnvironment("env", log, observation=3)

    @pytest.fixture
    def env(
        self, inner: RecordingEnvironment, log: list[str]
    ) -> EnvironmentWrapper[Any, Any, Any, Any]:
        return EnvironmentWrapper(
            inner, RecordingWrapper("obs", log), RecordingWrapper("act", log)
        )

    def test_is_an_environment_keeping_the_wrapped_one_public(
        self, env: EnvironmentWrapper[Any, Any, Any, Any], inner: RecordingEnvironment
    ) -> None:
        assert isinstance(env, Environment)
        assert env.env is inner
        assert get_origin(EnvironmentWrapper[int, str, float, bytes]) is (
            EnvironmentWrapper
        )

    def test_transforms_observations_and_actions(
        self, env: EnvironmentWrapper[Any, Any, Any, Any], inner: RecordingEnvironment
    ) -> None:
        assert env.observe() == ("obs", 3)
        env.affect("go")
        assert inner.actions == [("act", "go")]

    @pytest.mark.parametrize("hook", HOOKS)
    def test_hooks_reach_the_environment_then_both_wrappers(
        self, env: EnvironmentWrapper[Any, Any, Any, Any], log: list[str], hook: str
    ) -> None:
        getattr(env, hook)()
        assert log == [f"env.{hook}", f"obs.{hook}", f"act.{hook}"]

    def test_state_layout(
        self,
        env: EnvironmentWrapper[Any, Any, Any, Any],
        log: list[str],
        tmp_path: Path,
    ) -> None:
        env.save_state(tmp_path / "wrapped")
        assert sorted(p.name for p in (tmp_path / "wrapped").iterdir()) == [
            "act_wrapper",
            "env",
            "obs_wrapper",
        ]
        with pytest.raises(FileExistsError):
            env.save_state(tmp_path / "wrapped")
        log.clear()
        env.load_state(tmp_path / "wrapped")
        assert log == ["env.load_state:env", "obs.load_state:obs", "act.load_state:act"]


class TestSensorWrapper:
    @pytest.fixture
    def sensor(self, log: list[str]) -> SensorWrapper[Any, Any]:
        return SensorWrapper(
            RecordingSensor("sensor", log, 4), RecordingWrapper("w", log)
        )

    def test_is_a_sensor_that_transforms_readings(
        self, sensor: SensorWrapper[Any, Any]
    ) -> None:
        assert isinstance(sensor, Sensor)
        assert isinstance(sensor.sensor, RecordingSensor)
        assert sensor.read() == ("w", 4)

    @pytest.mark.parametrize("hook", HOOKS)
    def test_hooks_reach_the_sensor_then_the_wrapper(
        self, sensor: SensorWrapper[Any, Any], log: list[str], hook: str
    ) -> None:
        getattr(sensor, hook)()
        assert log == [f"sensor.{hook}", f"w.{hook}"]

    def test_state_layout(
        self, sensor: SensorWrapper[Any, Any], log: list[str], tmp_path: Path
    ) -> None:
        sensor.save_state(tmp_path / "s")
        assert sorted(p.name for p in (tmp_path / "s").iterdir()) == [
            "sensor",
            "wrapper",
        ]
        log.clear()
        sensor.load_state(tmp_path / "s")
        assert log == ["sensor.load_state:sensor", "w.load_state:w"]


class TestActuatorWrapper:
    @pytest.fixture
    def inner(self, log: list[str]) -> RecordingActuator:
        return RecordingActuator("actuator", log)

    @pytest.fixture
    def actuator(
        self, inner: RecordingActuator, log: list[str]
    ) -> ActuatorWrapper[Any, Any]:
        return ActuatorWrapper(inner, RecordingWrapper("w", log))

    def test_transforms_actions_before_operating(
        self, actuator: ActuatorWrapper[Any, Any], inner: RecordingActuator
    ) -> None:
        assert actuator.actuator is inner
        actuator.operate(1)
        assert inner.actions == [("w", 1)]

    @pytest.mark.parametrize("hook", HOOKS)
    def test_hooks_reach_the_actuator_then_the_wrapper(
        self, actuator: ActuatorWrapper[Any, Any], log: list[str], hook: str
    ) -> None:
        getattr(actuator, hook)()
        assert log == [f"actuator.{hook}", f"w.{hook}"]

    def test_state_layout(
        self, actuator: ActuatorWrapper[Any, Any], log: list[str], tmp_path: Path
    ) -> None:
        actuator.save_state(tmp_path / "a")
        assert sorted(p.name for p in (tmp_path / "a").iterdir()) == [
            "actuator",
            "wrapper",
        ]
        log.clear()
        actuator.load_state(tmp_path / "a")
        assert log == ["actuator.load_state:actuator", "w.load_state:w"]
