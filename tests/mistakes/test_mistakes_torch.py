"""Mistakes with the PyTorch integration."""

from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from pamiq_core.system_checks import check_components
from pamiq_core.testing import connect_components
from pamiq_core.torch import (
    OptimizersSetup,
    TorchAgent,
    TorchTrainer,
    TorchTrainingModel,
)
from pamiq_core.trainer.base import UnsyncedModelWarning
from pamiq_core.utils.init_check import MissingSuperInitError

from .parts import BanditAgent, Slots, ValueTable, pulls_buffer, run


class Critic(TorchTrainer):
    """Fits model 'q' with SGD; one step per run."""

    def __init__(self) -> None:
        super().__init__()
        self.runs = 0

    def on_training_models_attached(self) -> None:
        self.q = self.get_torch_training_model("q", nn.Linear)

    def create_optimizers(self) -> OptimizersSetup:
        return {"sgd": torch.optim.SGD(self.q.model.parameters(), lr=0.1)}

    def train(self) -> None:
        self.runs += 1
        loss = self.q.model(torch.ones(1, 2)).sum()
        self.optimizers["sgd"].zero_grad()
        loss.backward()
        self.optimizers["sgd"].step()


class Greedy(TorchAgent[int, int]):
    def on_inference_models_attached(self) -> None:
        self.q = self.get_torch_inference_model("q", nn.Linear)

    def step(self, observation: int) -> int:
        return int(self.q(torch.ones(1, 2)).argmax())


def q_model() -> TorchTrainingModel[nn.Linear]:
    torch.manual_seed(0)
    return TorchTrainingModel(nn.Linear(2, 3))


def test_a_torch_trainer_without_super_init(tmp_path: Path) -> None:
    class Forgetful(Critic):
        def __init__(self) -> None:  # pyright: ignore[reportMissingSuperCall]
            self.runs = 0

    with pytest.raises(
        MissingSuperInitError,
        match=r"Forgetful\.__init__ does not "
        r"call super\(\)\.__init__\(\), so TorchTrainer\.__init__ "
        r"never ran",
    ):
        run(
            tmp_path,
            agent=Greedy(),
            models={"q": q_model()},
            trainers={"critic": Forgetful()},
        )


def test_a_torch_agent_without_super_init(tmp_path: Path) -> None:
    class Forgetful(Greedy):
        def __init__(self) -> None:  # pyright: ignore[reportMissingSuperCall]
            self.epsilon = 0.1

    with pytest.raises(
        MissingSuperInitError,
        match=r"Forgetful\.__init__ does not "
        r"call super\(\)\.__init__\(\), so Agent\.__init__ never ran",
    ):
        run(
            tmp_path,
            agent=Forgetful(),
            models={"q": q_model()},
            trainers={"critic": Critic()},
        )


def test_a_torch_training_model_subclass_without_super_init(tmp_path: Path) -> None:
    class Scaled(TorchTrainingModel[nn.Linear]):
        def __init__(self) -> None:  # pyright: ignore[reportMissingSuperCall]
            self.scale = 2.0

    with pytest.raises(
        MissingSuperInitError,
        match=r"Scaled\.__init__ does not "
        r"call super\(\)\.__init__\(\), so TrainingModel\.__init__ "
        r"never ran",
    ):
        run(
            tmp_path,
            agent=Greedy(),
            models={"q": Scaled()},
            trainers={"critic": Critic()},
        )


def test_a_bare_module_where_a_model_goes() -> None:
    from pamiq_core import Interaction

    with pytest.raises(TypeError) as raised:
        check_components(
            Interaction(Greedy(), Slots()),
            {"q": nn.Linear(2, 3)},
            {"pulls": pulls_buffer()},
            {"critic": Critic()},
        )
    assert str(raised.value) == (
        "launch(models=...)['q'] must be a TrainingModel; got a torch module "
        "(Linear). Wrap it: TorchTrainingModel(module) (from pamiq_core.torch)."
    )


