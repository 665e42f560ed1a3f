import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from pamiq_core.realtime import LAZY_TORCH_MODULES, runtime_settings

FIRST_RUN = Path(__file__).parent / "realtime_first_run.py"


def imports_by_thread(tmp_path: Path, preimport: bool) -> dict[str, list[str]]:
    """Modules the threads of a fresh launched torch system import in a first run."""
    result = subprocess.run(
        [sys.executable, str(FIRST_RUN), str(tmp_path), "1" if preimport else "0"],
        capture_output=True,
        text=True,
        check=False,
        timeout=100,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


class TestPreimportTorch:
    def test_no_thread_imports_anything_in_a_first_training_run(
        self, tmp_path: Path
    ) -> None:
        imports = imports_by_thread(tmp_path, preimport=True)
        assert imports == {}, (
            "modules imported by the threads despite the preimport; add them to "
            f"LAZY_TORCH_MODULES: {imports}"
        )

    def test_without_it_the_training_thread_imports_dynamo(
        self, tmp_path: Path
    ) -> None:
        imports = imports_by_thread(tmp_path, preimport=False)
        assert set(LAZY_TORCH_MODULES) <= set(imports.get("pamiq-training", []))
        assert "pamiq-inference" not in imports


class TestTorchThreads:
    def test_are_applied_and_restored(self) -> None:
        before = torch.get_num_threads()
        with runtime_settings(None, before + 1):
            assert torch.get_num_threads() == before + 1
        assert torch.get_num_threads() == before

    def test_are_restored_when_the_block_raises(self) -> None:
        before = torch.get_num_threads()
        with (
            pytest.raises(RuntimeError, match="boom"),
            runtime_settings(None, before + 1),
        ):
            raise RuntimeError("boom")
        assert torch.get_num_threads() == before
