"""Run the python blocks of the user-guide pages that need torch.

``--without-torch`` leaves this file out (its name ends in ``_torch.py``); the other
pages run in ``test_guide_snippets.py``.
"""

from pathlib import Path

import pytest
from guide_snippets import guide_pages, needs_torch, page_id, python_blocks, run_page

PAGES = [page for page in guide_pages() if needs_torch(page)]


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_torch_page_runs(
    page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert run_page(page) == len(python_blocks(page))
