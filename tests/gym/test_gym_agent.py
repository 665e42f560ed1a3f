"""GymAgent: dispatching observations to on_reset / on_step."""

from typing import Any, get_origin

import numpy as np
import pytest

from pamiq_core.gym import GymAgent
from pamiq_core.gym.types import EnvReset, EnvStep, GymAction
from pamiq_core.interaction import Agent


class Recorder(GymAgent[Any, str]):
    """Records each hook call; can ask for a reset from a given hook."""

    def __init__(
        self,
        reset_from: str | None = None,
        agents: dict[str, Agent[Any, Any]] | None = None,
    ) -> None:
        super().__init__(agents)
        self.reset_from = reset_from
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def on_reset(self, obs: Any, info: dict[str, Any]) -> str:
        self.calls.append(("on_reset", {"obs": obs, "info": info}))
        self.need_reset = self.reset_from == "on_reset"
        return f"reset:{obs}"

    def on_step(
        self,
        obs: Any,
        reward: float,
        terminated: bool,
        truncated: bool,
        info: dict[str, Any],
    ) -> str:
        self.calls.append(
            (
                "on_step",
                {
                    "obs": obs,
                    "reward": reward,
                    "terminated": terminated,
                    "truncated": truncated,
                    "info": info,
                },
            )
        )
        if self.reset_from == "on_step":
            self.need_reset = True
        return f"step:{obs}"


class SetupRecorder(Agent[Any, Any]):
    def __init__(self) -> None:
        super().__init__()
        self.setups = 0

    def setup(self) -> None:
        super().setup()
        self.setups += 1

    def step(self, observation: Any) -> Any:
        return observation


def step_of(obs: Any, *, terminated: bool = False, info: Any = None) -> EnvStep[Any]:
    return EnvStep(obs, 1.0, terminated, False, info or {})


class TestDefinition:
    def test_the_two_hooks_are_abstract(self) -> None:
        assert GymAgent.__abstractmethods__ == {"on_reset", "on_step"}

    def test_is_an_agent_subscriptable_at_run_time(self) -> None:
        assert issubclass(GymAgent, Agent)
        assert get_origin(GymAgent[int, int]) is GymAgent

    def test_need_reset_defaults_to_false(self) -> None:
        assert GymAgent.need_reset is False
        assert Recorder().need_reset is False


class TestStep:
    def test_a_reset_calls_on_reset(self) -> None:
        agent = Recorder()
        action = agent.step(EnvReset(7, {"seed": 1}))
        assert action == GymAction("reset:7", need_reset=False)
        assert agent.calls == [("on_reset", {"obs": 7, "info": {"seed": 1}})]

    def test_a_step_calls_on_step(self) -> None:
        agent = Recorder()
        action = agent.step(EnvStep(3, 0.5, False, True, {"k": "v"}))
        assert action == GymAction("step:3", need_reset=False)
        assert agent.calls == [
            (
                "on_step",
                {
                    "obs": 3,
                    "reward": 0.5,
                    "terminated": False,
                    "truncated": True,
                    "info": {"k": "v"},
                },
            )
        ]

    def test_a_finished_episode_calls_on_step_then_on_reset(self) -> None:
        agent = Recorder()
        action = agent.step((step_of(4, terminated=True), EnvReset(0, {})))
        assert action == GymAction("reset:0", need_reset=False)  # on_step's is dropped
        assert [(name, kwds["obs"]) for name, kwds in agent.calls] == [
            ("on_step", 4),
            ("on_reset", 0),
        ]

    def test_hooks_are_called_with_keyword_arguments(self) -> None:
        class KeywordsOnly(GymAgent[int, int]):
            # Keyword-only parameters in another order: works only with keywords.
            def on_reset(self, *, info: dict[str, Any], obs: int) -> int:  # pyright: ignore[reportIncompatibleMethodOverride]
                return obs

            def on_step(  # pyright: ignore[reportIncompatibleMethodOverride]
                self,
                *,
                info: dict[str, Any],
                truncated: bool,
                terminated: bool,
                reward: float,
                obs: int,
            ) -> int:
                return obs * 10

        agent = KeywordsOnly()
        assert agent.step(EnvReset(1, {})).action == 1
        assert agent.step(step_of(2)).action == 20
        assert agent.step((step_of(3, terminated=True), EnvReset(4, {}))).action == 4

    def test_hooks_receive_deep_copies(self) -> None:
        obs = np.arange(4.0)
        info = {"history": [1, 2]}
        observation = EnvStep(obs, 0.0, False, False, info)
        agent = Recorder()
        agent.step(observation)
        received = agent.calls[0][1]
        assert received["obs"] is not obs
        np.testing.assert_array_equal(received["obs"], obs)
        received["obs"][0] = 99.0
        received["info"]["history"].append(3)
        assert obs[0] == 0.0
        assert info == {"history": [1, 2]}
        assert observation.obs is obs

    def test_reset_copies_too(self) -> None:
        info = {"nested": {"a": 1}}
        agent = Recorder()
        agent.step(EnvReset([1, 2], info))
        received = agent.calls[0][1]
        assert received == {"obs": [1, 2], "info": info}
        assert received["info"]["nested"] is not info["nested"]


class TestNeedReset:
    def test_on_step_can_ask_for_a_reset(self) -> None:
        agent = Recorder(reset_from="on_step")
        assert agent.step(step_of(1)) == GymAction("step:1", need_reset=True)

    def test_on_reset_can_ask_for_a_reset(self) -> None:
        agent = Recorder(reset_from="on_reset")
        assert agent.step(EnvReset(1, {})) == GymAction("reset:1", need_reset=True)

    def test_a_reset_clears_the_request_before_on_reset(self) -> None:
        agent = Recorder(reset_from="on_step")
        agent.step(step_of(1))
        assert agent.need_reset
        agent.reset_from = None
        assert agent.step(EnvReset(0, {})).need_reset is False

    def test_a_finished_episode_clears_the_request_from_its_last_step(self) -> None:
        agent = Recorder(reset_from="on_step")
        action = agent.step((step_of(1, terminated=True), EnvReset(0, {})))
        assert action.need_reset is False

    def test_the_request_persists_over_steps_until_a_reset(self) -> None:
        agent = Recorder()
        agent.need_reset = True
        assert agent.step(step_of(1)).need_reset is True

    def test_setup_clears_the_request_after_setting_up_children(self) -> None:
        child = SetupRecorder()
        agent = Recorder(agents={"child": child})
        agent.need_reset = True
        agent.setup()
        assert agent.need_reset is False
        assert child.setups == 1


class TestUnexpectedObservation:
    @pytest.mark.parametrize(
        ("observation", "shape"),
        [
            (42, "int"),
            (None, "NoneType"),
            ([step_of(1), EnvReset(0, {})], "list"),
            ((EnvReset(0, {}), step_of(1)), "tuple[EnvReset, EnvStep]"),
            ((step_of(1),), "tuple[EnvStep]"),
            (
                (step_of(1), EnvReset(0, {}), EnvReset(0, {})),
                "tuple[EnvStep, EnvReset, EnvReset]",
            ),
            (GymAction(1, need_reset=False), "GymAction"),
        ],
    )
    def test_raises_type_error_naming_what_it_got(
        self, observation: Any, shape: str
    ) -> None:
        agent = Recorder()
        with pytest.raises(TypeError) as raised:
            agent.step(observation)
        message = str(raised.value)
        assert f"got an observation of type {shape};" in message
        assert "EnvReset, EnvStep or tuple[EnvStep, EnvReset]" in message
        assert agent.calls == []
