"""A subclass whose ``__init__`` skips ``super().__init__()`` is told so, by name.

It used to fail with ``AttributeError: 'BanditAgent' object has no attribute
'_agents'``. The error is now a :class:`MissingSuperInitError` (still an
``AttributeError``) that names the class, the base whose ``__init__`` never ran,
and what to add; it is raised where the object is first used.
"""

import re
from pathlib import Path
from typing import Any

import pytest

from pamiq_core import Interaction
from pamiq_core.data.impls import SequentialBuffer
from pamiq_core.interaction import (
    ActuatorWrapper,
    Environment,
    EnvironmentWrapper,
    LambdaWrapper,
    ModularEnvironment,
    SensorsDict,
    SensorWrapper,
    SleepIntervalAdjustor,
)
from pamiq_core.utils.init_check import MissingSuperInitError, check_initialised

from .parts import (
    BanditAgent,
    Dial,
    Lamp,
    RewardTrainer,
    Slots,
    ValueTable,
    pulls_buffer,
    run,
)

SKIPPED = re.compile(r"does not call super\(\)\.__init__\(\)")


def says_skipped(
    error: pytest.ExceptionInfo[BaseException], cls: str, base: str
) -> None:
    message = str(error.value)
    assert SKIPPED.search(message), message
    assert f"{cls}.__init__" in message, message
    assert f"{base}.__init__ never ran" in message, message
    assert f"Add super().__init__(...) at the start of {cls}.__init__" in message


class ForgetfulTrainer(RewardTrainer):
    def __init__(self) -> None:  # pyright: ignore[reportMissingSuperCall]
        self.runs = 0


class ForgetfulAgent(BanditAgent):
    def __init__(self) -> None:  # pyright: ignore[reportMissingSuperCall]
        self.greedy = True


class ForgetfulModel(ValueTable):
    def __init__(self) -> None:  # pyright: ignore[reportMissingSuperCall]
        self.values = [0.0, 0.0, 0.0]


class ForgetfulBuffer(SequentialBuffer[Any]):
    def __init__(self) -> None:  # pyright: ignore[reportMissingSuperCall]
        self.items: list[Any] = []


class ForgetfulInteraction(Interaction[int, int]):
    def __init__(self, agent: BanditAgent, environment: Slots) -> None:  # pyright: ignore[reportMissingSuperCall]
        self.steps = 0


class ForgetfulEnvironment(ModularEnvironment[float, bool]):
    def __init__(self) -> None:  # pyright: ignore[reportMissingSuperCall]
        self.name = "greenhouse"


class TestThroughLaunch:
    """Where a newcomer meets it: ``launch`` stops with the error, before running."""

    def test_a_trainer(self, tmp_path: Path) -> None:
        with pytest.raises(MissingSuperInitError) as raised:
            run(tmp_path, trainers={"reward": ForgetfulTrainer()})
        says_skipped(raised, "ForgetfulTrainer", "Trainer")

    def test_an_agent(self, tmp_path: Path) -> None:
        with pytest.raises(MissingSuperInitError) as raised:
            run(tmp_path, agent=ForgetfulAgent())
        says_skipped(raised, "ForgetfulAgent", "Agent")

    def test_a_training_model(self, tmp_path: Path) -> None:
        with pytest.raises(MissingSuperInitError) as raised:
            run(tmp_path, models={"values": ForgetfulModel()})
        says_skipped(raised, "ForgetfulModel", "TrainingModel")

    def test_a_buffer(self, tmp_path: Path) -> None:
        with pytest.raises(MissingSuperInitError) as raised:
            run(tmp_path, buffers={"pulls": ForgetfulBuffer()})
        says_skipped(raised, "ForgetfulBuffer", "DataBuffer")

    def test_an_interaction(self, tmp_path: Path) -> None:
        interaction = ForgetfulInteraction(BanditAgent(), Slots())
        with pytest.raises(MissingSuperInitError) as raised:
            run(tmp_path, interaction=interaction)
        says_skipped(raised, "ForgetfulInteraction", "Interaction")

    def test_a_modular_environment(self, tmp_path: Path) -> None:
        with pytest.raises(MissingSuperInitError) as raised:
            run(tmp_path, environment=ForgetfulEnvironment())
        says_skipped(raised, "ForgetfulEnvironment", "ModularEnvironment")


