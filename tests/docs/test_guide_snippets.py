"""Run the python blocks of every user-guide page that does not need torch.

See ``guide_snippets.py`` for the conventions; the pages that need torch run in
``test_guide_snippets_torch.py``.
"""

import threading
from pathlib import Path

import pytest
from guide_snippets import (
    DOCS_DIR,
    GuideFormatError,
    guide_pages,
    needs_torch,
    page_id,
    python_blocks,
    read_blocks,
    run_page,
)

PAGES = [page for page in guide_pages() if not needs_torch(page)]


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_page_runs(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert run_page(page) == len(python_blocks(page))


def test_the_guide_has_pages_with_code() -> None:
    pages = guide_pages()
    assert DOCS_DIR / "index.md" in pages
    assert sum(len(python_blocks(page)) for page in pages) >= 20
    # Both halves of the suite have work to do.
    assert PAGES
    assert any(needs_torch(page) for page in pages)


@pytest.mark.parametrize("page", guide_pages(), ids=page_id)
def test_page_follows_the_block_conventions(page: Path) -> None:
    read_blocks(page)  # raises GuideFormatError on a broken convention


def write_page(tmp_path: Path, text: str) -> Path:
    page = tmp_path / "page.md"
    page.write_text(text, encoding="utf-8")
    return page


def test_blocks_share_a_namespace_and_outputs_are_compared(tmp_path: Path) -> None:
    page = write_page(
        tmp_path,
        "Text.\n\n```python\nx = 2\n```\n\n```python\nprint(x * 21)\n```\n\n"
        '```text title="Output"\n42\n```\n',
    )
    blocks = python_blocks(page)
    assert [b.line for b in blocks] == [4, 8]
    assert blocks[1].expected_output == "42\n"
    run_page(page)

    wrong = write_page(
        tmp_path, '```python\nprint("yes")\n```\n```text title="Output"\nno\n```\n'
    )
    with pytest.raises(AssertionError, match="printed"):
        run_page(wrong)


def test_a_failing_block_is_located_in_the_page(tmp_path: Path) -> None:
    page = write_page(tmp_path, "# T\n\n```python\nok = 1\nraise KeyError(ok)\n```\n")
    with pytest.raises(KeyError) as info:
        run_page(page)
    assert info.traceback[-1].lineno + 1 == 5  # pytest counts lines from 0
    assert "page.md:4" in str(info.value.__notes__)


def test_no_block_is_skipped_and_python_has_one_fence_name(tmp_path: Path) -> None:
    # A comment before a block changes nothing: the block runs.
    page = write_page(
        tmp_path, "<!-- guide-test: skip -->\n```python\nraise KeyError(1)\n```\n"
    )
    with pytest.raises(KeyError):
        run_page(page)
    # Python fenced under another name would escape the test: refused.
    for fence in ("py", "python3", "pycon", "{.py}"):
        other = write_page(tmp_path, f"```{fence}\nraise SystemExit\n```\n")
        with pytest.raises(GuideFormatError, match="'python'"):
            read_blocks(other)
    # pymdownx's attribute form of a python fence runs like the plain one.
    braced = write_page(tmp_path, '```{.python title="x"}\nraise KeyError(2)\n```\n')
    with pytest.raises(KeyError):
        run_page(braced)


def test_an_output_block_must_follow_a_python_block(tmp_path: Path) -> None:
    page = write_page(tmp_path, 'Text.\n\n```text title="Output"\n42\n```\n')
    with pytest.raises(GuideFormatError, match="Output"):
        read_blocks(page)


def test_indented_blocks_and_torch_detection(tmp_path: Path) -> None:
    page = write_page(
        tmp_path,
        "!!! note\n\n    ```python\n    from pamiq_core.torch import TorchAgent\n    ```\n",
    )
    (block,) = python_blocks(page)
    assert block.code == "from pamiq_core.torch import TorchAgent\n"
    assert needs_torch(page)
    assert not needs_torch(write_page(tmp_path, "```python\nimport torchvision\n```\n"))


def test_a_page_must_not_leave_threads_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("guide_snippets.THREAD_GRACE_SECONDS", 0.05)
    page = write_page(
        tmp_path,
        "```python\nimport threading, time\n"
        "threading.Thread(target=time.sleep, args=(1.0,), name='lingering').start()\n"
        "```\n",
    )
    with pytest.raises(AssertionError, match="lingering"):
        run_page(page)
    for thread in threading.enumerate():
        if thread.name == "lingering":
            thread.join()
