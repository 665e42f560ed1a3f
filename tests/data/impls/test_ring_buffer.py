import sys
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pamiq_core.data import DataBuffer, DataUser, impls
from pamiq_core.data.impls import DictRingBuffer, RingBuffer
from pamiq_core.data.impls import ring_buffer as module
from pamiq_core.data.impls.ring_buffer import FieldSpec


def filled(max_size: int, count: int, shape: tuple[int, ...] = ()) -> RingBuffer:
    """A float64 buffer holding items whose every element is their index."""
    buffer = RingBuffer(max_size, shape, np.float64, seed=0)
    for i in range(count):
        buffer.add(np.full(shape, i))
    return buffer


def test_exports() -> None:
    assert impls.RingBuffer is module.RingBuffer is RingBuffer
    assert impls.DictRingBuffer is module.DictRingBuffer is DictRingBuffer


def test_importing_the_package_does_not_import_torch() -> None:
    import subprocess

    code = "import pamiq_core.data.impls, sys; print('torch' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


class TestConstruction:
    def test_is_a_data_buffer_whose_queue_bound_is_max_size(self) -> None:
        buffer = RingBuffer(8, (3,))
        assert isinstance(buffer, DataBuffer)
        assert buffer.max_size == 8
        assert buffer.max_queue_size == 8
        assert buffer.shape == (3,)
        assert buffer.dtype == np.float32
        assert len(buffer) == 0

    def test_subscriptable_at_run_time(self) -> None:
        assert type(RingBuffer[np.ndarray](4)) is RingBuffer

    @pytest.mark.parametrize("size", [0, -1])
    def test_max_size_must_be_positive(self, size: int) -> None:
        with pytest.raises(ValueError, match="max_size must be positive"):
            RingBuffer(size)

    def test_dtype_must_be_numeric(self) -> None:
        with pytest.raises(TypeError, match="not numeric"):
            RingBuffer(4, (), object)
        with pytest.raises(TypeError, match="not numeric"):
            RingBuffer(4, (), "U3")

    def test_shape_must_be_non_negative_ints(self) -> None:
        with pytest.raises(ValueError, match="must not be negative"):
            RingBuffer(4, (2, -1))
        with pytest.raises(TypeError, match="sequence of ints"):
            RingBuffer(4, 3)  # pyright: ignore[reportArgumentType]

    def test_device_needs_the_torch_backend(self) -> None:
        with pytest.raises(ValueError, match="backend='torch'"):
            RingBuffer(4, backend="numpy", device="cpu")  # pyright: ignore[reportCallIssue, reportArgumentType]

    def test_unknown_backend(self) -> None:
        with pytest.raises(ValueError, match="backend must be"):
            RingBuffer(4, backend="jax")  # pyright: ignore[reportCallIssue, reportArgumentType]