def test_a_plain_model_fetched_as_a_torch_model(tmp_path: Path) -> None:
    with pytest.raises(TypeError) as raised:
        run(
            tmp_path,
            agent=BanditAgent(),
            models={"q": ValueTable(), "values": ValueTable()},
            trainers={"critic": Critic()},
        )
    assert str(raised.value) == (
        "Model q is not a instance of TorchTrainingModel. It is a ValueTable; fetch "
        "it with get_training_model('q'), or wrap the module in "
        "TorchTrainingModel(module) where it is passed to launch(models=...)."
    )


def test_the_wrong_module_class(tmp_path: Path) -> None:
    with pytest.raises(TypeError) as raised:
        run(
            tmp_path,
            agent=Greedy(),
            models={"q": TorchTrainingModel(nn.Sequential(nn.Linear(2, 3)))},
            trainers={"critic": Critic()},
        )
    assert str(raised.value) == (
        "Internal model is not an instance of Linear. Model 'q' wraps a "
        "Sequential, not a Linear as Greedy asked."
    )


def test_a_misspelt_torch_model_name(tmp_path: Path) -> None:
    with pytest.raises(
        KeyError,
        match=r"Greedy\.get_inference_model: no inference "
        r"model named 'q'\. The inference model names are: 'qnet' "
        r"\(the keys of launch\(models=\.\.\.\)\)\.",
    ):
        run(
            tmp_path,
            agent=Greedy(),
            models={"qnet": q_model()},
            trainers={"critic": Critic()},
        )


def test_a_trainer_holding_the_module_it_was_handed(tmp_path: Path) -> None:
    """The DQN-style slip: the module is handed to the trainer, not fetched."""

    class Handed(Critic):
        def __init__(self, net: nn.Linear) -> None:
            super().__init__()
            self.net = net

        def on_training_models_attached(self) -> None:
            pass

        def create_optimizers(self) -> OptimizersSetup:
            return {"sgd": torch.optim.SGD(self.net.parameters(), lr=0.1)}

        def train(self) -> None:
            self.runs += 1
            loss = self.net(torch.ones(1, 2)).sum()
            self.optimizers["sgd"].zero_grad()
            loss.backward()
            self.optimizers["sgd"].step()

    net = nn.Linear(2, 3)
    trainer = Handed(net)
    with pytest.warns(
        UnsyncedModelWarning,
        match=r"self\.net is the module of "
        r"model 'q' \(TorchTrainingModel\), which Handed never fetched",
    ):
        run(
            tmp_path,
            agent=Greedy(),
            models={"q": TorchTrainingModel(net)},
            trainers={"critic": trainer},
        )
    assert trainer.runs > 0
    assert trainer.unsynced_models == ("q",)


def test_setup_without_super_setup_warns() -> None:
    class NoSuper(Critic):
        def setup(self) -> None:
            self.ready = True

    trainer = NoSuper()
    connect_components(trainers=trainer, models={"q": q_model()})
    with (
        pytest.warns(
            RuntimeWarning,
            match=r"NoSuper\.setup\(\) does not call "
            r"super\(\)\.setup\(\), so create_optimizers\(\) never ran",
        ),
        pytest.raises(KeyError),
    ):  # its train() then finds no optimizer
        trainer.run()


def test_create_optimizers_returning_a_list() -> None:
    class Listing(Critic):
        def create_optimizers(self) -> Any:
            return [torch.optim.SGD(self.q.model.parameters(), lr=0.1)]

    trainer = Listing()
    connect_components(trainers=trainer, models={"q": q_model()})
    with pytest.raises(
        TypeError,
        match=r"create_optimizers\(\) must return a dict "
        r"of optimizers by name.*got a list",
    ):
        trainer.run()


def test_a_module_class_instead_of_a_module_is_named() -> None:
    import pytest
    from torch import nn

    from pamiq_core.torch import TorchTrainingModel

    with pytest.raises(
        TypeError, match=r"TorchTrainingModel\(model=...\).*Create one: Linear"
    ):
        TorchTrainingModel(nn.Linear)  # type: ignore[arg-type]
