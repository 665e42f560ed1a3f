"""A real multi-node Ray cluster on loopback, one per test module that needs it.

``ray.cluster_utils.Cluster`` starts a head node and worker nodes as separate raylet
processes on this machine. With ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`` Ray keeps
every node on 127.0.0.1; :func:`check_loopback` makes sure of it, so that a change
of Ray version cannot make a test listen on the machine's outward address.
"""

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # before Ray's import

import ray
from ray._private import ray_constants
from ray.cluster_utils import Cluster

LOOPBACK = "127.0.0.1"

# Small and fast to notice a lost node: health checks every 0.5 s, dead after 3.
SYSTEM_CONFIG = {
    "health_check_initial_delay_ms": 0,
    "health_check_period_ms": 500,
    "health_check_failure_threshold": 3,
    "task_retry_delay_ms": 100,
}


def start_cluster(workers: list[dict[str, Any]]) -> Cluster:
    """A head node (1 CPU, no custom resources) and ``workers`` (add_node kwargs)."""
    assert not ray_constants.ENABLE_RAY_CLUSTER, (
        "Ray was imported before RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 was set: its "
        "nodes would listen on the machine's outward address. Set it before any "
        "import of ray (tests/conftest.py does)."
    )
    cluster = Cluster(
        initialize_head=True,
        head_node_args={
            "num_cpus": 1,
            "node_ip_address": LOOPBACK,
            "object_store_memory": 200 * 1024 * 1024,
            "_system_config": SYSTEM_CONFIG,
        },
    )
    for options in workers:
        cluster.add_node(
            node_ip_address=LOOPBACK,
            object_store_memory=200 * 1024 * 1024,
            **options,
        )
    cluster.wait_for_nodes()
    # The actors unpickle the tests' components: they import the tests' modules.
    tests = Path(__file__).parents[1]
    path = os.pathsep.join([str(tests), str(tests / "runtime")])
    ray.init(
        address=cluster.address,
        log_to_driver=True,
        runtime_env={"env_vars": {"PYTHONPATH": path}},
    )
    check_loopback()
    return cluster


def check_loopback() -> None:
    """Fail if any node of the running cluster has an address off loopback."""
    nodes = [n for n in ray.nodes() if n["Alive"]]
    addresses = {n["NodeManagerAddress"] for n in nodes}
    assert addresses == {LOOPBACK}, f"Ray nodes left loopback: {addresses}"
    gcs = ray.get_runtime_context().gcs_address
    assert gcs.startswith(f"{LOOPBACK}:"), f"Ray's GCS left loopback: {gcs}"


def stop_cluster(cluster: Cluster) -> None:
    ray.shutdown()
    cluster.shutdown()


def cluster_fixture(workers: list[dict[str, Any]]) -> Iterator[Cluster]:
    cluster = start_cluster(workers)
    try:
        yield cluster
    finally:
        stop_cluster(cluster)
