from pathlib import Path
from typing import Any, get_origin

import pytest

from pamiq_core.interaction import (
    FixedIntervalInteraction,
    Interaction,
    IntervalAdjustor,
    SleepIntervalAdjustor,
)

from .recorders import HOOKS, RecordingAgent, RecordingEnvironment


class RecordingAdjustor(IntervalAdjustor):
    def __init__(self, log: list[str]) -> None:
        super().__init__(0.0)
        self.log = log

    def reset(self) -> float:
        self.log.append("adjustor.reset")
        return super().reset()

    def adjust_impl(self) -> None:
        self.log.append("adjustor.adjust")


@pytest.fixture
def log() -> list[str]:
    return []


@pytest.fixture
def agent(log: list[str]) -> RecordingAgent:
    return RecordingAgent("agent", log)


@pytest.fixture
def env(log: list[str]) -> RecordingEnvironment:
    return RecordingEnvironment("env", log, observation="obs")


@pytest.fixture
def interaction(
    agent: RecordingAgent, env: RecordingEnvironment
) -> Interaction[Any, Any]:
    return Interaction(agent, env)


class TestInteraction:
    def test_is_subscriptable_at_run_time(self) -> None:
        assert get_origin(Interaction[int, str]) is Interaction

    def test_keeps_its_parts_as_public_attributes(
        self,
        interaction: Interaction[Any, Any],
        agent: RecordingAgent,
        env: RecordingEnvironment,
    ) -> None:
        assert interaction.agent is agent
        assert interaction.environment is env

    def test_step_observes_decides_then_acts(
        self,
        interaction: Interaction[Any, Any],
        env: RecordingEnvironment,
        log: list[str],
    ) -> None:
        interaction.step()
        assert log == ["env.observe", "agent.step", "env.affect"]
        assert env.actions == [("agent", "obs")]

    @pytest.mark.parametrize("hook", HOOKS)
    def test_hooks_reach_the_agent_then_the_environment(
        self, interaction: Interaction[Any, Any], log: list[str], hook: str
    ) -> None:
        getattr(interaction, hook)()
        assert log == [f"agent.{hook}", f"env.{hook}"]

    def test_save_creates_a_directory_for_both_parts(
        self, interaction: Interaction[Any, Any], tmp_path: Path, log: list[str]
    ) -> None:
        interaction.save_state(tmp_path / "interaction")
        assert sorted(p.name for p in (tmp_path / "interaction").iterdir()) == [
            "environment"  # the childless agent writes nothing
        ]
        assert log == ["agent.save_state", "env.save_state"]

    def test_save_refuses_an_existing_directory(
        self, interaction: Interaction[Any, Any], tmp_path: Path
    ) -> None:
        with pytest.raises(FileExistsError):
            interaction.save_state(tmp_path)

    def test_save_needs_the_parent_directory(
        self, interaction: Interaction[Any, Any], tmp_path: Path
    ) -> None:
        with pytest.raises(FileNotFoundError):
            interaction.save_state(tmp_path / "missing" / "interaction")

    def test_load_reads_what_save_wrote(
        self, interaction: Interaction[Any, Any], tmp_path: Path, log: list[str]
    ) -> None:
        interaction.save_state(tmp_path / "interaction")
        log.clear()
        interaction.load_state(tmp_path / "interaction")
        assert log == ["agent.load_state", "env.load_state:env"]


class TestFixedIntervalInteraction:
    @pytest.fixture
    def paced(
        self, agent: RecordingAgent, env: RecordingEnvironment, log: list[str]
    ) -> FixedIntervalInteraction[Any, Any]:
        return FixedIntervalInteraction(agent, env, RecordingAdjustor(log))

    def test_is_an_interaction(self) -> None:
        assert issubclass(FixedIntervalInteraction, Interaction)
        assert (
            get_origin(FixedIntervalInteraction[int, str]) is FixedIntervalInteraction
        )

    def test_setup_starts_the_first_period_after_the_parts_are_set_up(
        self, paced: FixedIntervalInteraction[Any, Any], log: list[str]
    ) -> None:
        paced.setup()
        assert log == ["agent.setup", "env.setup", "adjustor.reset"]

    def test_step_waits_for_the_period_after_acting(
        self, paced: FixedIntervalInteraction[Any, Any], log: list[str]
    ) -> None:
        paced.step()
        assert log == [
            "env.observe",
            "agent.step",
            "env.affect",
            "adjustor.adjust",
            "adjustor.reset",  # adjust() starts the next period
        ]

    @pytest.mark.parametrize("hook", ["teardown", "on_paused", "on_resumed"])
    def test_other_hooks_are_the_interactions(
        self, paced: FixedIntervalInteraction[Any, Any], log: list[str], hook: str
    ) -> None:
        getattr(paced, hook)()
        assert log == [f"agent.{hook}", f"env.{hook}"]

    def test_with_sleep_adjustor(
        self, agent: RecordingAgent, env: RecordingEnvironment
    ) -> None:
        class Paced(FixedIntervalInteraction[Any, Any]):
            pass

        paced = Paced.with_sleep_adjustor(agent, env, 0.1, offset=0.02)
        assert type(paced) is Paced
        assert paced.agent is agent
        assert paced.environment is env
        adjustor = paced._adjustor
        assert isinstance(adjustor, SleepIntervalAdjustor)
        assert (adjustor._interval, adjustor._offset) == (0.1, 0.02)

    def test_offset_defaults_to_zero(
        self, agent: RecordingAgent, env: RecordingEnvironment
    ) -> None:
        paced = FixedIntervalInteraction.with_sleep_adjustor(agent, env, 0.1)
        assert paced._adjustor._offset == 0.0
