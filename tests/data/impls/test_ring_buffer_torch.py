from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from pamiq_core.data.impls import DictRingBuffer, RingBuffer


def torch_filled(
    max_size: int, count: int, shape: tuple[int, ...] = ()
) -> RingBuffer[torch.Tensor]:
    buffer = RingBuffer(max_size, shape, np.float32, backend="torch", seed=0)
    for i in range(count):
        buffer.add(torch.full(shape, float(i)))
    return buffer


class TestTorchBackend:
    def test_storage_and_results_are_tensors_of_the_matching_dtype(self) -> None:
        buffer = torch_filled(4, 6, (2,))
        data = buffer.get_data()
        assert isinstance(data, torch.Tensor)
        assert data.dtype == torch.float32
        assert data.device == torch.device("cpu")
        assert data[:, 0].tolist() == [2, 3, 4, 5]
        assert buffer.sample(8).shape == (8, 2)
        assert buffer.sample_sequences(3, 2).shape == (3, 2, 2)

    def test_windows_are_contiguous_across_the_seam(self) -> None:
        buffer = torch_filled(10, 17)
        windows = buffer.sample_sequences(500, 4, rng=np.random.default_rng(0))
        assert torch.all(windows.diff(dim=1) == 1)
        assert windows.min() >= 7

    def test_accepts_numpy_items_and_python_lists(self) -> None:
        buffer = RingBuffer(3, (2,), np.int64, backend="torch")
        buffer.add(np.array([1, 2], dtype=np.int32))
        buffer.add([3, 4])
        assert buffer.get_data().tolist() == [[1, 2], [3, 4]]
        assert buffer.get_data().dtype == torch.int64

    def test_add_copies_the_callers_tensor(self) -> None:
        buffer = RingBuffer(3, (2,), np.float32, backend="torch")
        item = torch.zeros(2)
        buffer.add(item)
        item += 5
        assert buffer.get_data().tolist() == [[0, 0]]

    def test_tensors_that_need_grad_are_stored_detached(self) -> None:
        buffer = RingBuffer(3, (2,), np.float32, backend="torch")
        buffer.add(torch.ones(2, requires_grad=True))
        assert not buffer.get_data().requires_grad

    def test_shape_and_kind_are_checked_for_tensors(self) -> None:
        buffer = RingBuffer(3, (2,), np.int64, backend="torch")
        with pytest.raises(ValueError, match="shape"):
            buffer.add(torch.zeros(3, dtype=torch.int64))
        with pytest.raises(TypeError, match="changing kind"):
            buffer.add(torch.zeros(2))
        assert len(buffer) == 0

    @pytest.mark.parametrize("dtype", [np.dtype(">f8"), np.longdouble])
    def test_dtype_torch_lacks_is_a_type_error(self, dtype: Any) -> None:
        if np.dtype(dtype) == np.float64:
            pytest.skip("longdouble is float64 on this platform")
        with pytest.raises(TypeError, match="torch has no dtype"):
            RingBuffer(3, (), dtype, backend="torch")

    def test_items_in_foreign_byte_order_are_accepted(self) -> None:
        buffer = RingBuffer(3, (2,), np.float64, backend="torch")
        buffer.add(np.array([1.0, 2.0], dtype=">f8"))
        assert buffer.get_data().tolist() == [[1.0, 2.0]]

    def test_state_is_the_same_npz_as_the_numpy_backend(self, tmp_path: Path) -> None:
        torch_filled(4, 6).save_state(tmp_path / "buffer")
        as_numpy = RingBuffer(4, (), np.float32)
        as_numpy.load_state(tmp_path / "buffer")
        assert as_numpy.get_data().tolist() == [2, 3, 4, 5]

        as_numpy.add(6.0)
        as_numpy.save_state(tmp_path / "again")
        back = RingBuffer(4, (), np.float32, backend="torch")
        back.load_state(tmp_path / "again")
        assert back.get_data().tolist() == [3, 4, 5, 6]

    def test_dict_variant(self) -> None:
        buffer = DictRingBuffer(
            {"obs": ((2,), np.float32), "action": ((), np.int64)},
            5,
            backend="torch",
        )
        for i in range(7):
            buffer.add({"obs": torch.full((2,), float(i)), "action": i})
        batch = buffer.sample(16)
        assert torch.equal(batch["obs"][:, 0].long(), batch["action"])

    @pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
    def test_storage_on_a_cuda_device(self) -> None:
        buffer = RingBuffer(8, (3,), np.float32, backend="torch", device="cuda")
        for i in range(10):
            buffer.add(np.full(3, i))  # host items are copied to the device
        assert buffer.sample(4).device.type == "cuda"
        windows = buffer.sample_sequences(4, 3)
        assert windows.device.type == "cuda"
        assert torch.all(windows.diff(dim=1) == 1)


class TestTensorsIntoTheNumpyBackend:
    def test_cpu_tensors_are_converted(self) -> None:
        buffer = RingBuffer(3, (2,), np.float32)
        buffer.add(torch.tensor([1.0, 2.0], requires_grad=True))
        data = buffer.get_data()
        assert isinstance(data, np.ndarray)
        assert data.tolist() == [[1.0, 2.0]]

    def test_kind_is_checked(self) -> None:
        with pytest.raises(TypeError, match="changing kind"):
            RingBuffer(3, (), np.int64).add(torch.tensor(1.5))
