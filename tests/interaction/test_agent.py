from collections.abc import Callable
from pathlib import Path
from typing import Any, get_origin

import pytest

from pamiq_core.data import DataCollector, DataCollectorsDict
from pamiq_core.interaction import Agent
from pamiq_core.model import InferenceModel, InferenceModelsDict

from .recorders import RecordingAgent


@pytest.fixture
def make_collectors() -> Callable[..., DataCollectorsDict]:
    """Builds a collectors dict of real collectors with the given names."""

    def make(*names: str) -> DataCollectorsDict:
        return DataCollectorsDict({name: DataCollector[Any](4) for name in names})

    return make


@pytest.fixture
def collectors(make_collectors: Callable[..., Any]) -> Any:
    return make_collectors("obs", "reward")


class Echo(InferenceModel):
    def infer(self, *args: Any, **kwds: Any) -> Any:
        return args


class Leaf(Agent[int, int]):
    def step(self, observation: int) -> int:
        return observation


class CollectingAgent(Agent[int, int]):
    """Acquires the collector ``obs`` when collectors are attached."""

    def on_data_collectors_attached(self) -> None:
        self.collector = self.get_data_collector("obs")

    def step(self, observation: int) -> int:
        return observation


class TestConstruction:
    def test_only_step_is_abstract(self) -> None:
        assert Agent.__abstractmethods__ == {"step"}

    def test_is_subscriptable_at_run_time(self) -> None:
        assert get_origin(Agent[int, str]) is Agent

    def test_children_are_copied_into_a_new_dict_in_order(self) -> None:
        children: dict[str, Agent[Any, Any]] = {"b": Leaf(), "a": Leaf()}
        agent = RecordingAgent("root", [], children)
        children["c"] = Leaf()
        assert list(agent._agents) == ["b", "a"]

    def test_no_children_by_default(self) -> None:
        assert Leaf()._agents == {}


class TestInferenceModels:
    def test_lookup_before_attachment_is_an_attribute_error(self) -> None:
        with pytest.raises(AttributeError, match=r"on_inference_models_attached\(\)"):
            Leaf().get_inference_model("policy")

    def test_lookup_finds_attached_models(self) -> None:
        model = Echo()
        agent = Leaf()
        agent.attach_inference_models(InferenceModelsDict(policy=model))
        assert agent.get_inference_model("policy") is model

    def test_missing_model_is_a_key_error(self) -> None:
        agent = Leaf()
        agent.attach_inference_models(InferenceModelsDict())
        with pytest.raises(KeyError):
            agent.get_inference_model("policy")

    def test_hook_runs_before_children_receive_the_same_dict(self) -> None:
        order: list[str] = []
        models = InferenceModelsDict(policy=Echo())

        class Hooked(Leaf):
            def __init__(self, name: str, agents: dict[str, Agent[Any, Any]]) -> None:
                super().__init__(agents)
                self.name = name

            def on_inference_models_attached(self) -> None:
                order.append(self.name)
                assert self._inference_models is models

        child = Hooked("child", {})
        Hooked("root", {"child": child}).attach_inference_models(models)
        assert order == ["root", "child"]
        assert child.get_inference_model("policy") is models["policy"]


