"""Parts put together wrongly are refused where they are put together.

Only what is certainly wrong is refused (a class instead of an object, an
environment where the agent goes, a number where an adjustor goes, ...); duck-typed
parts and plain mocks are still accepted, as in 0.6.
"""

import math
from typing import Any
from unittest.mock import Mock

import pytest

from pamiq_core import FixedIntervalInteraction, Interaction
from pamiq_core.interaction import (
    ActuatorsDict,
    ActuatorWrapper,
    EnvironmentWrapper,
    LambdaWrapper,
    ModularEnvironment,
    SensorsDict,
    SensorWrapper,
    SleepIntervalAdjustor,
)

from .parts import BanditAgent, Dial, Lamp, Slots, ValueTable


class TestInteraction:
    def test_agent_and_environment_swapped(self) -> None:
        with pytest.raises(TypeError) as raised:
            Interaction(Slots(), BanditAgent())  # pyright: ignore[reportArgumentType]
        assert str(raised.value) == (
            "Interaction(agent=...) must be an Agent; got a Slots (an Environment). "
            "The order is Interaction(agent, environment)."
        )

    def test_a_class_instead_of_an_agent(self) -> None:
        with pytest.raises(
            TypeError,
            match=r"got the class BanditAgent \(a class, "
            r"not an object of it\)\. Create one: BanditAgent\(\.\.\.\)",
        ):
            Interaction(BanditAgent, Slots())  # pyright: ignore[reportArgumentType]

    def test_none_as_the_environment(self) -> None:
        with pytest.raises(
            TypeError,
            match=r"Interaction\(environment=\.\.\.\) must "
            r"be an Environment; got None",
        ):
            Interaction(BanditAgent(), None)  # pyright: ignore[reportArgumentType]

    def test_a_model_as_the_environment(self) -> None:
        with pytest.raises(TypeError, match=r"got a ValueTable \(a TrainingModel\)"):
            Interaction(BanditAgent(), ValueTable())  # pyright: ignore[reportArgumentType]

    def test_an_object_without_the_methods_an_environment_needs(self) -> None:
        class Half:
            def observe(self) -> int:
                return 0

        with pytest.raises(
            TypeError,
            match=r"must be an Environment; got a Half\. "
            r"It has no affect\(\)\.",
        ):
            Interaction(BanditAgent(), Half())  # pyright: ignore[reportArgumentType]

    def test_duck_typed_parts_and_mocks_are_accepted(self) -> None:
        class Duck:
            def observe(self) -> int:
                return 0

            def affect(self, action: int) -> None:
                pass

        Interaction(Mock(), Mock())
        Interaction(BanditAgent(), Duck())  # pyright: ignore[reportArgumentType]


class TestFixedInterval:
    def test_a_number_instead_of_an_adjustor(self) -> None:
        with pytest.raises(TypeError) as raised:
            FixedIntervalInteraction(BanditAgent(), Slots(), 0.1)  # pyright: ignore[reportArgumentType]
        assert str(raised.value) == (
            "FixedIntervalInteraction(adjustor=...) must be an IntervalAdjustor; got "
            "a float. For a period in seconds, use FixedIntervalInteraction."
            "with_sleep_adjustor(agent, environment, interval=...)."
        )

    @pytest.mark.parametrize("interval", [-0.1, math.nan, math.inf])
    def test_an_interval_that_cannot_be_kept(self, interval: float) -> None:
        with pytest.raises(
            ValueError,
            match=r"interval is the period in pamiq "
            r"seconds and must be a finite number >= 0",
        ):
            FixedIntervalInteraction.with_sleep_adjustor(
                BanditAgent(), Slots(), interval
            )

    def test_an_offset_larger_than_the_interval(self) -> None:
        with pytest.raises(
            ValueError,
            match=r"offset \(0\.2\) exceeds interval "
            r"\(0\.1\), which would make every wait negative",
        ):
            SleepIntervalAdjustor(0.1, offset=0.2)

    def test_an_infinite_offset(self) -> None:
        with pytest.raises(ValueError, match="offset must be finite"):
            SleepIntervalAdjustor(0.1, offset=-math.inf)

    def test_a_zero_interval_still_means_no_pacing(self) -> None:
        FixedIntervalInteraction.with_sleep_adjustor(BanditAgent(), Slots(), 0.0)