class TestAddAndGetData:
    def test_get_data_returns_items_oldest_first_as_one_array(self) -> None:
        buffer = filled(5, 3, (2,))
        data = buffer.get_data()
        assert isinstance(data, np.ndarray)
        assert data.shape == (3, 2)
        assert data.dtype == np.float64
        np.testing.assert_array_equal(data[:, 0], [0, 1, 2])

    def test_wrap_around_keeps_the_newest_in_chronological_order(self) -> None:
        buffer = filled(4, 10)
        assert len(buffer) == 4
        np.testing.assert_array_equal(buffer.get_data(), [6, 7, 8, 9])

    @pytest.mark.parametrize("count", range(0, 13))
    def test_chronological_for_every_fill_level(self, count: int) -> None:
        buffer = filled(5, count)
        expected = list(range(max(0, count - 5), count))
        np.testing.assert_array_equal(buffer.get_data(), expected)

    def test_get_data_is_a_copy(self) -> None:
        buffer = filled(4, 2)
        data = buffer.get_data()
        data[:] = -1
        np.testing.assert_array_equal(buffer.get_data(), [0, 1])

    def test_add_copies_the_callers_array(self) -> None:
        buffer = RingBuffer(4, (3,), np.float32)
        item = np.zeros(3, dtype=np.float32)
        buffer.add(item)
        item[:] = 7  # an agent reusing its observation array
        buffer.add(item)
        np.testing.assert_array_equal(buffer.get_data(), [[0, 0, 0], [7, 7, 7]])

    def test_accepts_scalars_and_lists(self) -> None:
        scalars = RingBuffer(3, (), np.int64)
        scalars.add(5)
        lists = RingBuffer(3, (2,), np.float32)
        lists.add([1.5, 2.5])
        assert scalars.get_data().tolist() == [5]
        assert lists.get_data().tolist() == [[1.5, 2.5]]

    def test_casts_that_keep_or_raise_the_kind_are_allowed(self) -> None:
        buffer = RingBuffer(3, (2,), np.float32)
        buffer.add(np.array([0.5, 1.0], dtype=np.float64))
        buffer.add(np.array([1, 2], dtype=np.int64))
        buffer.add(np.array([True, False]))
        assert buffer.get_data().tolist() == [[0.5, 1.0], [1, 2], [1, 0]]
        assert buffer.get_data().dtype == np.float32

    def test_python_ints_fit_unsigned_fields(self) -> None:
        pixels = RingBuffer(2, (2,), np.uint8)
        pixels.add([0, 255])
        assert pixels.get_data().tolist() == [[0, 255]]

    def test_complex_into_float_is_a_type_error(self) -> None:
        with pytest.raises(TypeError, match="changing kind"):
            RingBuffer(2, (), np.float64).add(1j)

    def test_non_numeric_items_are_a_type_error(self) -> None:
        with pytest.raises(TypeError, match="dtype <U"):
            RingBuffer(2, (), np.float64).add("a")

    def test_wrong_shape_is_a_value_error_naming_both_shapes(self) -> None:
        buffer = RingBuffer(3, (2,), np.float32)
        with pytest.raises(
            ValueError, match=r"shape \(2,\), got an item of shape \(3,\)"
        ):
            buffer.add(np.zeros(3))
        assert len(buffer) == 0

    def test_kind_changing_cast_is_a_type_error(self) -> None:
        buffer = RingBuffer(3, (), np.int32)
        with pytest.raises(TypeError, match="stores int32; an item of dtype float64"):
            buffer.add(1.5)
        assert len(buffer) == 0

    def test_works_as_a_data_users_buffer(self) -> None:
        user = DataUser(RingBuffer(3, (2,), np.float32))
        for i in range(4):
            user._collector.collect(np.full(2, i))
        np.testing.assert_array_equal(user.get_data()[:, 0], [1, 2, 3])


class TestSample:
    def test_shape_dtype_and_membership(self) -> None:
        buffer = filled(50, 80, (3,))
        batch = buffer.sample(64)
        assert batch.shape == (64, 3)
        assert batch.dtype == np.float64
        assert set(batch[:, 0].tolist()) <= set(range(30, 80))
        assert np.all(batch == batch[:, :1])  # rows are whole items

    def test_is_uniform_over_stored_items(self) -> None:
        buffer = filled(10, 25)
        batch = buffer.sample(20_000, rng=np.random.default_rng(1))
        values, counts = np.unique(batch, return_counts=True)
        np.testing.assert_array_equal(values, range(15, 25))
        assert counts.min() > 1_700  # expectation 2000 each

    def test_a_partly_filled_buffer_samples_only_stored_items(self) -> None:
        buffer = filled(100, 3)
        assert set(buffer.sample(500).tolist()) == {0.0, 1.0, 2.0}

    def test_rng_makes_it_reproducible(self) -> None:
        buffer = filled(20, 30)
        first = buffer.sample(10, rng=np.random.default_rng(5))
        second = buffer.sample(10, rng=np.random.default_rng(5))
        np.testing.assert_array_equal(first, second)

    def test_seed_makes_the_default_generator_reproducible(self) -> None:
        np.testing.assert_array_equal(
            filled(20, 30).sample(8), filled(20, 30).sample(8)
        )

    def test_without_replacement_items_are_distinct(self) -> None:
        buffer = filled(10, 10)
        batch = buffer.sample(10, replace=False)
        assert sorted(batch.tolist()) == list(range(10))
        with pytest.raises(ValueError, match="distinct"):
            buffer.sample(11, replace=False)

    def test_batch_is_a_copy(self) -> None:
        buffer = filled(4, 4)
        buffer.sample(4)[:] = -1
        np.testing.assert_array_equal(buffer.get_data(), [0, 1, 2, 3])

    def test_empty_buffer_cannot_be_sampled(self) -> None:
        with pytest.raises(ValueError, match="empty"):
            RingBuffer(4).sample(1)

    def test_zero_batch_and_negative_batch(self) -> None:
        assert RingBuffer(4, (2,)).sample(0).shape == (0, 2)
        with pytest.raises(ValueError, match="non-negative"):
            filled(4, 4).sample(-1)


