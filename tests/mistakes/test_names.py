"""A name that is not there: the error lists the names there are and suggests one.

Every lookup a user makes by name (agent and trainer helpers, the containers'
``[]``, collectors) raises a :class:`KeyError` as before, now an
:class:`UnknownNameError` whose message reads as a sentence.
"""

from pathlib import Path
from typing import Any

import pytest

from pamiq_core import Agent, Trainer
from pamiq_core.data import DataCollectorsDict, DataUsersDict
from pamiq_core.data.impls import SequentialBuffer
from pamiq_core.interaction import ActuatorsDict
from pamiq_core.model import TrainingModelsDict
from pamiq_core.testing import connect_components
from pamiq_core.utils.naming import UnknownNameError

from .parts import BanditAgent, Lamp, RewardTrainer, ValueTable, pulls_buffer, run


class TypoAgent(BanditAgent):
    model_name = "valeus"


class TestAgentLookups:
    def test_a_misspelt_model_name_lists_the_models_and_suggests_one(
        self, tmp_path: Path
    ) -> None:
        with pytest.raises(KeyError) as raised:
            run(tmp_path, agent=TypoAgent())
        assert str(raised.value) == (
            "TypoAgent.get_inference_model: no inference model named 'valeus'. The "
            "inference model names are: 'values' (the keys of launch(models=...)). "
            "Did you mean 'values'?"
        )

    def test_a_model_missing_from_launch_says_there_are_none(
        self, tmp_path: Path
    ) -> None:
        with pytest.raises(KeyError, match="The inference model names are: none"):
            run(tmp_path, models={})

    def test_a_training_only_model_is_named_as_such(self, tmp_path: Path) -> None:
        models = {"values": ValueTable(has_inference_model=False)}
        with pytest.raises(KeyError) as raised:
            run(tmp_path, models=models)
        assert "model 'values' has no inference model" in str(raised.value)
        assert "has_inference_model=False" in str(raised.value)

    def test_a_collector_name_used_as_a_model_is_pointed_out(self) -> None:
        class Mixed(BanditAgent):
            model_name = "pulls"

        with pytest.raises(
            KeyError,
            match=r"'pulls' is a data collector: use "
            r"get_data_collector\('pulls'\)",
        ):
            connect_components(
                agent=Mixed(),
                models={"values": ValueTable()},
                buffers={"pulls": pulls_buffer()},
            )

    def test_a_misspelt_collector_name(self, tmp_path: Path) -> None:
        class Typo(BanditAgent):
            collector_name = "pull"

        with pytest.raises(KeyError) as raised:
            run(tmp_path, agent=Typo())
        assert str(raised.value) == (
            "Data collector 'pull' not found. The data collector names are: 'pulls' "
            "(the keys of launch(buffers=...)). Did you mean 'pulls'?"
        )

    def test_a_model_name_used_as_a_collector_is_pointed_out(
        self, tmp_path: Path
    ) -> None:
        class Mixed(BanditAgent):
            collector_name = "values"

        with pytest.raises(
            KeyError,
            match=r"'values' is a model: use "
            r"get_inference_model\('values'\)",
        ):
            run(tmp_path, agent=Mixed())

    def test_acquiring_a_collector_at_every_step_says_to_keep_it(
        self, tmp_path: Path
    ) -> None:
        class Reacquiring(BanditAgent):
            def step(self, observation: int) -> int:
                self.get_data_collector("pulls").collect({"arm": 0, "reward": 0.0})
                return 0

        with pytest.raises(KeyError) as raised:
            run(tmp_path, agent=Reacquiring())
        message = str(raised.value)
        assert "'pulls' is already acquired" in message
        assert "Reacquiring" in message  # who holds it
        assert "on_data_collectors_attached()" in message

    def test_two_agents_acquiring_one_collector_names_the_holder(self) -> None:
        class Child(BanditAgent):
            def on_inference_models_attached(self) -> None:
                pass

        parent = BanditAgent({"child": Child()})
        with pytest.raises(
            KeyError,
            match=r"already acquired\. It is held by agent "
            r".*BanditAgent",
        ):
            connect_components(
                agent=parent,
                models={"values": ValueTable()},
                buffers={"pulls": pulls_buffer()},
            )