class TestDataCollectors:
    def test_lookup_before_attachment_is_an_attribute_error(self) -> None:
        with pytest.raises(AttributeError, match=r"on_data_collectors_attached\(\)"):
            Leaf().get_data_collector("obs")

    def test_acquires_through_the_dict(self, collectors: Any) -> None:
        agent = CollectingAgent()
        agent.attach_data_collectors(collectors)
        assert agent.collector is collectors["obs"]

    def test_missing_collector_is_a_key_error(self, collectors: Any) -> None:
        agent = Leaf()
        agent.attach_data_collectors(collectors)
        with pytest.raises(KeyError, match="not found"):
            agent.get_data_collector("missing")

    def test_hook_runs_before_children_receive_the_same_dict(
        self, collectors: Any
    ) -> None:
        order: list[str] = []

        class Hooked(Leaf):
            def __init__(self, name: str, agents: dict[str, Agent[Any, Any]]) -> None:
                super().__init__(agents)
                self.name = name

            def on_data_collectors_attached(self) -> None:
                order.append(self.name)
                assert self._data_collectors is collectors

        Hooked("root", {"child": Hooked("child", {})}).attach_data_collectors(
            collectors
        )
        assert order == ["root", "child"]

    def test_each_collector_can_be_acquired_once_per_tree(
        self, collectors: Any
    ) -> None:
        class OtherCollectingAgent(CollectingAgent):
            pass

        root = CollectingAgent({"child": OtherCollectingAgent()})
        with pytest.raises(KeyError) as raised:
            root.attach_data_collectors(collectors)
        message = str(raised.value)
        assert "'obs'" in message
        assert "already acquired" in message
        assert f"{__name__}.CollectingAgent" in message  # the holder, not the asker

    def test_reattaching_names_the_agent_that_holds_the_collector(
        self, collectors: Any
    ) -> None:
        agent = CollectingAgent()
        agent.attach_data_collectors(collectors)
        with pytest.raises(
            KeyError, match=r"already acquired\. It is held by agent .*CollectingAgent"
        ):
            agent.attach_data_collectors(collectors)

    def test_a_fresh_dict_can_be_acquired_from_again(
        self, collectors: Any, make_collectors: Callable[..., Any]
    ) -> None:
        CollectingAgent().attach_data_collectors(collectors)
        other = make_collectors("obs")
        agent = CollectingAgent()
        agent.attach_data_collectors(other)
        assert agent.collector is other["obs"]

    def test_acquired_elsewhere_keeps_the_dicts_own_error(
        self, collectors: Any
    ) -> None:
        collectors.acquire("obs")
        with pytest.raises(KeyError, match="is already acquired"):
            CollectingAgent().attach_data_collectors(collectors)


class TestHookPropagation:
    @pytest.mark.parametrize("hook", ["setup", "teardown", "on_paused", "on_resumed"])
    def test_own_hook_then_children_in_order_at_every_depth(self, hook: str) -> None:
        log: list[str] = []
        grandchild = RecordingAgent("grandchild", log)
        child = RecordingAgent("child", log, {"g": grandchild})
        sibling = RecordingAgent("sibling", log)
        root = RecordingAgent("root", log, {"child": child, "sibling": sibling})
        getattr(root, hook)()
        assert log == [
            f"root.{hook}",
            f"child.{hook}",
            f"grandchild.{hook}",
            f"sibling.{hook}",
        ]


class TestState:
    def test_childless_agent_writes_nothing(self, tmp_path: Path) -> None:
        Leaf().save_state(tmp_path / "agent")
        assert not (tmp_path / "agent").exists()

    def test_children_save_into_one_entry_each(self, tmp_path: Path) -> None:
        log: list[str] = []

        class Writing(RecordingAgent):
            def save_state(self, path: Path) -> None:
                super().save_state(path)
                path.write_text(self.name)

        root = RecordingAgent(
            "root", log, {"a": Writing("a", log), "b": RecordingAgent("b", log)}
        )
        root.save_state(tmp_path / "agent")
        assert sorted(p.name for p in (tmp_path / "agent").iterdir()) == ["a"]
        assert (tmp_path / "agent" / "a").read_text() == "a"
        assert log == ["root.save_state", "a.save_state", "b.save_state"]

    def test_directory_may_already_exist(self, tmp_path: Path) -> None:
        RecordingAgent("root", [], {"a": Leaf()}).save_state(tmp_path)
        assert tmp_path.is_dir()

    def test_load_reads_own_then_children_from_their_paths(
        self, tmp_path: Path
    ) -> None:
        seen: list[tuple[str, Path]] = []

        class Reading(RecordingAgent):
            def load_state(self, path: Path) -> None:
                seen.append((self.name, path))
                super().load_state(path)

        root = Reading("root", [], {"a": Reading("a", [], {"x": Reading("x", [])})})
        root.load_state(tmp_path / "agent")
        assert seen == [
            ("root", tmp_path / "agent"),
            ("a", tmp_path / "agent" / "a"),
            ("x", tmp_path / "agent" / "a" / "x"),
        ]