class TestSampleSequences:
    def test_shape_is_batch_length_item(self) -> None:
        buffer = filled(20, 20, (2, 3))
        windows = buffer.sample_sequences(5, 4)
        assert windows.shape == (5, 4, 2, 3)

    @pytest.mark.parametrize("count", [7, 10, 13, 19, 20, 33])
    def test_windows_are_chronologically_contiguous_across_the_seam(
        self, count: int
    ) -> None:
        buffer = filled(10, count)
        oldest = count - len(buffer)
        windows = buffer.sample_sequences(2_000, 4, rng=np.random.default_rng(0))
        np.testing.assert_array_equal(np.diff(windows, axis=1), 1)
        assert windows.min() >= oldest
        assert windows.max() <= count - 1

    def test_every_possible_start_is_drawn_including_seam_crossers(self) -> None:
        buffer = filled(10, 17)  # storage rows hold 10..16 then 7..9: seam inside
        windows = buffer.sample_sequences(5_000, 3, rng=np.random.default_rng(0))
        starts = set(windows[:, 0].tolist())
        assert starts == set(range(7, 15))  # 7..14: all windows of 3 in 7..16

    def test_full_length_window_is_the_whole_history(self) -> None:
        buffer = filled(6, 9)
        windows = buffer.sample_sequences(3, 6)
        for window in windows:
            np.testing.assert_array_equal(window, buffer.get_data())

    @pytest.mark.parametrize("length", [0, 5])
    def test_length_must_fit_the_stored_items(self, length: int) -> None:
        with pytest.raises(ValueError, match="length must be between 1"):
            filled(10, 4).sample_sequences(2, length)

    def test_empty_buffer(self) -> None:
        with pytest.raises(ValueError, match="empty"):
            RingBuffer(4).sample_sequences(1, 1)


class TestState:
    def test_layout_is_an_npz_with_the_items_oldest_first(self, tmp_path: Path) -> None:
        buffer = filled(4, 6, (2,))
        buffer.save_state(tmp_path / "buffer")
        file = tmp_path / "buffer.npz"
        assert [p.name for p in tmp_path.iterdir()] == ["buffer.npz"]
        with np.load(file, allow_pickle=False) as archive:
            assert archive.files == ["data"]
            np.testing.assert_array_equal(archive["data"][:, 0], [2, 3, 4, 5])
            assert archive["data"].dtype == np.float64
        assert zipfile.is_zipfile(file)

    def test_round_trip_continues_where_it_left_off(self, tmp_path: Path) -> None:
        buffer = filled(4, 6)
        buffer.save_state(tmp_path / "buffer")
        restored = RingBuffer(4, (), np.float64)
        restored.load_state(tmp_path / "buffer")
        np.testing.assert_array_equal(restored.get_data(), [2, 3, 4, 5])
        restored.add(6.0)
        np.testing.assert_array_equal(restored.get_data(), [3, 4, 5, 6])

    def test_round_trip_of_a_partly_filled_buffer(self, tmp_path: Path) -> None:
        buffer = filled(4, 2)
        buffer.save_state(tmp_path / "buffer")
        restored = RingBuffer(4, (), np.float64)
        restored.load_state(tmp_path / "buffer")
        assert len(restored) == 2
        restored.add(2.0)
        np.testing.assert_array_equal(restored.get_data(), [0, 1, 2])

    def test_empty_round_trip(self, tmp_path: Path) -> None:
        RingBuffer(4, (3,)).save_state(tmp_path / "buffer")
        restored = RingBuffer(4, (3,))
        restored.load_state(tmp_path / "buffer")
        assert len(restored) == 0

    def test_load_into_a_smaller_buffer_keeps_the_newest(self, tmp_path: Path) -> None:
        filled(8, 8).save_state(tmp_path / "buffer")
        small = RingBuffer(3, (), np.float64)
        small.load_state(tmp_path / "buffer")
        np.testing.assert_array_equal(small.get_data(), [5, 6, 7])

    def test_load_refuses_a_different_shape_or_dtype(self, tmp_path: Path) -> None:
        filled(4, 2, (2,)).save_state(tmp_path / "buffer")
        with pytest.raises(ValueError, match="expects shape"):
            RingBuffer(4, (3,), np.float64).load_state(tmp_path / "buffer")
        with pytest.raises(ValueError, match="dtype"):
            RingBuffer(4, (2,), np.float32).load_state(tmp_path / "buffer")

    def test_saved_with_a_data_user(self, tmp_path: Path) -> None:
        user = DataUser(RingBuffer(4, (2,)))
        user._collector.collect([1.0, 2.0])
        user.save_state(tmp_path / "user")
        assert sorted(p.name for p in (tmp_path / "user").iterdir()) == [
            "buffer.npz",
            "timestamps.pkl",
        ]


FIELDS: dict[str, tuple[tuple[int, ...], Any]] = {
    "obs": ((3,), np.float32),
    "action": ((), np.int64),
}


def dict_filled(max_size: int, count: int) -> DictRingBuffer:
    buffer = DictRingBuffer(FIELDS, max_size, seed=0)
    for i in range(count):
        buffer.add({"obs": np.full(3, i), "action": i})
    return buffer


