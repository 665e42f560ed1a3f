"""pamiq_core.testing.run_lockstep: run a system for some steps in tests, then look."""

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pamiq_core import FixedIntervalInteraction, time
from pamiq_core.state_persistence import is_complete_state
from pamiq_core.testing import LockstepRun, LoggedScalar, run_lockstep

sys.path.insert(0, str(Path(__file__).parent))
from runtime.lockstep_system import (
    GainModel,
    build,
    fingerprint,
    follow_the_real_clocks,
)


@pytest.fixture(autouse=True)
def restore_global_time() -> Iterator[None]:
    yield
    time.resume()
    time.set_time_scale(1.0)
    follow_the_real_clocks()


def run(steps: int, **options: object) -> LockstepRun:
    return run_lockstep(**build(), steps=steps, **options)  # type: ignore[arg-type]


def as_system(result: LockstepRun) -> dict[str, object]:
    return {
        "interaction": result.interaction,
        "models": result.models,
        "buffers": result.buffers,
        "trainers": result.trainers,
    }


def test_runs_exactly_the_steps_asked_and_returns_the_components() -> None:
    system = build()
    result = run_lockstep(**system, steps=40, train_every=2)
    assert result.interaction is system["interaction"]
    assert result.models["gain"] is system["models"]["gain"]
    assert isinstance(result.models["gain"], GainModel)
    assert system["interaction"].agent.steps == 40
    assert result.time == pytest.approx(4.0)  # 40 unpaced steps of 0.1 s
    assert result.state_path is None  # no states_dir: nothing kept


def test_the_logged_scalars_come_back_in_order_without_wall_times() -> None:
    result = run(5)
    xs = [s for s in result.scalars if s.name == "agent/x"]
    assert [s.step for s in xs] == [0, 1, 2, 3, 4]  # steps completed before
    assert all(isinstance(s, LoggedScalar) for s in result.scalars)


def test_two_calls_with_the_same_seed_give_the_same_system() -> None:
    first, second = run(300, seed=4), run(300, seed=4)
    assert fingerprint(as_system(first)) == fingerprint(as_system(second))
    assert first.scalars == second.scalars


def test_a_run_resumed_from_its_state_path_equals_a_longer_run(tmp_path: Path) -> None:
    whole = run(250, states_dir=tmp_path / "whole")
    first = run(100, states_dir=tmp_path / "parts")
    assert first.state_path is not None
    assert is_complete_state(first.state_path)
    rest = run(150, states_dir=tmp_path / "parts", saved_state_path=first.state_path)
    assert fingerprint(as_system(rest)) == fingerprint(as_system(whole))
    assert first.scalars + rest.scalars == whole.scalars


def test_other_launch_config_fields_pass_through() -> None:
    system = build()
    interaction = FixedIntervalInteraction.with_sleep_adjustor(
        system["interaction"].agent, system["interaction"].environment, interval=1.0
    )
    result = run_lockstep(
        interaction,
        system["models"],
        system["buffers"],
        system["trainers"],
        steps=100,
        config={"max_uptime": 9.5},
    )
    assert system["interaction"].agent.steps == 10  # stopped by max_uptime first
    assert result.time == pytest.approx(10.0, abs=1e-9)


@pytest.mark.parametrize("steps", [-1, 2.5, True])
def test_steps_must_be_a_non_negative_int(steps: object) -> None:
    with pytest.raises(ValueError, match=r"steps=\.\.\.\) must be an int >= 0"):
        run_lockstep(**build(), steps=steps)  # type: ignore[arg-type]


def test_unknown_config_keys_are_refused() -> None:
    with pytest.raises(TypeError, match="max_uptim"):
        run_lockstep(**build(), steps=1, config={"max_uptim": 1.0})


def test_an_error_in_the_system_is_raised() -> None:
    system = build()
    del system["buffers"]["observations"]  # the agent asks for it when attached
    with pytest.raises(KeyError, match="observations"):
        run_lockstep(**system, steps=1)
