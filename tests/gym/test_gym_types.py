"""The dataclasses and aliases exchanged between GymEnvironment and GymAgent."""

import dataclasses
from typing import Any, get_args, get_origin

import pytest
from typing_extensions import TypeAliasType

from pamiq_core.gym import types
from pamiq_core.gym.types import EnvOutput, EnvReset, EnvStep, GymAction, GymObs


def make_step(*, terminated: bool = False, truncated: bool = False) -> EnvStep[int]:
    return EnvStep(
        obs=1, reward=0.5, terminated=terminated, truncated=truncated, info={}
    )


@pytest.mark.parametrize(
    ("terminated", "truncated", "done"),
    [
        (False, False, False),
        (True, False, True),
        (False, True, True),
        (True, True, True),
    ],
)
def test_step_is_done_when_terminated_or_truncated(
    terminated: bool, truncated: bool, done: bool
) -> None:
    assert make_step(terminated=terminated, truncated=truncated).done is done


def test_fields_in_order() -> None:
    def names(cls: type) -> list[str]:
        return [field.name for field in dataclasses.fields(cls)]

    assert names(EnvReset) == ["obs", "info"]
    assert names(EnvStep) == ["obs", "reward", "terminated", "truncated", "info"]
    assert names(GymAction) == ["action", "need_reset"]


@pytest.mark.parametrize(
    "value",
    [EnvReset(0, {}), make_step(), GymAction(1, need_reset=False)],
    ids=["reset", "step", "action"],
)
def test_dataclasses_are_frozen(value: Any) -> None:
    first_field = dataclasses.fields(value)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(value, first_field, 2)


def test_done_is_not_a_field() -> None:
    assert "done" not in dataclasses.asdict(make_step())


def test_dataclasses_are_subscriptable_at_run_time() -> None:
    assert get_origin(EnvReset[int]) is EnvReset
    assert get_origin(EnvStep[int]) is EnvStep
    assert get_origin(GymAction[int]) is GymAction
    assert EnvReset[int](3, {}) == EnvReset(3, {})


def test_aliases_are_generic_type_aliases() -> None:
    for alias in (EnvOutput, GymObs):
        assert isinstance(alias, TypeAliasType)
        assert len(alias.__type_params__) == 1
    assert EnvOutput.__name__ == "EnvOutput"
    assert GymObs.__name__ == "GymObs"
    assert types.EnvOutput is EnvOutput


def test_aliases_are_subscriptable_at_run_time() -> None:
    assert get_origin(GymObs[int]) is GymObs
    assert get_args(GymObs[int]) == (int,)
    assert get_origin(EnvOutput[str]) is EnvOutput


def test_alias_values_name_the_observation_shapes() -> None:
    (t,) = EnvOutput.__type_params__
    assert set(get_args(EnvOutput.__value__)) == {EnvReset[t], EnvStep[t]}
    (t,) = GymObs.__type_params__
    assert set(get_args(GymObs.__value__)) == {
        EnvOutput[t],
        tuple[EnvStep[t], EnvReset[t]],
    }
