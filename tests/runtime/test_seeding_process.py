"""training="process" with a seed: each training process seeds its own generators."""

import random
import sys
from collections.abc import Iterator
from pathlib import Path

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


@pytest.fixture(autouse=True)
def restore_global_time() -> Iterator[None]:
    yield
    time.resume()
    time.set_time_scale(1.0)
    follow_the_real_clocks()


def draws_in_a_training_process(states: Path, seed: int) -> tuple[float, ...]:
    system = build()
    launch(
        Interaction(NoisyAgent(), RandomWalk()),
        system["models"],
        system["buffers"],
        {"drawing": DrawingTrainer()},
        LaunchConfig(
            states_dir=states,
            training="process",
            seed=seed,
            max_uptime=1.0,
            web_api_address=None,
        ),
    )
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