class TestDictRingBuffer:
    def test_describes_its_fields(self) -> None:
        buffer = DictRingBuffer(FIELDS, 5)
        assert buffer.max_size == buffer.max_queue_size == 5
        assert buffer.keys == {"obs", "action"}
        assert buffer.fields == {
            "obs": FieldSpec((3,), np.dtype(np.float32)),
            "action": FieldSpec((), np.dtype(np.int64)),
        }

    def test_accepts_field_specs(self) -> None:
        buffer = DictRingBuffer({"x": FieldSpec((2,), np.dtype(np.uint8))}, 2)
        buffer.add({"x": [1, 2]})
        assert buffer.get_data()["x"].dtype == np.uint8

    def test_needs_fields(self) -> None:
        with pytest.raises(ValueError, match="at least one field"):
            DictRingBuffer({}, 3)

    def test_get_data_per_field_oldest_first(self) -> None:
        data = dict_filled(4, 6).get_data()
        assert list(data) == ["obs", "action"]
        assert data["obs"].shape == (4, 3)
        assert data["obs"].dtype == np.float32
        np.testing.assert_array_equal(data["action"], [2, 3, 4, 5])
        np.testing.assert_array_equal(data["obs"][:, 0], [2, 3, 4, 5])

    def test_samples_are_aligned_across_fields(self) -> None:
        buffer = dict_filled(10, 25)
        batch = buffer.sample(100)
        np.testing.assert_array_equal(batch["obs"][:, 0], batch["action"])
        windows = buffer.sample_sequences(100, 5)
        assert windows["obs"].shape == (100, 5, 3)
        assert windows["action"].shape == (100, 5)
        np.testing.assert_array_equal(windows["obs"][..., 0], windows["action"])
        np.testing.assert_array_equal(np.diff(windows["action"], axis=1), 1)

    def test_mismatched_keys_use_the_dict_buffer_message(self) -> None:
        buffer = DictRingBuffer(FIELDS, 3)
        with pytest.raises(
            ValueError, match=r"^Data keys .* do not match expected keys"
        ):
            buffer.add({"obs": np.zeros(3)})

    def test_a_rejected_item_changes_nothing(self) -> None:
        buffer = dict_filled(3, 3)  # full: the next add overwrites the oldest row
        with pytest.raises(TypeError, match="Field 'action'"):
            buffer.add({"obs": np.full(3, 99), "action": 1.5})
        with pytest.raises(ValueError, match="Field 'obs'"):
            buffer.add({"obs": np.zeros(2), "action": 1})
        data = buffer.get_data()
        np.testing.assert_array_equal(data["obs"][:, 0], [0, 1, 2])
        np.testing.assert_array_equal(data["action"], [0, 1, 2])

    def test_copies_the_callers_dict_and_arrays(self) -> None:
        buffer = DictRingBuffer(FIELDS, 4)
        step = {"obs": np.zeros(3, dtype=np.float32), "action": 0}
        buffer.add(step)
        step["obs"][:] = 5
        step["action"] = 5
        buffer.add(step)
        data = buffer.get_data()
        np.testing.assert_array_equal(data["obs"][:, 0], [0, 5])
        np.testing.assert_array_equal(data["action"], [0, 5])

    def test_state_has_one_array_per_field_and_round_trips(
        self, tmp_path: Path
    ) -> None:
        dict_filled(4, 6).save_state(tmp_path / "buffer")
        with np.load(tmp_path / "buffer.npz") as archive:
            assert sorted(archive.files) == ["action", "obs"]
        restored = DictRingBuffer(FIELDS, 4)
        restored.load_state(tmp_path / "buffer")
        np.testing.assert_array_equal(restored.get_data()["action"], [2, 3, 4, 5])

    def test_field_names_that_are_numpy_keywords_round_trip(
        self, tmp_path: Path
    ) -> None:
        fields = {"file": ((), np.float32), "allow_pickle": ((), np.float32)}
        buffer = DictRingBuffer(fields, 2)
        buffer.add({"file": 1.0, "allow_pickle": 2.0})
        buffer.save_state(tmp_path / "buffer")
        restored = DictRingBuffer(fields, 2)
        restored.load_state(tmp_path / "buffer")
        assert restored.get_data()["allow_pickle"].tolist() == [2.0]

    def test_load_refuses_different_fields(self, tmp_path: Path) -> None:
        dict_filled(4, 2).save_state(tmp_path / "buffer")
        other = DictRingBuffer({"obs": ((3,), np.float32)}, 4)
        with pytest.raises(ValueError, match="holds fields"):
            other.load_state(tmp_path / "buffer")
