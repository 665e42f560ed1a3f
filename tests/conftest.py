"""Project-wide test configuration.

Tests that need torch live in a directory named ``torch`` or in a file ending in
``_torch.py``. ``--without-torch`` leaves them out, for interpreters on which the
project's torch build is not available.
"""

from pathlib import Path

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--without-torch",
        action="store_true",
        help="do not collect the tests that need torch",
    )


TESTS_DIR = Path(__file__).parent


def needs_torch(path: Path) -> bool:
    if not path.is_relative_to(TESTS_DIR):
        return False
    parts = path.relative_to(TESTS_DIR).parts
    return "torch" in parts or path.name.endswith("_torch.py")


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    if config.getoption("--without-torch") and needs_torch(collection_path):
        return True
    return None
