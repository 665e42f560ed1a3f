"""What ``launch`` is given is checked before anything is wired (``check_components``).

``launch`` calls :func:`claim_components` before it attaches anything, so these
are the errors a user meets when calling ``launch`` with the wrong things.
"""

import threading
from typing import Any

import pytest

from pamiq_core import Interaction
from pamiq_core.data.impls import SequentialBuffer
from pamiq_core.system_checks import check_components, claim_components
from pamiq_core.utils.init_check import MissingSuperInitError

from .parts import (
    BanditAgent,
    RewardTrainer,
    Slots,
    Values,
    ValueTable,
    pulls_buffer,
)


def parts(**changes: Any) -> dict[str, Any]:
    """The arguments of a correct system, with ``changes`` made."""
    arguments: dict[str, Any] = {
        "interaction": Interaction(BanditAgent(), Slots()),
        "models": {"values": ValueTable()},
        "buffers": {"pulls": pulls_buffer()},
        "trainers": {"reward": RewardTrainer()},
    }
    arguments.update(changes)
    return arguments


def test_a_correct_system_passes() -> None:
    check_components(**parts())


class TestWrongThings:
    def test_an_agent_where_the_interaction_goes(self) -> None:
        with pytest.raises(TypeError) as raised:
            check_components(**parts(interaction=BanditAgent()))
        assert str(raised.value) == (
            "launch(interaction=...) must be an Interaction; got a BanditAgent (an "
            "Agent). Connect an agent to its environment first: Interaction(agent, "
            "environment), or FixedIntervalInteraction.with_sleep_adjustor(agent, "
            "environment, interval)."
        )

    def test_a_list_of_models(self) -> None:
        with pytest.raises(
            TypeError,
            match=r"launch\(models=\.\.\.\) takes a mapping "
            r"of names to TrainingModel objects; got a list\. Name each",
        ):
            check_components(**parts(models=[ValueTable()]))

    def test_a_single_trainer(self) -> None:
        with pytest.raises(
            TypeError,
            match=r"got a RewardTrainer \(a Trainer\)\. Give "
            r"it a name: trainers=\{'name': RewardTrainer\(\.\.\.\)\}",
        ):
            check_components(**parts(trainers=RewardTrainer()))

    def test_a_model_dict_as_a_trainer(self) -> None:
        with pytest.raises(
            TypeError,
            match=r"launch\(trainers=\.\.\.\)\['reward'\] "
            r"must be a Trainer; got a dict\. .*models go to "
            r"launch\(models=\.\.\.\)",
        ):
            check_components(**parts(trainers={"reward": {"values": ValueTable()}}))

    def test_a_buffer_where_a_model_goes(self) -> None:
        with pytest.raises(
            TypeError,
            match=r"launch\(models=\.\.\.\)\['values'\] must "
            r"be a TrainingModel; got a SequentialBuffer\. Buffers go "
            r"to launch\(buffers=\.\.\.\)",
        ):
            check_components(**parts(models={"values": SequentialBuffer(3)}))

    def test_a_model_where_a_buffer_goes(self) -> None:
        with pytest.raises(TypeError, match=r"Models go to launch\(models=\.\.\.\)"):
            check_components(**parts(buffers={"pulls": ValueTable()}))

    def test_an_inference_model_where_a_training_model_goes(self) -> None:
        with pytest.raises(
            TypeError,
            match=r"got a Values \(an InferenceModel\)\. "
            r"launch takes training models",
        ):
            check_components(**parts(models={"values": Values([0.0])}))

    def test_a_class_instead_of_a_trainer(self) -> None:
        with pytest.raises(TypeError, match=r"Create one: RewardTrainer\(\.\.\.\)"):
            check_components(**parts(trainers={"reward": RewardTrainer}))

    def test_a_name_that_is_not_a_string(self) -> None:
        with pytest.raises(TypeError, match=r"names must be strings; got 0"):
            check_components(**parts(buffers={0: pulls_buffer()}))

    @pytest.mark.parametrize("name", ["", ".", "..", "q/target", "a\\b"])
    def test_a_name_that_cannot_name_a_state_directory(self, name: str) -> None:
        with pytest.raises(
            ValueError,
            match=r"cannot be a name\. Names become directory names in saved states",
        ):
            check_components(**parts(models={name: ValueTable()}))


