"""TorchTrainer: optimizers created once, kept across syncs, saved and loaded."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.optim.lr_scheduler import StepLR
from typing_extensions import TypeAliasType

from pamiq_core.model import InferenceModel, TrainingModel, TrainingModelsDict
from pamiq_core.torch import (
    LRSchedulersDict,
    OptimizersDict,
    OptimizersSetup,
    StateDict,
    TorchTrainer,
    TorchTrainingModel,
)
from pamiq_core.torch import trainer as trainer_module
from pamiq_core.trainer import Trainer, TrainersDict


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.hidden = nn.Linear(3, 8)
        self.norm = nn.BatchNorm1d(8)
        self.out = nn.Linear(8, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(torch.relu(self.norm(self.hidden(x))))


def batch(step: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The same inputs and targets for the same step, whatever ran before."""
    generator = torch.Generator().manual_seed(step)
    x = torch.randn(16, 3, generator=generator)
    return x, x.sum(dim=1, keepdim=True)


def train_step(module: nn.Module, optimizer: torch.optim.Optimizer, step: int) -> None:
    x, y = batch(step)
    loss = F.mse_loss(module(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()


def new_model(seed: int = 0) -> TorchTrainingModel[Net]:
    torch.manual_seed(seed)
    return TorchTrainingModel(Net())


class AdamTrainer(TorchTrainer):
    """Adam (and optionally StepLR) over model 'net'; one step per run."""

    def __init__(self, *, scheduler: bool = False, lr: float = 0.01) -> None:
        super().__init__()
        self.with_scheduler = scheduler
        self.lr = lr
        self.created = 0
        self.steps = 0
        self.before_step: Callable[[AdamTrainer], None] = lambda _: None

    def on_training_models_attached(self) -> None:
        self.net = self.get_torch_training_model("net", Net)

    def create_optimizers(self) -> OptimizersSetup:
        self.created += 1
        optimizer = torch.optim.Adam(self.net.model.parameters(), lr=self.lr)
        if not self.with_scheduler:
            return {"adam": optimizer}
        return {"adam": optimizer}, {"step": StepLR(optimizer, step_size=2, gamma=0.5)}

    def train(self) -> None:
        self.before_step(self)
        train_step(self.net.model, self.optimizers["adam"], self.steps)
        self.steps += 1
        if self.with_scheduler:
            self.lr_schedulers["step"].step()


def attach(trainer: Trainer, model: TorchTrainingModel[Net] | None = None) -> Any:
    models = TrainingModelsDict(net=model or new_model())
    trainer.attach_training_models(training_models=models)
    return models


def assert_same_parameters(a: nn.Module, b: nn.Module) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for name in sa:
        assert torch.equal(sa[name], sb[name]), name


def assert_same_state(a: Any, b: Any) -> None:
    """Two (nested) state dicts hold equal values."""
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor)
        assert torch.equal(a, b)
    elif isinstance(a, dict):
        assert isinstance(b, dict)
        assert a.keys() == b.keys()
        for key in a:
            assert_same_state(a[key], b[key])
    elif isinstance(a, list | tuple):
        assert isinstance(b, list | tuple)
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            assert_same_state(x, y)
    else:
        assert a == b


class TestApi:
    def test_type_aliases_are_runtime_type_alias_objects(self) -> None:
        optimizer, scheduler = torch.optim.Optimizer, torch.optim.lr_scheduler
        expected = {
            "StateDict": (StateDict, dict[str, Any]),
            "OptimizersDict": (OptimizersDict, dict[str, optimizer]),
            "LRSchedulersDict": (
                LRSchedulersDict,
                dict[str, scheduler.LRScheduler],
            ),
        }
        for name, (alias, value) in expected.items():
            assert isinstance(alias, TypeAliasType)
            assert alias.__name__ == name
            assert alias.__value__ == value
        assert isinstance(OptimizersSetup, TypeAliasType)
        assert OptimizersSetup.__value__ == (
            OptimizersDict | tuple[OptimizersDict, LRSchedulersDict]
        )

    def test_module_exports(self) -> None:
        assert trainer_module.__all__ == [
            "StateDict",
            "OptimizersDict",
            "LRSchedulersDict",
            "OptimizersSetup",
            "TorchTrainer",
        ]
        assert trainer_module.TorchTrainer is TorchTrainer

    def test_abstract_methods_and_base(self) -> None:
        assert TorchTrainer.__abstractmethods__ == {"create_optimizers", "train"}
        assert issubclass(TorchTrainer, Trainer)

    def test_constructor_forwards_the_condition_and_starts_empty(self) -> None:
        class Plain(TorchTrainer):
            def create_optimizers(self) -> OptimizersSetup:
                return {}

            def train(self) -> None:
                pass

        trainer = Plain("data", min_buffer_size=5, min_new_data_count=2)
        assert trainer.training_condition_data_user == "data"
        assert trainer.min_buffer_size == 5
        assert trainer.min_new_data_count == 2
        assert trainer.optimizers == {}
        assert trainer.lr_schedulers == {}
        assert trainer.optimizer_states == {}
        assert trainer.lr_scheduler_states == {}


class Echo(InferenceModel):
    def infer(self, *args: Any, **kwds: Any) -> Any:
        return args


class NotTorch(TrainingModel[Echo]):
    def _create_inference_model(self) -> Echo:
        return Echo()

    def forward(self, *args: Any, **kwds: Any) -> Any:
        return args

    def sync_impl(self, inference_model: Echo) -> None:
        pass


class Fetcher(TorchTrainer):
    def create_optimizers(self) -> OptimizersSetup:
        return {}

    def train(self) -> None:
        pass


class TestGetTorchTrainingModel:
    def test_returns_the_wrapper_and_syncs_it_after_runs(self) -> None:
        model = new_model()
        trainer = Fetcher()
        attach(trainer, model)
        fetched = trainer.get_torch_training_model("net", Net)
        assert fetched is model
        assert trainer.get_torch_training_model("net") is model
        version = model.sync_version
        assert trainer.run()
        assert model.sync_version == version + 1

    def test_module_class_may_be_a_base_class(self) -> None:
        trainer = Fetcher()
        attach(trainer)
        trainer.get_torch_training_model("net", module_cls=nn.Module)

    def test_missing_model(self) -> None:
        trainer = Fetcher()
        attach(trainer)
        with pytest.raises(KeyError):
            trainer.get_torch_training_model("missing")

    def test_inference_thread_only_model_is_hidden(self) -> None:
        trainer = Fetcher()
        models = TrainingModelsDict(
            frozen=TorchTrainingModel(Net(), inference_thread_only=True)
        )
        trainer.attach_training_models(training_models=models)
        with pytest.raises(KeyError):
            trainer.get_torch_training_model("frozen")

    def test_not_a_torch_model(self) -> None:
        trainer = Fetcher()
        trainer.attach_training_models(
            training_models=TrainingModelsDict(plain=NotTorch())
        )
        with pytest.raises(TypeError) as raised:
            trainer.get_torch_training_model("plain")
        # The spec's sentence first, then what to do.
        assert str(raised.value).startswith(
            "Model plain is not a instance of TorchTrainingModel. It is a NotTorch; "
        )
        assert "TorchTrainingModel(module)" in str(raised.value)

    def test_wrong_module_class(self) -> None:
        trainer = Fetcher()
        attach(trainer)
        with pytest.raises(TypeError) as raised:
            trainer.get_torch_training_model("net", nn.Linear)
        assert str(raised.value).startswith(
            "Internal model is not a instance of Linear. Model 'net' wraps a "
        )


class TestOptimizersLiveAcrossRuns:
    def test_created_once_over_many_runs(self) -> None:
        trainer = AdamTrainer(scheduler=True)
        attach(trainer)
        dicts = (
            trainer.optimizers,
            trainer.lr_schedulers,
            trainer.optimizer_states,
            trainer.lr_scheduler_states,
        )
        assert trainer.run()
        optimizer = trainer.optimizers["adam"]
        scheduler = trainer.lr_schedulers["step"]
        for _ in range(20):
            assert trainer.run()
        assert trainer.created == 1
        assert trainer.optimizers["adam"] is optimizer
        assert trainer.lr_schedulers["step"] is scheduler
        assert trainer.optimizer_states == {}
        assert trainer.lr_scheduler_states == {}
        after = (
            trainer.optimizers,
            trainer.lr_schedulers,
            trainer.optimizer_states,
            trainer.lr_scheduler_states,
        )
        assert all(map(lambda a, b: a is b, dicts, after))

    def test_the_optimizer_steps_the_training_module_after_many_syncs(self) -> None:
        model = new_model()
        trainer = AdamTrainer()
        attach(trainer, model)
        for _ in range(10):
            trainer.run()
        optimizer = trainer.optimizers["adam"]
        optimized = [p for group in optimizer.param_groups for p in group["params"]]
        assert all(map(lambda a, b: a is b, optimized, model.model.parameters()))
        before = [p.detach().clone() for p in model.model.parameters()]
        trainer.run()
        assert not all(map(torch.equal, before, model.model.parameters()))

    def test_bit_identical_to_training_without_the_framework(self) -> None:
        model = new_model(seed=1)
        trainer = AdamTrainer()
        attach(trainer, model)
        for _ in range(30):
            assert trainer.run()  # setup, one step, sync, teardown

        torch.manual_seed(1)
        plain = Net()
        optimizer = torch.optim.Adam(plain.parameters(), lr=0.01)
        for step in range(30):
            train_step(plain, optimizer, step)
        assert_same_parameters(model.model, plain)
        assert model.sync_version == 30
        with model.inference_model.unwrap() as inference_module:
            assert_same_parameters(inference_module, plain)

    def test_a_learning_rate_changed_in_train_survives_runs(self) -> None:
        trainer = AdamTrainer()
        attach(trainer)

        def lower_lr_once(t: AdamTrainer) -> None:
            if t.steps == 2:
                t.optimizers["adam"].param_groups[0]["lr"] = 0.001

        trainer.before_step = lower_lr_once
        for _ in range(6):
            trainer.run()
        assert trainer.optimizers["adam"].param_groups[0]["lr"] == 0.001

    def test_a_param_group_added_in_train_survives_runs(self) -> None:
        class GrowingTrainer(AdamTrainer):
            """Adds a parameter of its own to the optimizer in its second run."""

            extra = nn.Parameter(torch.ones(2))

            def train(self) -> None:
                optimizer = self.optimizers["adam"]
                if self.steps == 1:
                    optimizer.add_param_group({"params": [self.extra], "lr": 0.5})
                super().train()
                optimizer.zero_grad()
                self.extra.sum().backward()
                optimizer.step()

        trainer = GrowingTrainer()
        attach(trainer)
        for _ in range(4):
            trainer.run()
        assert len(trainer.optimizers["adam"].param_groups) == 2
        assert trainer.created == 1
        assert torch.all(trainer.extra < 1)  # stepped in the runs after it was added


class TestCreateOptimizersResult:
    @pytest.mark.parametrize("shape", ["dict", "tuple"])
    def test_a_dict_or_a_pair_of_dicts(self, shape: str) -> None:
        class Shaped(Fetcher):
            def create_optimizers(self) -> OptimizersSetup:
                net = self.get_torch_training_model("net").model
                optimizers: OptimizersDict = {"sgd": torch.optim.SGD(net.parameters())}
                if shape == "dict":
                    return optimizers
                scheduler = StepLR(optimizers["sgd"], 1)
                return optimizers, {"step": scheduler}

        trainer = Shaped()
        attach(trainer)
        trainer.run()
        assert list(trainer.optimizers) == ["sgd"]
        assert list(trainer.lr_schedulers) == ([] if shape == "dict" else ["step"])

    @pytest.mark.parametrize(
        ("result", "described"),
        [
            ([], "a list"),
            (None, "a NoneType"),
            (({}, {}, {}), "a tuple of (dict, dict, dict)"),
            (({}, None), "a tuple of (dict, NoneType)"),
        ],
    )
    def test_anything_else_is_a_type_error(self, result: Any, described: str) -> None:
        class Wrong(Fetcher):
            def create_optimizers(self) -> Any:
                return result

        trainer = Wrong()
        attach(trainer)
        with pytest.raises(TypeError) as raised:
            trainer.setup()
        message = str(raised.value)
        assert "create_optimizers() must return a dict of optimizers" in message
        assert "(optimizers dict, LR schedulers dict)" in message
        assert described in message


def continue_from(saved: Path, trainer: AdamTrainer) -> TorchTrainingModel[Net]:
    """A fresh model and ``trainer`` loaded from what ``save`` wrote."""
    model = new_model(seed=99)  # different initial weights, replaced by the load
    models = attach(trainer, model)
    models.load_state(saved / "models")
    trainer.load_state(saved / "trainer")
    return model


def save(path: Path, models: TrainingModelsDict, trainer: Trainer) -> Path:
    path.mkdir()
    models.save_state(path / "models")
    trainer.save_state(path / "trainer")
    return path


class TestSaveAndLoad:
    def test_on_disk_layout(self, tmp_path: Path) -> None:
        trainer = AdamTrainer(scheduler=True)
        attach(trainer)
        for _ in range(3):
            trainer.run()
        trainer.save_state(tmp_path / "trainer")
        files = sorted(p.name for p in (tmp_path / "trainer").iterdir())
        assert files == [
            "adam.optim.pt",
            "global_step",
            "previous_training_time",
            "step.lrsch.pt",
        ]
        text = (tmp_path / "trainer" / "previous_training_time").read_text("utf-8")
        assert text == "-inf"
        assert (tmp_path / "trainer" / "global_step").read_text("utf-8") == "3"
        assert_same_state(
            torch.load(tmp_path / "trainer" / "adam.optim.pt"),
            trainer.optimizers["adam"].state_dict(),
        )
        assert_same_state(
            torch.load(tmp_path / "trainer" / "step.lrsch.pt"),
            trainer.lr_schedulers["step"].state_dict(),
        )

    def test_before_any_run_only_the_training_time_and_step_are_written(
        self, tmp_path: Path
    ) -> None:
        trainer = AdamTrainer()
        attach(trainer)
        trainer.save_state(tmp_path / "trainer")
        assert sorted(p.name for p in (tmp_path / "trainer").iterdir()) == [
            "global_step",
            "previous_training_time",
        ]

    def test_save_refuses_an_existing_directory(self, tmp_path: Path) -> None:
        trainer = AdamTrainer()
        with pytest.raises(FileExistsError):
            trainer.save_state(tmp_path)

    @pytest.mark.parametrize("kind", ["missing", "file"])
    def test_load_needs_a_directory(self, tmp_path: Path, kind: str) -> None:
        path = tmp_path / "state"
        if kind == "file":
            path.write_text("")
        with pytest.raises(ValueError, match=r"^Path .* is not a directory") as raised:
            AdamTrainer().load_state(path)
        assert str(raised.value) == f"Path {path} is not a directory or does not exist"

    def test_load_reads_the_states_and_recreates_the_optimizers_once(
        self, tmp_path: Path
    ) -> None:
        trainer = AdamTrainer(scheduler=True)
        models = attach(trainer)
        for _ in range(3):
            trainer.run()
        saved = save(tmp_path / "saved", models, trainer)

        restored = AdamTrainer(scheduler=True)
        continue_from(saved, restored)
        assert set(restored.optimizer_states) == {"adam"}
        assert set(restored.lr_scheduler_states) == {"step"}
        assert restored.created == 0
        for _ in range(5):
            restored.run()
        assert restored.created == 1
        assert restored.optimizer_states == {}
        assert restored.lr_scheduler_states == {}

        trainer.load_state(saved / "trainer")  # a trainer that has run: once more
        old = trainer.optimizers["adam"]
        trainer.run()
        trainer.run()
        assert trainer.created == 2
        assert trainer.optimizers["adam"] is not old

    def test_training_continues_bit_identically_after_save_and_load(
        self, tmp_path: Path
    ) -> None:
        trainer = AdamTrainer(scheduler=True)
        model = new_model()
        models = attach(trainer, model)

        def lower_lr_at_step_3(t: AdamTrainer) -> None:
            if t.steps == 3:
                for group in t.optimizers["adam"].param_groups:
                    group["lr"] *= 0.1

        trainer.before_step = lower_lr_at_step_3
        for _ in range(5):
            trainer.run()
        saved = save(tmp_path / "saved", models, trainer)
        for _ in range(5):
            trainer.run()

        restored = AdamTrainer(scheduler=True)
        restored.steps = 5
        restored_model = continue_from(saved, restored)
        for _ in range(5):
            restored.run()
        assert_same_parameters(restored_model.model, model.model)
        assert_same_state(
            restored.optimizers["adam"].state_dict(),
            trainer.optimizers["adam"].state_dict(),
        )
        assert_same_state(
            restored.lr_schedulers["step"].state_dict(),
            trainer.lr_schedulers["step"].state_dict(),
        )

    def test_a_changed_learning_rate_survives_save_and_load(
        self, tmp_path: Path
    ) -> None:
        trainer = AdamTrainer()
        models = attach(trainer)
        trainer.run()
        trainer.optimizers["adam"].param_groups[0]["lr"] = 0.123
        saved = save(tmp_path / "saved", models, trainer)

        restored = AdamTrainer()
        continue_from(saved, restored)
        restored.run()
        assert restored.optimizers["adam"].param_groups[0]["lr"] == 0.123

    def test_scheduler_state_round_trip(self, tmp_path: Path) -> None:
        trainer = AdamTrainer(scheduler=True)
        models = attach(trainer)
        for _ in range(5):
            trainer.run()  # StepLR(step_size=2, gamma=0.5): 5 epochs, lr halved twice
        scheduler = trainer.lr_schedulers["step"]
        assert scheduler.last_epoch == 5
        assert scheduler.get_last_lr() == [0.0025]
        saved = save(tmp_path / "saved", models, trainer)

        restored = AdamTrainer(scheduler=True)
        continue_from(saved, restored)
        restored.setup()
        restored_scheduler = restored.lr_schedulers["step"]
        assert restored_scheduler.last_epoch == 5
        assert restored_scheduler.get_last_lr() == [0.0025]
        assert restored.optimizers["adam"].param_groups[0]["lr"] == 0.0025
        restored_scheduler.step()
        assert restored_scheduler.get_last_lr() == [0.00125]

    def test_load_then_save_without_a_run_keeps_the_states(
        self, tmp_path: Path
    ) -> None:
        trainer = AdamTrainer(scheduler=True)
        attach(trainer)
        for _ in range(3):
            trainer.run()
        trainer.save_state(tmp_path / "first")

        relay = AdamTrainer(scheduler=True)
        attach(relay)
        relay.load_state(tmp_path / "first")
        relay.save_state(tmp_path / "second")
        for name in ("adam.optim.pt", "step.lrsch.pt"):
            assert_same_state(
                torch.load(tmp_path / "second" / name),
                torch.load(tmp_path / "first" / name),
            )

    def test_loads_merge_and_keep_live_states_without_a_file(
        self, tmp_path: Path
    ) -> None:
        class Two(AdamTrainer):
            def create_optimizers(self) -> OptimizersSetup:
                optimizers = super().create_optimizers()
                assert isinstance(optimizers, dict)
                parameters = self.net.model.parameters()
                optimizers["sgd"] = torch.optim.SGD(parameters, lr=0.1)
                return optimizers

        trainer = Two()
        attach(trainer)
        trainer.run()
        trainer.optimizers["sgd"].param_groups[0]["lr"] = 0.7
        trainer.optimizers["adam"].param_groups[0]["lr"] = 0.3
        (tmp_path / "only_adam").mkdir()
        (tmp_path / "only_adam" / "previous_training_time").write_text("-inf")
        torch.save(
            trainer.optimizers["adam"].state_dict(),
            tmp_path / "only_adam" / "adam.optim.pt",
        )
        trainer.optimizers["adam"].param_groups[0]["lr"] = 0.9

        trainer.load_state(tmp_path / "only_adam")
        trainer.setup()
        assert trainer.optimizers["adam"].param_groups[0]["lr"] == 0.3  # loaded
        assert trainer.optimizers["sgd"].param_groups[0]["lr"] == 0.7  # kept

    def test_a_loaded_state_without_its_optimizer_is_a_key_error(
        self, tmp_path: Path
    ) -> None:
        trainer = AdamTrainer(scheduler=True)
        attach(trainer)
        trainer.run()
        trainer.save_state(tmp_path / "saved")
        (tmp_path / "saved" / "adam.optim.pt").rename(
            tmp_path / "saved" / "gone.optim.pt"
        )

        restored = AdamTrainer(scheduler=True)
        attach(restored)
        restored.load_state(tmp_path / "saved")
        with pytest.raises(KeyError) as raised:
            restored.setup()
        message = str(raised.value)
        assert "'gone'" in message
        assert "['adam']" in message
        assert restored.optimizers == {}  # nothing half-applied

    def test_a_loaded_scheduler_state_without_its_scheduler_is_a_key_error(
        self, tmp_path: Path
    ) -> None:
        trainer = AdamTrainer(scheduler=True)
        attach(trainer)
        trainer.run()
        trainer.save_state(tmp_path / "saved")

        restored = AdamTrainer(scheduler=False)
        attach(restored)
        restored.load_state(tmp_path / "saved")
        with pytest.raises(KeyError, match="'step'"):
            restored.setup()

    def test_a_param_group_mismatch_names_the_optimizer(self, tmp_path: Path) -> None:
        extra = nn.Parameter(torch.ones(2))
        trainer = AdamTrainer()
        attach(trainer)
        trainer.run()
        trainer.optimizers["adam"].add_param_group({"params": [extra]})
        trainer.save_state(tmp_path / "saved")

        restored = AdamTrainer()
        attach(restored)
        restored.load_state(tmp_path / "saved")
        with pytest.raises(ValueError, match="optimizer 'adam'") as raised:
            restored.setup()
        assert "param groups" in str(raised.value)

        class WithExtraGroup(AdamTrainer):
            def create_optimizers(self) -> OptimizersSetup:
                optimizers = super().create_optimizers()
                assert isinstance(optimizers, dict)
                optimizers["adam"].add_param_group({"params": [extra]})
                return optimizers

        matching = WithExtraGroup()
        attach(matching)
        matching.load_state(tmp_path / "saved")
        matching.setup()
        assert len(matching.optimizers["adam"].param_groups) == 2

    def test_trainers_dict_layout(self, tmp_path: Path) -> None:
        trainers = TrainersDict(main=AdamTrainer(scheduler=True))
        trainers.attach_training_models(TrainingModelsDict(net=new_model()))
        trainers["main"].run()
        trainers.save_state(tmp_path / "trainers")
        files = sorted(p.name for p in (tmp_path / "trainers" / "main").iterdir())
        assert files == [
            "adam.optim.pt",
            "global_step",
            "previous_training_time",
            "step.lrsch.pt",
        ]