class TestModularEnvironment:
    def test_sensor_and_actuator_swapped(self) -> None:
        with pytest.raises(
            TypeError,
            match=r"The order is "
            r"ModularEnvironment\(sensor, actuator\)",
        ):
            ModularEnvironment(Lamp(), Dial())  # pyright: ignore[reportArgumentType]

    def test_dicts_of_parts_point_to_from_dict(self) -> None:
        with pytest.raises(
            TypeError,
            match=r"use ModularEnvironment\.from_dict\("
            r"sensors, actuators\)",
        ):
            ModularEnvironment({"dial": Dial()}, {"lamp": Lamp()})  # pyright: ignore[reportArgumentType]

    def test_a_function_among_the_sensors(self) -> None:
        with pytest.raises(
            TypeError,
            match=r"SensorsDict\['clock'\] must be a "
            r"Sensor; got a function",
        ):
            SensorsDict(clock=lambda: 0, dial=Dial())  # pyright: ignore[reportArgumentType]

    def test_a_sensor_among_the_actuators(self) -> None:
        with pytest.raises(
            TypeError,
            match=r"ActuatorsDict\['dial'\] must be an "
            r"Actuator; got a Dial \(a Sensor\)",
        ):
            ActuatorsDict(dial=Dial())  # pyright: ignore[reportArgumentType]


class TestWrappers:
    def test_a_wrapper_that_is_not_callable(self) -> None:
        with pytest.raises(
            TypeError,
            match=r"SensorWrapper\(wrapper=\.\.\.\) must be "
            r"a Wrapper or a function of one value; got an int",
        ):
            SensorWrapper(Dial(), 2)  # pyright: ignore[reportArgumentType]

    def test_a_wrapper_class_instead_of_a_wrapper(self) -> None:
        class Double(LambdaWrapper[int, int]):
            def __init__(self) -> None:
                super().__init__(lambda x: 2 * x)

        with pytest.raises(TypeError, match=r"Create one: Double\(\.\.\.\)"):
            ActuatorWrapper(Lamp(), Double)  # pyright: ignore[reportArgumentType]

    def test_a_plain_type_is_a_fine_function(self) -> None:
        assert SensorWrapper(Dial(), str).read() == "0.5"

    def test_lambda_wrapper_of_a_value(self) -> None:
        with pytest.raises(TypeError, match=r"LambdaWrapper\(func=\.\.\.\)"):
            LambdaWrapper(0.5)  # pyright: ignore[reportArgumentType]

    def test_an_environment_wrapper_of_an_agent(self) -> None:
        with pytest.raises(
            TypeError,
            match=r"EnvironmentWrapper\(env=\.\.\.\) must "
            r"be an Environment; got a BanditAgent \(an Agent\)",
        ):
            EnvironmentWrapper(BanditAgent(), str, str)  # pyright: ignore[reportArgumentType]


class TestAgentTree:
    def test_the_same_child_twice(self) -> None:
        child = BanditAgent()
        with pytest.raises(
            ValueError,
            match=r"holds the same BanditAgent object as "
            r"'left' and 'right'; each child needs its own object",
        ):
            BanditAgent({"left": child, "right": child})

    def test_an_environment_as_a_child(self) -> None:
        with pytest.raises(
            TypeError,
            match=r"BanditAgent\(agents=\.\.\.\)\['env'\] "
            r"must be an Agent; got a Slots \(an Environment\)",
        ):
            BanditAgent({"env": Slots()})  # pyright: ignore[reportArgumentType]

    def test_a_child_name_that_is_not_a_string(self) -> None:
        with pytest.raises(TypeError, match="child agent names must be strings"):
            BanditAgent({1: BanditAgent()})  # pyright: ignore[reportArgumentType]


def test_create_inference_model_without_return() -> None:
    class NoReturn(ValueTable):
        def _create_inference_model(self) -> Any:
            self.created = True

    with pytest.raises(
        TypeError,
        match=r"NoReturn\._create_inference_model\(\) "
        r"returned None.*Is a return statement missing\?",
    ):
        NoReturn().inference_model  # noqa: B018
