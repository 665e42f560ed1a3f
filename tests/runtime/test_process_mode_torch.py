"""Process mode with torch: parameters reach the agent through shared memory."""

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from pamiq_core import time
from pamiq_core.state_persistence import find_latest_state

sys.path.insert(0, str(Path(__file__).parent))
from torch_system import System


@pytest.fixture(autouse=True)
def restore_global_time() -> Iterator[None]:
    yield
    time.resume()
    time.set_time_scale(1.0)


def test_syncs_reach_the_agent_through_shared_memory(tmp_path: Path) -> None:
    system = System()
    before = system.model.model.weight.detach().clone()
    # (the first optimizer step imports torch's compiler stack: a second or more)
    system.launch(states_dir=tmp_path, max_uptime=6.0, training="process")
    versions = system.agent.versions
    assert all(system.agent.shared)  # the agent's copies live in shared memory
    assert versions == sorted(versions)  # never goes back
    assert len(set(versions)) > 3  # several syncs reached the agent
    with system.model.inference_model.unwrap() as module:
        learnt = module.weight.detach().clone()
    assert not torch.equal(learnt, before)
    # the agent's copy is what the training process saved last
    final = find_latest_state(tmp_path)
    assert final is not None
    saved = torch.load(final / "models" / "linear.pt")
    assert torch.equal(saved["weight"], learnt)
    # the model here never trained: training happened in the other process
    assert torch.equal(system.model.model.weight.detach(), before)


def test_it_learns(tmp_path: Path) -> None:
    system = System()
    with system.model.inference_model.unwrap() as module:
        untrained = float((module.weight.detach() - 2.0).abs().max())
    system.launch(states_dir=tmp_path, max_uptime=6.0, training="process")
    with system.model.inference_model.unwrap() as module:
        error = float((module.weight.detach() - 2.0).abs().max())
    assert error < untrained / 2, (untrained, error)
