"""Hooks that are misspelt, missing, or used at the wrong time."""

import warnings

import pytest

from pamiq_core import Agent, Environment, Trainer, TrainingModel
from pamiq_core.data import DataBuffer
from pamiq_core.interaction import Actuator, Sensor, Wrapper
from pamiq_core.utils.naming import HookNameWarning

from .parts import BanditAgent, RewardTrainer


class TestMisspeltHooks:
    def test_a_singular_in_a_trainer_hook(self) -> None:
        with pytest.warns(HookNameWarning) as warned:

            class Singular(RewardTrainer):
                def on_training_model_attached(self) -> None:
                    pass

        assert str(warned[0].message) == (
            "Singular.on_training_model_attached is not a pamiq-core hook, so "
            "nothing calls it. Did you mean 'on_training_models_attached'?"
        )
        # The warning points at the method, not at pamiq-core.
        assert warned[0].filename == __file__

    @pytest.mark.parametrize(
        ("base", "name", "hook"),
        [
            (
                BanditAgent,
                "on_inference_model_attached",
                "on_inference_models_attached",
            ),
            (BanditAgent, "on_data_collector_attached", "on_data_collectors_attached"),
            (BanditAgent, "on_pause", "on_paused"),
            (RewardTrainer, "on_data_user_attached", "on_data_users_attached"),
            (RewardTrainer, "on_resume", "on_resumed"),
        ],
    )
    def test_near_misses(self, base: type, name: str, hook: str) -> None:
        with pytest.warns(HookNameWarning, match=f"Did you mean '{hook}'"):
            type("Mine", (base,), {name: lambda self: None})

    def test_own_methods_with_other_names_are_fine(self) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("error", HookNameWarning)

            class Fine(BanditAgent):
                def on_episode_end(self) -> None:
                    pass

                def on_reward(self, reward: float) -> None:
                    pass

                def on_paused(self) -> None:  # the real hook
                    super().on_paused()


class TestAbstractHooksLeftOut:
    @pytest.mark.parametrize(
        ("base", "method"),
        [
            (Trainer, "train"),
            (Agent, "step"),
            (Environment, "affect"),
            (Sensor, "read"),
            (Actuator, "operate"),
            (Wrapper, "wrap"),
            (TrainingModel, "sync_impl"),
            (DataBuffer, "get_data"),
        ],
    )
    def test_python_names_the_missing_method(self, base: type, method: str) -> None:
        incomplete = type("Incomplete", (base,), {})
        with pytest.raises(TypeError, match=f"Incomplete.*{method}"):
            incomplete()


class TestCalledTooEarly:
    """Fetching in ``__init__`` instead of in the attach hooks."""

    def test_an_agent_fetching_its_model_in_init(self) -> None:
        class Eager(BanditAgent):
            def __init__(self) -> None:
                super().__init__()
                self.values = self.get_inference_model("values")

        with pytest.raises(AttributeError) as raised:
            Eager()
        assert str(raised.value) == (
            "Eager.get_inference_model('values') was called before the inference "
            "models were attached (for example in __init__). Fetch models in "
            "on_inference_models_attached(), which launch() calls once they are "
            "attached."
        )

    def test_an_agent_acquiring_its_collector_in_init(self) -> None:
        class Eager(BanditAgent):
            def __init__(self) -> None:
                super().__init__()
                self.pulls = self.get_data_collector("pulls")

        with pytest.raises(
            AttributeError,
            match=r"Acquire collectors in "
            r"on_data_collectors_attached\(\)",
        ):
            Eager()

    def test_a_trainer_fetching_its_model_in_init(self) -> None:
        class Eager(RewardTrainer):
            def __init__(self) -> None:
                super().__init__()
                self.table = self.get_training_model("values")

        with pytest.raises(
            AttributeError,
            match=r"Eager\.get_training_model\("
            r"'values'\) was called before the training models were "
            r"attached .* on_training_models_attached\(\)",
        ):
            Eager()

    def test_a_trainer_fetching_its_data_in_init(self) -> None:
        class Eager(RewardTrainer):
            def __init__(self) -> None:
                super().__init__()
                self.pulls = self.get_data_user("pulls")

        with pytest.raises(AttributeError, match=r"on_data_users_attached\(\)"):
            Eager()

    def test_using_the_object_before_super_init_is_named(self) -> None:
        class Eager(RewardTrainer):
            def __init__(self) -> None:
                self.table = self.get_training_model("values")
                super().__init__()

        with pytest.raises(AttributeError) as raised:
            Eager()
        assert str(raised.value) == (
            "Eager.__init__ uses this Eager object before Trainer.__init__ has run. "
            "Call super().__init__(...) first in Eager.__init__."
        )
