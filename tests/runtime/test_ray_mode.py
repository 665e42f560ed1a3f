"""training="ray": the training side runs in Ray actors, on a real two-node cluster.

One cluster for the whole module: a head node (the driver's) and a worker node that
offers the custom resource ``trainer_box``, on which the groups are placed.
"""

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import ray
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
from ray_cluster import check_loopback, cluster_fixture
from running import free_port, metrics, run_until_trained

from eventually import eventually
from process_system import Consumer, System

ON_BOX = RayConfig(groups=[RayGroup({"resources": {"trainer_box": 1}})])
RAY: dict[str, Any] = {"training": "ray", "ray": ON_BOX}


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    yield from cluster_fixture([{"num_cpus": 2, "resources": {"trainer_box": 1}}])


@pytest.fixture(autouse=True)
def restore_global_time(cluster: Cluster) -> Iterator[None]:
    yield
    time.resume()
    time.set_time_scale(1.0)


@pytest.fixture
def states(tmp_path: Path) -> Path:
    return tmp_path / "states"


def snapshots(states: Path) -> list[Path]:
    return sorted(p for p in states.iterdir() if is_complete_state(p))


def consumer_state(snapshot: Path) -> tuple[int, list[int], int]:
    return load_pickle(snapshot / "trainers" / "consumer" / "consumer.pkl")


class NodeReporter(Consumer):
    """Remembers the Ray node it trained on."""

    def train(self) -> None:
        super().train()
        self.node = ray.get_runtime_context().get_node_id()

    def save_state(self, path: Path) -> None:
        super().save_state(path)
        (path / "node").write_text(self.node)


class TestEndToEnd:
    def test_the_group_trains_on_the_named_node_on_exactly_what_was_collected(
        self, cluster: Cluster, states: Path
    ) -> None:
        box = next(n for n in ray.nodes() if "trainer_box" in n["Resources"])
        system = System()
        system.trainer = NodeReporter()
        run_until_trained(system.launch, 20, states_dir=states, **RAY)
        final = find_latest_state(states)
        assert final is not None
        assert (final / "trainers" / "consumer" / "node").read_text() == box["NodeID"]
        runs, seen, pid = consumer_state(final)
        collected = load_pickle(final / "interaction" / "environment.pkl")
        assert collected == system.agent.steps > 50
        buffer = load_pickle(final / "data" / "numbers" / "buffer.pkl")
        assert list(buffer) == list(range(1, collected + 1))  # none lost or doubled
        assert seen == list(range(1, len(seen) + 1))  # trained on in order
        assert pid != os.getpid()
        assert runs > 1
        assert system.trainer.runs == runs  # taken back from the final snapshot

    def test_parameters_reach_the_agent_after_each_sync(
        self, cluster: Cluster, states: Path
    ) -> None:
        system = System()
        run_until_trained(system.launch, 20, states_dir=states, **RAY)
        assert len(system.agent.factors_seen) > 5
        final = find_latest_state(states)
        assert final is not None
        trained = load_pickle(final / "models" / "scale.pkl")
        assert trained >= max(system.agent.factors_seen)

    def test_a_snapshot_has_the_layout_of_thread_mode(
        self, cluster: Cluster, tmp_path: Path
    ) -> None:
        layouts = []
        for mode in ("thread", "ray"):
            states = tmp_path / mode
            options: dict[str, Any] = RAY if mode == "ray" else {"training": mode}
            run_until_trained(System().launch, 2, states_dir=states, **options)
            final = find_latest_state(states)
            assert final is not None
            layouts.append(sorted(str(p.relative_to(final)) for p in final.rglob("*")))
        assert layouts[0] == layouts[1]

    @pytest.mark.parametrize(
        ("first", "second"), [("thread", "ray"), ("ray", "process")]
    )
    def test_a_snapshot_of_one_mode_resumes_in_another(
        self, cluster: Cluster, states: Path, first: str, second: str
    ) -> None:
        def options(mode: str) -> dict[str, Any]:
            return RAY if mode == "ray" else {"training": mode}

        run_until_trained(System().launch, 5, states_dir=states, **options(first))
        saved = find_latest_state(states)
        assert saved is not None
        _, seen_before, _ = consumer_state(saved)
        assert seen_before
        run_until_trained(
            System().launch,
            consumer_state(saved)[0] + 5,  # runs continue from the saved count
            states_dir=states,
            saved_state_path="latest",
            **options(second),
        )
        final = find_latest_state(states)
        assert final is not None
        assert final != saved
        _, seen_after, _ = consumer_state(final)
        assert seen_after[: len(seen_before)] == seen_before
        assert seen_after == list(range(1, len(seen_after) + 1))
        assert len(seen_after) > len(seen_before)


