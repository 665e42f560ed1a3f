import pickle

import numpy as np
import pytest

from pamiq_core.tracking import HParamsRecord, ScalarRecord, flatten_hparams


def test_nested_hparams_are_flattened_with_slashes() -> None:
    flat = flatten_hparams({"optimizer": {"lr": 0.1, "betas": {"b1": 0.9}}, "seed": 3})
    assert flat == {"optimizer/lr": 0.1, "optimizer/betas/b1": 0.9, "seed": 3}


def test_hparam_values_become_storable_types() -> None:
    flat = flatten_hparams(
        {
            "flag": True,
            "name": "dqn",
            "np_int": np.int64(7),
            "np_float": np.float32(0.5),
            "layers": [64, 64],
            "nothing": None,
        }
    )
    assert flat == {
        "flag": True,
        "name": "dqn",
        "np_int": 7,
        "np_float": 0.5,
        "layers": "[64, 64]",
        "nothing": "None",
    }
    assert type(flat["np_int"]) is int
    assert type(flat["np_float"]) is float


def test_a_prefix_is_put_before_every_name() -> None:
    assert flatten_hparams({"a": {"b": 1}}, "trainers/dqn/") == {"trainers/dqn/a/b": 1}


def test_a_key_that_is_not_a_string_is_refused_with_its_path() -> None:
    with pytest.raises(TypeError, match=r"strings, got 3 \(int\) under 'optimizer/'"):
        flatten_hparams({"optimizer": {3: "x"}})


def test_records_are_small_plain_tuples_that_pickle() -> None:
    record = ScalarRecord("trainers/dqn/loss", 0.25, 7, 1.7e9)
    assert pickle.loads(pickle.dumps(record)) == record
    assert tuple(record) == ("trainers/dqn/loss", 0.25, 7, 1.7e9)
    assert len(pickle.dumps(tuple(record))) < 64
    hparams = HParamsRecord({"lr": 0.1}, 1.7e9)
    assert pickle.loads(pickle.dumps(hparams)) == hparams
