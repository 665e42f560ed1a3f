"""training="process" with a seed: each training process seeds its own generators."""

import random
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pamiq_core import Interaction, LaunchConfig, launch, time
from pamiq_core.runtime.group_runner import group_seed as process_seed
from pamiq_core.runtime.seam import TrainingGroup
from pamiq_core.seeding import derive_seed
from pamiq_core.state_persistence import find_latest_state, load_pickle

sys.path.insert(0, str(Path(__file__).parents[1]))
from runtime.lockstep_system import (
    DrawingTrainer,
    NoisyAgent,
    RandomWalk,
    build,
    follow_the_real_clocks,
)
from runtime.running import run_until, runs


@pytest.fixture(autouse=True)
def restore_global_time() -> Iterator[None]:
    yield
    time.resume()
    time.set_time_scale(1.0)
    follow_the_real_clocks()


def draws_in_a_training_process(states: Path, seed: int) -> tuple[float, ...]:
    """Run until the trainer has trained once (its process may take seconds to
    start on a loaded machine), then read the draws from the final snapshot."""
    system = build()

    def launch_drawing(**config: Any) -> None:
        launch(
            Interaction(NoisyAgent(), RandomWalk()),
            system["models"],
            system["buffers"],
            {"drawing": DrawingTrainer()},
            LaunchConfig(states_dir=states, training="process", seed=seed, **config),
        )

    run_until(launch_drawing, lambda port: runs(port, "drawing") > 0, "a training run")
    final = find_latest_state(states)
    assert final is not None
    draws = load_pickle(final / "trainers" / "drawing" / "draws.pkl")
    assert draws is not None, "the trainer never trained"
    return draws


@pytest.mark.timeout(300)
def test_a_training_process_draws_from_generators_seeded_from_the_launch_seed(
    tmp_path: Path,
) -> None:
    draws = draws_in_a_training_process(tmp_path / "a", seed=12)
    group_seed = process_seed(12, TrainingGroup(0, ("drawing",), ("gain",), ()))
    assert group_seed is not None
    np.random.seed(group_seed)
    assert draws == (
        random.Random(group_seed).random(),
        float(np.random.random()),
        random.Random(derive_seed(12, "trainers/drawing")).random(),
    )