class TestTwiceOrNotSetUp:
    def test_one_model_under_two_names(self) -> None:
        table = ValueTable()
        with pytest.raises(ValueError, match="same ValueTable object") as raised:
            check_components(**parts(models={"values": table, "target": table}))
        assert str(raised.value) == (
            "launch(models=...) gives the same ValueTable object as 'values' and "
            "'target'. Each name needs its own object; create one per name."
        )

    def test_one_buffer_under_two_names(self) -> None:
        buffer = pulls_buffer()
        with pytest.raises(ValueError, match="same DictSequentialBuffer object"):
            check_components(**parts(buffers={"pulls": buffer, "copy": buffer}))

    def test_one_agent_in_two_places_of_the_tree(self) -> None:
        shared = BanditAgent()
        root = BanditAgent({"a": BanditAgent({"x": shared}), "b": shared})
        with pytest.raises(
            ValueError,
            match=r"The same BanditAgent object is the "
            r"agent's child 'a''s child 'x' and the agent's child 'b'|"
            r"The same BanditAgent object is the agent's child 'b' "
            r"and the agent's child 'a''s child 'x'",
        ):
            check_components(**parts(interaction=Interaction(root, Slots())))

    def test_a_part_whose_init_never_ran_is_found_before_wiring(self) -> None:
        class Forgetful(RewardTrainer):
            def __init__(self) -> None:  # pyright: ignore[reportMissingSuperCall]
                pass

        with pytest.raises(
            MissingSuperInitError,
            match="Forgetful.__init__ does not "
            r"call super\(\).__init__\(\)",
        ):
            check_components(**parts(trainers={"reward": Forgetful()}))


class TestTrainerConditions:
    def test_a_condition_naming_no_buffer(self) -> None:
        class Typo(RewardTrainer):
            def __init__(self) -> None:
                super().__init__()
                self.training_condition_data_user = "pull"

        with pytest.raises(KeyError) as raised:
            check_components(**parts(trainers={"reward": Typo()}))
        assert str(raised.value) == (
            "Trainer 'reward' (Typo) has training_condition_data_user='pull', but "
            "there is no buffer named 'pull'. The buffer names are: 'pulls' (the "
            "keys of launch(buffers=...)). Did you mean 'pulls'?"
        )

    def test_more_new_items_than_the_buffer_remembers(self) -> None:
        trainer = RewardTrainer()
        trainer.min_new_data_count = 500
        with pytest.raises(
            ValueError,
            match=r"Trainer 'reward' \(RewardTrainer\) can "
            r"never train: it waits for min_new_data_count=500 new "
            r"items, but buffer 'pulls' remembers the collection times "
            r"of only its newest max_queue_size=100",
        ):
            check_components(**parts(trainers={"reward": trainer}))

    def test_more_items_than_the_buffer_holds(self) -> None:
        trainer = RewardTrainer()
        trainer.min_buffer_size = 101
        with pytest.raises(
            ValueError,
            match=r"waits for min_buffer_size=101 items, "
            r"but buffer 'pulls' holds at most max_size=100",
        ):
            check_components(**parts(trainers={"reward": trainer}))


class TestClaims:
    def test_a_part_of_a_running_system_is_refused_until_it_stops(self) -> None:
        first = parts()
        second = parts(trainers=first["trainers"])
        with claim_components(**first):
            with (
                pytest.raises(ValueError, match="already part of a system") as raised,
                claim_components(**second),
            ):
                pass
            assert str(raised.value) == (
                "launch(trainers=...)['reward'] (a RewardTrainer (a Trainer)) is "
                "already part of a system that is still running (as "
                "launch(trainers=...)['reward']). A component can serve one system "
                "at a time: create a new one for this system, or wait for the other "
                "launch() to return."
            )
        with claim_components(**second):  # the first system has stopped
            pass

    def test_claims_from_many_threads_never_share_a_part(self) -> None:
        shared = parts()
        inside = 0
        most_inside = 0
        lock = threading.Lock()
        start = threading.Barrier(8)

        def try_claim() -> None:
            nonlocal inside, most_inside
            start.wait()
            for _ in range(200):
                try:
                    with claim_components(**shared):
                        with lock:
                            inside += 1
                            most_inside = max(most_inside, inside)
                        with lock:
                            inside -= 1
                except ValueError:
                    pass

        threads = [threading.Thread(target=try_claim) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert most_inside == 1