class TestOnFirstUse:
    """Parts used outside ``launch`` fail on first use, with the same message."""

    def test_a_lambda_wrapper(self) -> None:
        class Doubling(LambdaWrapper[int, int]):
            def __init__(self) -> None:  # pyright: ignore[reportMissingSuperCall]
                self.factor = 2

        with pytest.raises(MissingSuperInitError) as raised:
            Doubling()(3)
        says_skipped(raised, "Doubling", "LambdaWrapper")

    @pytest.mark.parametrize(
        ("base", "use"),
        [
            (SensorWrapper, lambda w: w.read()),
            (ActuatorWrapper, lambda w: w.operate(1)),
            (EnvironmentWrapper, lambda w: w.observe()),
        ],
        ids=["SensorWrapper", "ActuatorWrapper", "EnvironmentWrapper"],
    )
    def test_wrappers_of_parts(self, base: type, use: Any) -> None:
        forgetful = type("Forgetful", (base,), {"__init__": lambda self: None})
        with pytest.raises(MissingSuperInitError) as raised:
            use(forgetful())
        says_skipped(raised, "Forgetful", base.__name__)

    def test_a_sensors_dict(self) -> None:
        class Readings(SensorsDict):
            def __init__(self) -> None:  # pyright: ignore[reportMissingSuperCall]
                pass

        with pytest.raises(MissingSuperInitError) as raised:
            Readings().read()
        says_skipped(raised, "Readings", "SensorsDict")

    def test_an_interval_adjustor(self) -> None:
        class Steady(SleepIntervalAdjustor):
            def __init__(self) -> None:  # pyright: ignore[reportMissingSuperCall]
                self.ticks = 0

        with pytest.raises(MissingSuperInitError) as raised:
            Steady().adjust()
        says_skipped(raised, "Steady", "IntervalAdjustor")

    def test_in_a_chain_of_subclasses_the_init_without_super_is_named(self) -> None:
        class Base(RewardTrainer):
            def __init__(self) -> None:  # pyright: ignore[reportMissingSuperCall]
                self.runs = 0

        class Derived(Base):
            def __init__(self) -> None:
                super().__init__()

        with pytest.raises(MissingSuperInitError) as raised:
            check_initialised(Derived())
        assert str(raised.value).startswith(
            "Base.__init__ does not call super().__init__()"
        )
        assert "at the start of Base.__init__" in str(raised.value)

    def test_when_every_init_mentions_super_each_is_a_suspect(self) -> None:
        class Base(RewardTrainer):
            def __init__(self, ready: bool = False) -> None:  # pyright: ignore[reportMissingSuperCall]
                if ready:
                    super().__init__()

        class Derived(Base):
            def __init__(self) -> None:
                super().__init__()

        with pytest.raises(MissingSuperInitError) as raised:
            check_initialised(Derived())
        assert str(raised.value).startswith(
            "Derived.__init__ or Base.__init__ or RewardTrainer.__init__ does not "
            "call super().__init__()"
        )

    def test_an_object_made_without_init_is_told_to_call_the_class(self) -> None:
        agent = BanditAgent.__new__(BanditAgent)
        with pytest.raises(
            MissingSuperInitError,
            match=r"created without running "
            r"Agent\.__init__.*calling BanditAgent\(\.\.\.\)",
        ):
            agent.setup()

    def test_private_attribute_names_stay_out_of_the_message(self) -> None:
        with pytest.raises(MissingSuperInitError) as raised:
            ForgetfulAgent().setup()
        assert "_agents" not in str(raised.value)


class TestHarmlessOmissionsStayAllowed:
    """Bases with nothing to set up work without ``super().__init__()`` (as in 0.6)."""

    def test_environment_sensor_and_actuator(self) -> None:
        class Plain(Environment[int, int]):
            def __init__(self) -> None:  # pyright: ignore[reportMissingSuperCall]
                self.x = 1

            def observe(self) -> int:
                return self.x

            def affect(self, action: int) -> None:
                self.x = action

        env = Plain()
        env.setup()
        env.affect(4)
        assert env.observe() == 4
        assert Dial().read() == 0.5
        Lamp().operate(True)

    def test_a_subclass_that_sets_the_parts_itself(self) -> None:
        class SelfMade(ModularEnvironment[float, bool]):
            def __init__(self) -> None:  # pyright: ignore[reportMissingSuperCall]
                self.sensor = Dial()
                self.actuator = Lamp()

        assert SelfMade().observe() == 0.5


class TestOrdinaryAttributeErrorsAreUnchanged:
    def test_a_typo_on_a_set_up_object_is_the_usual_error(self) -> None:
        agent = BanditAgent()
        with pytest.raises(AttributeError) as raised:
            agent.valeus  # noqa: B018  # pyright: ignore[reportAttributeAccessIssue]
        assert not isinstance(raised.value, MissingSuperInitError)
        assert str(raised.value) == "'BanditAgent' object has no attribute 'valeus'"
        assert raised.value.name == "valeus"
        assert raised.value.obj is agent

    def test_hasattr_and_getattr_defaults_still_work(self) -> None:
        assert not hasattr(ForgetfulAgent(), "_agents")
        assert getattr(ForgetfulTrainer(), "_training_models", "none") == "none"
        assert hasattr(BanditAgent(), "_agents")

    def test_a_property_keeps_its_own_attribute_error(self) -> None:
        class Lazy(ValueTable):
            @property
            def best(self) -> int:
                raise AttributeError("no value learned yet")

        with pytest.raises(AttributeError, match="no value learned yet"):
            Lazy().best  # noqa: B018

    def test_protocol_probes_are_not_blamed_on_init(self) -> None:
        with pytest.raises(AttributeError) as raised:
            ForgetfulModel().__array_interface__  # noqa: B018  # pyright: ignore[reportAttributeAccessIssue]
        assert not isinstance(raised.value, MissingSuperInitError)

    def test_a_correct_system_runs(self, tmp_path: Path) -> None:
        trainer = RewardTrainer()
        run(tmp_path, trainers={"reward": trainer}, buffers={"pulls": pulls_buffer()})
        assert trainer.runs > 0