class TestControl:
    def test_pause_resume_save_and_shutdown_over_the_web_api(
        self, cluster: Cluster, states: Path
    ) -> None:
        system = System()
        port = free_port()
        errors: list[BaseException] = []
        runner = threading.Thread(
            target=_run,
            args=(system, errors),
            kwargs={
                "states_dir": states,
                "web_api_address": ("localhost", port),
                **RAY,
            },
            daemon=True,
        )
        runner.start()
        url = f"http://localhost:{port}/api"
        eventually(lambda: metrics(port) is not None, timeout=120, what="the web API")
        eventually(
            lambda: metrics(port)["trainers"]["consumer"]["runs"] > 0,
            timeout=60,
            what="a run",
        )
        group = metrics(port)["groups"]["training[consumer]"]
        assert group["status"] == "running"
        assert group["where"] == "127.0.0.1"
        assert httpx.post(f"{url}/pause", timeout=30).is_success
        eventually(
            lambda: metrics(port)["system"]["status_name"] == "paused", what="paused"
        )
        paused = metrics(port)
        assert httpx.post(f"{url}/save-state", timeout=60).is_success
        eventually(lambda: len(snapshots(states)) == 1, what="a snapshot")
        again = metrics(port)
        assert (
            again["trainers"]["consumer"]["runs"]
            == paused["trainers"]["consumer"]["runs"]
        )
        assert again["inference"]["steps"] == paused["inference"]["steps"]
        assert httpx.post(f"{url}/resume", timeout=30).is_success
        runs = paused["trainers"]["consumer"]["runs"]
        eventually(
            lambda: metrics(port)["trainers"]["consumer"]["runs"] > runs,
            what="runs after resume",
        )
        now = metrics(port)
        assert now["buffers"]["numbers"]["size"] > 0
        assert now["models"]["scale"]["syncs"] > 0
        group = now["groups"]["training[consumer]"]
        assert group["items_sent"] > 0
        assert group["items_dropped"] == 0
        assert group["parameter_updates"] > 0
        assert httpx.post(f"{url}/shutdown", timeout=30).is_success
        runner.join(timeout=60)
        assert not runner.is_alive()
        assert errors == []
        [paused_snapshot, _final] = snapshots(states)
        _, seen, _ = consumer_state(paused_snapshot)
        count = load_pickle(paused_snapshot / "interaction" / "environment.pkl")
        buffer = load_pickle(paused_snapshot / "data" / "numbers" / "buffer.pkl")
        assert list(buffer) == list(range(1, count + 1))  # consistent across the seam
        assert seen == list(range(1, len(seen) + 1))

    def test_pamiq_time_follows_the_driver(
        self, cluster: Cluster, states: Path
    ) -> None:
        run_until_trained(System().launch, 10, states_dir=states, time_scale=4.0, **RAY)
        final = find_latest_state(states)
        assert final is not None
        previous = float(
            (final / "trainers" / "consumer" / "previous_training_time").read_text()
        )
        clock = load_pickle(final / "time.pkl")["scaled_anchor_time"]
        assert clock - 2.0 < previous <= clock


def _run(system: System, errors: list[BaseException], **config: Any) -> None:
    try:
        system.launch(**config)
    except BaseException as e:
        errors.append(e)


class TestFailures:
    def test_a_trainer_error_surfaces_with_its_type_and_the_actor_traceback(
        self, cluster: Cluster, states: Path
    ) -> None:
        system = System(fail_at=3)
        with pytest.raises(ValueError, match="trainer failed at run 3") as info:
            system.launch(states_dir=states, **RAY)
        notes = "\n".join(info.value.__notes__)
        assert "Raised in the Ray actor training[consumer]" in notes
        assert "process_system.py" in notes  # the actor's traceback
        final = find_latest_state(states)
        assert final is not None  # the final save kept every part
        manifest = read_manifest(final)
        assert manifest is not None
        assert "skipped" not in manifest

    def test_a_killed_actor_stops_the_system_and_is_named(
        self, cluster: Cluster, states: Path
    ) -> None:
        system = System(kill_at=3)
        with pytest.raises(TrainingActorError) as info:
            system.launch(states_dir=states, **RAY)
        message = str(info.value)
        assert "training[consumer]" in message
        assert "['consumer']" in message
        assert "died" in message
        [final] = snapshots(states)
        manifest = read_manifest(final)
        assert manifest is not None
        assert sorted(manifest["skipped"]) == ["data", "models", "trainers"]
        assert "training[consumer]" in manifest["skipped"]["models"]
        assert "interaction" in manifest["components"]

    def test_a_shutdown_while_the_actor_starts_saves_what_it_was_sent(
        self, cluster: Cluster, states: Path
    ) -> None:
        System().launch(states_dir=states, max_uptime=0.0, **RAY)
        final = find_latest_state(states)
        assert final is not None  # complete: nothing was left out
        runs, seen, _ = consumer_state(final)
        assert (runs, seen) == (0, [])

    def test_an_unpicklable_trainer_is_named_before_anything_runs(
        self, cluster: Cluster, states: Path
    ) -> None:
        system = System()
        system.trainer.lock = threading.Lock()  # type: ignore[attr-defined]
        with pytest.raises(
            TypeError, match=r"trainer 'consumer'.*training='ray'.*attribute 'lock'"
        ):
            system.launch(states_dir=states, **RAY)
        assert system.agent.steps == 0

    def test_options_that_ray_refuses_are_named_before_anything_runs(
        self, cluster: Cluster, states: Path
    ) -> None:
        config = RayConfig(groups=[RayGroup({"num_cpu": 1})])
        with pytest.raises(ValueError, match=r"training\[consumer\].*num_cpu"):
            System().launch(states_dir=states, training="ray", ray=config)


def test_every_ray_node_and_server_is_on_loopback(cluster: Cluster) -> None:
    check_loopback()  # the addresses Ray reports for its nodes and its GCS
    try:
        listing = subprocess.run(
            ["ss", "-ltnpH"], capture_output=True, text=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        listing = ""  # no ss here: the reported addresses above must do
    ray_lines = [
        line
        for line in listing.splitlines()
        if any(name in line for name in ('"raylet"', '"gcs_server"', '"ray::'))
    ]
    for line in ray_lines:
        local = line.split()[3]
        assert local.startswith(("127.0.0.1:", "[::ffff:127.0.0.1]:")), line
