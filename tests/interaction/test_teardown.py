"""Teardown reaches every part, even when one of them raises."""

from typing import Any

import pytest

from pamiq_core import Agent, Environment, Interaction


class Part:
    def __init__(self, name: str, torn: list[str], fail: bool) -> None:
        self.name, self.torn, self.fail = name, torn, fail

    def tear(self) -> None:
        self.torn.append(self.name)
        if self.fail:
            raise RuntimeError(f"{self.name} failed")


class FailingAgent(Agent[Any, Any]):
    def __init__(
        self, part: Part, agents: dict[str, Agent[Any, Any]] | None = None
    ) -> None:
        super().__init__(agents)
        self.part = part

    def step(self, observation: Any) -> Any:
        return observation

    def teardown(self) -> None:
        try:
            self.part.tear()
        finally:
            super().teardown()


class FailingEnvironment(Environment[Any, Any]):
    def __init__(self, part: Part) -> None:
        self.part = part

    def observe(self) -> Any:
        return None

    def affect(self, action: Any) -> None:
        pass

    def teardown(self) -> None:
        self.part.tear()


def test_a_failing_agent_does_not_keep_the_environment_from_tearing_down() -> None:
    torn: list[str] = []
    interaction = Interaction(
        FailingAgent(Part("agent", torn, fail=True)),
        FailingEnvironment(Part("environment", torn, fail=True)),
    )
    with pytest.raises(RuntimeError, match="agent failed") as info:
        interaction.teardown()
    assert torn == ["agent", "environment"]  # the spec's order, every part
    assert isinstance(info.value, ExceptionGroup)
    assert [str(e) for e in info.value.exceptions] == [
        "agent failed",
        "environment failed",
    ]


def test_a_failing_child_does_not_keep_its_siblings_from_tearing_down() -> None:
    torn: list[str] = []
    parent = FailingAgent(
        Part("parent", torn, fail=False),
        agents={
            "a": FailingAgent(Part("a", torn, fail=True)),
            "b": FailingAgent(Part("b", torn, fail=False)),
        },
    )
    with pytest.raises(RuntimeError, match="a failed") as info:
        parent.teardown()
    assert torn == ["parent", "a", "b"]
    assert not isinstance(info.value, ExceptionGroup)  # one failure: itself
