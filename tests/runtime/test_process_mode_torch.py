"""Process mode with torch: parameters reach the agent through shared memory."""

import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import torch

from pamiq_core import time
from pamiq_core.state_persistence import find_latest_state

sys.path.insert(0, str(Path(__file__).parents[1]))
sys.path.insert(0, str(Path(__file__).parent))
from torch_system import System

from eventually import eventually


@pytest.fixture(autouse=True)
def restore_global_time() -> Iterator[None]:
    yield
    time.resume()
    time.set_time_scale(1.0)


def run_until(system: System, states: Path, syncs: int) -> None:
    """Run in process mode until the agent has seen ``syncs`` syncs, then stop.

    The first optimizer step imports torch's compiler stack, a second or more on a
    loaded machine, so the run waits for what it needs instead of a fixed time.
    """
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    runner = threading.Thread(
        target=system.launch,
        kwargs={
            "states_dir": states,
            "training": "process",
            "web_api_address": ("localhost", port),
        },
    )
    runner.start()
    try:
        eventually(
            lambda: len(set(system.agent.versions)) > syncs,
            timeout=120,
            what=f"{syncs} syncs to reach the agent",
        )
    finally:
        eventually(lambda: _shutdown(port), what="the shutdown to be accepted")
        runner.join(timeout=120)


def _shutdown(port: int) -> bool:
    try:
        return httpx.post(
            f"http://localhost:{port}/api/shutdown", timeout=10
        ).is_success
    except httpx.HTTPError:
        return False


def test_syncs_reach_the_agent_through_shared_memory(tmp_path: Path) -> None:
    system = System()
    before = system.model.model.weight.detach().clone()
    run_until(system, tmp_path, syncs=5)
    versions = system.agent.versions
    assert all(system.agent.shared)  # the agent's copies live in shared memory
    assert versions == sorted(versions)  # never goes back
    with system.model.inference_model.unwrap() as module:
        learnt = module.weight.detach().clone()
    assert not torch.equal(learnt, before)
    # the agent's copy is what the training process saved last
    final = find_latest_state(tmp_path)
    assert final is not None
    saved = torch.load(final / "models" / "linear.pt")
    assert torch.equal(saved["weight"], learnt)
    # it trained in the other process; the final snapshot brought it back here
    assert torch.equal(system.model.model.weight.detach(), saved["weight"])


def test_it_learns(tmp_path: Path) -> None:
    system = System()
    with system.model.inference_model.unwrap() as module:
        untrained = float((module.weight.detach() - 2.0).abs().max())
    run_until(system, tmp_path, syncs=60)
    with system.model.inference_model.unwrap() as module:
        error = float((module.weight.detach() - 2.0).abs().max())
    assert error < untrained / 2, (untrained, error)