class TestTrainerLookups:
    def test_a_misspelt_model_name(self) -> None:
        class Typo(RewardTrainer):
            def on_training_models_attached(self) -> None:
                self.table = self.get_training_model("value")

        with pytest.raises(KeyError) as raised:
            connect_components(
                trainers=Typo(),
                models={"values": ValueTable()},
                buffers={"pulls": pulls_buffer()},
            )
        assert str(raised.value) == (
            "Typo.get_training_model: no training model named 'value'. The training "
            "model names are: 'values' (the keys of launch(models=...)). Did you "
            "mean 'values'?"
        )

    def test_passing_the_model_object_instead_of_its_name(self) -> None:
        model = ValueTable()

        class ByObject(RewardTrainer):
            def on_training_models_attached(self) -> None:
                self.table = self.get_training_model(model)  # pyright: ignore[reportArgumentType]

        with pytest.raises(KeyError, match="names are strings, but a ValueTable was"):
            connect_components(
                trainers=ByObject(),
                models={"values": model},
                buffers={"pulls": pulls_buffer()},
            )

    def test_a_misspelt_data_user_name(self) -> None:
        class Typo(RewardTrainer):
            def on_data_users_attached(self) -> None:
                self.pulls = self.get_data_user("pull")

        with pytest.raises(KeyError) as raised:
            connect_components(trainers=Typo(), buffers={"pulls": pulls_buffer()})
        assert str(raised.value) == (
            "Typo.get_data_user: no data user named 'pull'. The data user names are: "
            "'pulls' (the keys of launch(buffers=...)). Did you mean 'pulls'?"
        )

    def test_a_model_name_used_as_a_data_user_is_pointed_out(
        self, tmp_path: Path
    ) -> None:
        class Mixed(RewardTrainer):
            def on_data_users_attached(self) -> None:
                self.pulls = self.get_data_user("values")

        with pytest.raises(
            KeyError,
            match=r"'values' is a training model: use "
            r"get_training_model\('values'\)",
        ):
            run(tmp_path, trainers={"reward": Mixed()})

    def test_a_misspelt_training_condition(self) -> None:
        class Typo(RewardTrainer):
            def __init__(self) -> None:
                Trainer.__init__(self, "pull", min_buffer_size=1)

            def on_data_users_attached(self) -> None:
                pass

        trainer = Typo()
        connect_components(
            trainers=trainer,
            models={"values": ValueTable()},
            buffers={"pulls": pulls_buffer()},
        )
        with pytest.raises(KeyError) as raised:
            trainer.run()
        assert str(raised.value).startswith(
            "Typo(training_condition_data_user='pull'): no data user named 'pull'"
        )
        assert "Did you mean 'pulls'?" in str(raised.value)

    def test_an_inference_thread_only_model_says_what_the_flag_means(self) -> None:
        with pytest.raises(KeyError) as raised:
            connect_components(
                trainers=RewardTrainer(),
                models={"values": ValueTable(inference_thread_only=True)},
                buffers={"pulls": pulls_buffer()},
            )
        assert "inference_thread_only=True, so trainers cannot use it" in str(
            raised.value
        )


class TestContainerLookups:
    @pytest.mark.parametrize(
        ("container", "kind"),
        [
            (lambda: TrainingModelsDict(values=ValueTable()), "training model"),
            (
                lambda: TrainingModelsDict(values=ValueTable()).inference_models_dict,
                "inference model",
            ),
            (
                lambda: DataUsersDict.from_data_buffers(values=SequentialBuffer(3)),
                "data user",
            ),
        ],
        ids=["TrainingModelsDict", "InferenceModelsDict", "DataUsersDict"],
    )
    def test_indexing_lists_names_and_suggests(self, container: Any, kind: str) -> None:
        with pytest.raises(KeyError) as raised:
            container()["valeus"]
        assert f"No {kind} named 'valeus'" in str(raised.value)
        assert "Did you mean 'values'?" in str(raised.value)

    def test_collectors_dict_indexing(self) -> None:
        users = DataUsersDict.from_data_buffers(values=SequentialBuffer(3))
        with pytest.raises(KeyError, match="Did you mean 'values'"):
            users.data_collectors_dict["valeus"]

    def test_membership_and_get_are_unaffected(self) -> None:
        models = TrainingModelsDict(values=ValueTable())
        assert "valeus" not in models
        assert models.get("valeus") is None
        assert DataCollectorsDict().get("x") is None

    def test_the_error_is_a_key_error_that_prints_as_a_sentence(self) -> None:
        error = UnknownNameError("No model named 'x'. The model names are: none.")
        assert isinstance(error, KeyError)
        assert str(error) == "No model named 'x'. The model names are: none."


class TestActions:
    def test_an_action_without_an_actuators_name(self) -> None:
        actuators = ActuatorsDict(lamp=Lamp(), heater=Lamp())
        with pytest.raises(KeyError) as raised:
            actuators.operate({"lamp": True, "heatr": False})
        assert str(raised.value) == (
            "The action has no entry for actuator 'heater': ActuatorsDict.operate "
            "needs one per actuator ('heater', 'lamp'); the action has 'heatr', "
            "'lamp'. Is 'heatr' meant to be 'heater'?"
        )

    def test_an_action_that_is_not_a_mapping(self) -> None:
        actuators = ActuatorsDict(lamp=Lamp())
        with pytest.raises(
            TypeError, match="takes a mapping of actions by actuator name"
        ):
            actuators.operate([True])  # pyright: ignore[reportArgumentType]

    def test_an_actuators_own_key_error_is_not_rewritten(self) -> None:
        class Picky(Lamp):
            def operate(self, action: bool) -> None:
                raise KeyError("its own")

        with pytest.raises(KeyError, match="its own"):
            ActuatorsDict(lamp=Picky()).operate({"lamp": True})


def test_agents_without_a_mapping_of_children() -> None:
    with pytest.raises(
        TypeError,
        match=r"takes a mapping of names to child agents; "
        r"got a list\. Name each child",
    ):
        Agent.__init__(BanditAgent(), [BanditAgent()])  # pyright: ignore[reportArgumentType]
