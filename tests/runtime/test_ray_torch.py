"""Ray mode with torch: parameters through the object store, data-parallel replicas.

One cluster for the module: a head node and a worker node, one CPU each, so the
two replicas of a group run on different nodes.
"""

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from ray.cluster_utils import Cluster
from torch import nn

from pamiq_core import time
from pamiq_core.runtime import RayConfig, RayGroup
from pamiq_core.state_persistence import find_latest_state
from pamiq_core.torch import OptimizersSetup, TorchTrainer

sys.path.insert(0, str(Path(__file__).parents[1]))
sys.path.insert(0, str(Path(__file__).parent))
from ray_cluster import cluster_fixture
from running import run_until
from torch_system import System

LEARNING_RATE = 0.05


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    yield from cluster_fixture([{"num_cpus": 1}])


@pytest.fixture(autouse=True)
def restore_global_time(cluster: Cluster) -> Iterator[None]:
    yield
    time.resume()
    time.set_time_scale(1.0)


def train_until(system: System, states: Path, done: Any, **config: Any) -> None:
    """Run in Ray mode until ``done()``, then shut down over the web API."""
    run_until(
        system.launch,
        lambda port: done(),
        "enough training",
        states_dir=states,
        training="ray",
        **config,
    )


def test_syncs_reach_the_agent_through_the_object_store(
    cluster: Cluster, tmp_path: Path
) -> None:
    system = System()
    before = system.model.model.weight.detach().clone()
    with system.model.inference_model.unwrap() as module:
        untrained = float((module.weight.detach() - 2.0).abs().max())
    train_until(system, tmp_path, lambda: len(set(system.agent.versions)) > 40)
    versions = system.agent.versions
    assert versions == sorted(versions)  # never goes back
    with system.model.inference_model.unwrap() as module:
        learnt = module.weight.detach().clone()
    assert float((learnt - 2.0).abs().max()) < untrained / 2  # it learns
    final = find_latest_state(tmp_path)
    assert final is not None
    saved = torch.load(final / "models" / "linear.pt")
    assert torch.equal(saved["weight"], learnt)  # the last sync reached the agent
    # trained in the actor; the final snapshot brought the result back here
    assert not torch.equal(saved["weight"], before)
    assert torch.equal(system.model.model.weight.detach(), saved["weight"])


class RecordingFitter(TorchTrainer):
    """Fits y = 2 * sum(x) on the items that are new since its last run.

    After each run it writes the batches it trained on and its parameters to a
    file named by its replica rank, so the test can redo the training.
    """

    def __init__(self, record_dir: Path) -> None:
        super().__init__("points", min_buffer_size=4, min_new_data_count=4)
        self.record_dir = record_dir
        self.used = 0
        self.batches: list[torch.Tensor] = []

    def on_training_models_attached(self) -> None:
        self.linear = self.get_torch_training_model("linear", nn.Linear)

    def on_data_users_attached(self) -> None:
        self.data = self.get_data_user("points")

    def create_optimizers(self) -> OptimizersSetup:
        return {
            "sgd": torch.optim.SGD(self.linear.model.parameters(), lr=LEARNING_RATE)
        }

    def train(self) -> None:
        import torch.distributed as dist

        items = self.data.get_data()
        x = torch.stack(items[self.used :])
        self.used = len(items)
        self.batches.append(x)
        loss = (self.linear(x).squeeze(1) - 2 * x.sum(1)).pow(2).mean()
        self.optimizers["sgd"].zero_grad()
        loss.backward()
        self.optimizers["sgd"].step()
        rank = dist.get_rank() if dist.is_initialized() else 0
        record = {"batches": self.batches, "parameters": self.linear.model.state_dict()}
        partial = self.record_dir / f".replica-{rank}.pt"
        torch.save(record, partial)
        partial.rename(self.record_dir / f"replica-{rank}.pt")  # read whole or not


def test_two_replicas_train_like_one_process_on_the_same_batches(
    cluster: Cluster, tmp_path: Path
) -> None:
    records = tmp_path / "records"
    records.mkdir()
    system = System(buffer_size=1_000_000)  # never full: new items are at the end
    system.trainer = RecordingFitter(records)  # type: ignore[assignment]
    initial = {k: v.clone() for k, v in system.model.model.state_dict().items()}
    replicas = RayConfig(
        groups=[RayGroup({"num_cpus": 1, "scheduling_strategy": "SPREAD"}, 2)]
    )

    def trained_enough() -> bool:
        paths = [records / f"replica-{r}.pt" for r in (0, 1)]
        return all(p.exists() for p in paths) and len(_load(paths[0])["batches"]) > 5

    train_until(system, tmp_path / "states", trained_enough, ray=replicas)
    first, second = _load(records / "replica-0.pt"), _load(records / "replica-1.pt")
    runs = len(first["batches"])
    assert len(second["batches"]) == runs  # they trained in step
    for a, b in zip(first["batches"], second["batches"], strict=True):
        assert len(a) > 0
        assert len(b) > 0
        assert not set(a[:, 0].tolist()) & set(b[:, 0].tolist())  # disjoint shares

    # The same training in one process: each step, the mean of the replicas' losses.
    reference = nn.Linear(4, 1)
    reference.load_state_dict(initial)
    sgd = torch.optim.SGD(reference.parameters(), lr=LEARNING_RATE)
    for a, b in zip(first["batches"], second["batches"], strict=True):
        losses = [
            (reference(x).squeeze(1) - 2 * x.sum(1)).pow(2).mean() for x in (a, b)
        ]
        sgd.zero_grad()
        ((losses[0] + losses[1]) / 2).backward()
        sgd.step()
    for name, value in reference.state_dict().items():
        for record in (first, second):
            torch.testing.assert_close(
                record["parameters"][name], value, rtol=1e-5, atol=1e-6
            )
    # the agent got the first replica's parameters
    with system.model.inference_model.unwrap() as module:
        agent = module.state_dict()
    final = find_latest_state(tmp_path / "states")
    assert final is not None
    saved = torch.load(final / "models" / "linear.pt")
    for name in saved:
        assert torch.equal(agent[name], saved[name])


def _load(path: Path) -> dict[str, Any]:
    return torch.load(path)
