"""Ray mode when a node is lost: stop cleanly by default, or restart the group.

Its own cluster, since the tests remove nodes: a head node (the driver's) and a
worker node with the custom resource ``trainer_box`` where the group runs; a test
that removes the worker adds a fresh one with the same resource.
"""

import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from ray.cluster_utils import Cluster

from pamiq_core import time
from pamiq_core.runtime import RayConfig, RayGroup
from pamiq_core.runtime.ray_side import TrainingActorError
from pamiq_core.state_persistence import (
    find_latest_state,
    is_complete_state,
    load_pickle,
    read_manifest,
)

sys.path.insert(0, str(Path(__file__).parents[1]))
sys.path.insert(0, str(Path(__file__).parent))
from ray_cluster import cluster_fixture
from running import free_port, metrics

from eventually import eventually
from process_system import System

BOX = {"num_cpus": 2, "resources": {"trainer_box": 1}}
ON_BOX = [RayGroup({"resources": {"trainer_box": 1}})]
GROUP = "training[consumer]"


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    yield from cluster_fixture([BOX])


@pytest.fixture(autouse=True)
def restore_global_time(cluster: Cluster) -> Iterator[None]:
    yield
    time.resume()
    time.set_time_scale(1.0)


def box_node(cluster: Cluster) -> Any:
    [node] = cluster.worker_nodes  # the only worker offers trainer_box
    return node


class Running:
    """A system launched in a thread with its web API, for a test to act on."""

    def __init__(self, states: Path, config: RayConfig) -> None:
        self.system = System()
        self.errors: list[BaseException] = []
        port = self.port = free_port()
        self.url = f"http://localhost:{port}/api"
        self.thread = threading.Thread(
            target=self._run,
            kwargs={
                "states_dir": states,
                "web_api_address": ("localhost", port),
                "training": "ray",
                "ray": config,
            },
            daemon=True,
        )
        self.thread.start()
        eventually(lambda: self.metrics() is not None, timeout=120, what="the API")

    def _run(self, **config: Any) -> None:
        try:
            self.system.launch(**config)
        except BaseException as e:
            self.errors.append(e)

    def metrics(self) -> Any:
        return metrics(self.port)

    def group(self) -> dict[str, Any]:
        return self.metrics()["groups"][GROUP]

    def runs(self) -> int:
        return self.metrics()["trainers"]["consumer"]["runs"]

    def post(self, command: str) -> None:
        assert httpx.post(f"{self.url}/{command}", timeout=60).is_success

    def join(self) -> None:
        self.thread.join(timeout=120)
        assert not self.thread.is_alive()


def test_a_lost_node_stops_the_system_naming_the_group_and_the_cause(
    cluster: Cluster, tmp_path: Path
) -> None:
    states = tmp_path / "states"
    running = Running(states, RayConfig(groups=ON_BOX))
    eventually(lambda: running.runs() > 2, timeout=60, what="training runs")
    cluster.remove_node(box_node(cluster))
    try:
        running.join()
    finally:
        cluster.add_node(**BOX)
    [error] = running.errors
    assert isinstance(error, TrainingActorError)
    assert GROUP in str(error)
    assert "died" in str(error)
    assert "node" in str(error).lower()  # Ray's cause: the node it was on died
    [final] = [p for p in states.iterdir() if is_complete_state(p)]
    manifest = read_manifest(final)
    assert manifest is not None
    assert sorted(manifest["skipped"]) == ["data", "models", "trainers"]
    assert GROUP in manifest["skipped"]["models"]


def test_a_restarted_group_comes_back_from_the_newest_snapshot_while_the_agent_acts(
    cluster: Cluster, tmp_path: Path
) -> None:
    states = tmp_path / "states"
    config = RayConfig(groups=ON_BOX, on_failure="restart")
    running = Running(states, config)
    eventually(lambda: running.runs() > 2, timeout=60, what="training runs")
    running.post("save-state")
    eventually(lambda: find_latest_state(states) is not None, what="a snapshot")
    snapshot = find_latest_state(states)
    assert snapshot is not None
    _, seen_saved, _ = load_pickle(snapshot / "trainers" / "consumer" / "consumer.pkl")

    cluster.remove_node(box_node(cluster))
    eventually(lambda: running.group()["status"] == "down", what="the group down")
    assert running.group()["restarts"] == 1
    steps = running.metrics()["inference"]["steps"]
    eventually(
        lambda: running.metrics()["inference"]["steps"] > steps + 50,
        what="the agent acting while the group is down",
    )
    assert running.group()["status"] == "down"  # no node offers trainer_box

    cluster.add_node(**BOX)
    eventually(
        lambda: running.group()["status"] == "running", timeout=120, what="it back"
    )
    runs = running.runs()
    eventually(lambda: running.runs() > runs, timeout=60, what="runs after restart")
    running.post("shutdown")
    running.join()
    assert running.errors == []
    final = find_latest_state(states)
    assert final is not None
    assert final != snapshot
    _, seen_final, _ = load_pickle(final / "trainers" / "consumer" / "consumer.pkl")
    # It went on from the snapshot: what it had seen then, and more since.
    assert seen_final[: len(seen_saved)] == seen_saved
    assert len(seen_final) > len(seen_saved)
