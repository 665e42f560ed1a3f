"""Project-wide test configuration.

Tests that need torch live in a directory named ``torch`` or in a file ending in
``_torch.py``. ``--without-torch`` leaves them out, for interpreters on which the
project's torch build is not available.
"""

import importlib.util
import os
import sys
from pathlib import Path

import pytest

# Ray reads this once, when it is imported: "0" keeps every Ray node that a test
# starts on 127.0.0.1 instead of the machine's outward address (see
# tests/runtime/ray_cluster.py, which checks it).
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--without-torch",
        action="store_true",
        help="do not collect the tests that need torch",
    )


TESTS_DIR = Path(__file__).parent


def _block_test_folders_posing_as_packages() -> None:
    """Keep ``tests/torch`` (and the like) from being imported as ``torch``.

    pytest puts ``tests/`` on ``sys.path``, so where torch is not installed,
    ``import torch`` finds the folder ``tests/torch`` as a namespace package, and a
    library that tries ``import torch`` (tensorboardX does) takes it for torch.
    Such a name is made to fail to import, as it would for a user.
    """
    for folder in TESTS_DIR.iterdir():
        if not folder.is_dir() or (folder / "__init__.py").exists():
            continue
        spec = importlib.util.find_spec(folder.name)
        locations = [] if spec is None else list(spec.submodule_search_locations or [])
        if (
            spec is not None
            and spec.origin is None
            and all(Path(p).is_relative_to(TESTS_DIR) for p in locations)
        ):
            sys.modules.setdefault(folder.name, None)  # type: ignore[arg-type]


_block_test_folders_posing_as_packages()


def needs_torch(path: Path) -> bool:
    if not path.is_relative_to(TESTS_DIR):
        return False
    parts = path.relative_to(TESTS_DIR).parts
    return "torch" in parts or path.name.endswith("_torch.py")


RAY_INSTALLED = importlib.util.find_spec("ray") is not None
"""Ray mode's tests (``test_ray_*.py``) need the ray extra; without it they are not
collected (the interpreters of ``make test-pythons`` run without it)."""


def needs_ray(path: Path) -> bool:
    return path.name.startswith("test_ray_") or path.name == "ray_cluster.py"


def pytest_report_header(config: pytest.Config) -> str | None:
    if RAY_INSTALLED:
        return None
    return "ray is not installed: the Ray mode tests (test_ray_*.py) are not collected"


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    if config.getoption("--without-torch") and needs_torch(collection_path):
        return True
    if not RAY_INSTALLED and needs_ray(collection_path):
        return True
    return None
