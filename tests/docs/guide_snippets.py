"""Find the code blocks of the user guide (``docs/**/*.md``) and run them.

Conventions a page follows (``docs/index.md`` of the guide does not repeat them; this
is their reference):

- Every fenced block whose language is ``python`` runs. A page's blocks run in order,
  in one namespace, so a block may use what an earlier block on the same page
  defined; each page starts afresh, in an empty temporary working directory (state
  directories and files land there).
- A block needs torch when a block of its page imports ``torch`` or
  ``pamiq_core.torch``; such pages are run by ``test_guide_snippets_torch.py``,
  which ``--without-torch`` leaves out. All other pages are run by
  ``test_guide_snippets.py``.
- A fenced block titled ``Output`` (```` ```text title="Output" ````) right after a
  python block holds what that block prints; the test compares the two exactly.
- No python block is ever skipped: an example that would start a server, sleep
  for long or run a whole system is written to be short (a tiny ``max_uptime``, a
  free port) instead. Python code must be fenced as ``python``: the other names
  for it (``py``, ``python3``, ``pycon``, ...) are errors, so that nothing escapes
  the test by its fence.
- Other languages (``sh``, ``text``, ...) are not run.

Tracebacks of a failing block point at the line of the Markdown file.
"""

import contextlib
import dataclasses
import io
import re
import sys
import threading
import time
import types
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCS_DIR = REPO_ROOT / "docs"

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_PYTHON_ALIASES = frozenset({"py", "py3", "python3", "pycon", "ipython", "pyi"})
_OUTPUT_TITLE = re.compile(r"""\btitle\s*=\s*["']Output["']""")
_TORCH_IMPORT = re.compile(
    r"^\s*(?:import|from)\s+(?:torch|pamiq_core\.torch)\b", re.MULTILINE
)


@dataclass(frozen=True)
class Block:
    """One fenced code block of a page."""

    page: Path
    line: int
    """Line number (1-based) of the block's first code line in the page."""
    language: str
    info: str
    code: str
    expected_output: str | None = None

    @property
    def location(self) -> str:
        return f"{_shown(self.page, REPO_ROOT)}:{self.line}"


class GuideFormatError(Exception):
    """A page breaks the conventions of this module."""


def guide_pages() -> list[Path]:
    """Every Markdown page of the guide, in a stable order."""
    return sorted(DOCS_DIR.rglob("*.md"))


def page_id(page: Path) -> str:
    """The page's path relative to ``docs/`` (a test id)."""
    return _shown(page, DOCS_DIR)


def _shown(page: Path, root: Path) -> str:
    return page.relative_to(root).as_posix() if page.is_relative_to(root) else str(page)


def read_blocks(page: Path) -> list[Block]:
    """The fenced blocks of ``page``, with their Output blocks attached.

    Raises:
        GuideFormatError: For an unclosed fence, python code fenced under another
            name than ``python``, or an output block that does not follow a
            python block.
    """
    lines = page.read_text(encoding="utf-8").splitlines()
    raw: list[tuple[Block, int, int]] = []  # block, opening line index, closing index
    index = 0
    while index < len(lines):
        match = _FENCE.match(lines[index])
        if match is None or (match["fence"][0] == "`" and "`" in match["info"]):
            index += 1
            continue
        indent, fence, info = match["indent"], match["fence"], match["info"].strip()
        closing = re.compile(
            rf"^{re.escape(indent)}{re.escape(fence[0])}{{{len(fence)},}}\s*$"
        )
        end = index + 1
        while end < len(lines) and closing.match(lines[end]) is None:
            end += 1
        if end == len(lines):
            raise GuideFormatError(f"{page}:{index + 1}: the fence is never closed")
        body = [line.removeprefix(indent) for line in lines[index + 1 : end]]
        language = info.split(maxsplit=1)[0].lower().lstrip("{.").rstrip("}")
        if language in _PYTHON_ALIASES:
            raise GuideFormatError(
                f"{page}:{index + 1}: fence python code as 'python' (not "
                f"{language!r}), so that the guide's test runs it"
            )
        block = Block(page, index + 2, language, info, "\n".join(body) + "\n")
        raw.append((block, index, end))
        index = end + 1

    blocks: list[Block] = []
    previous_end: int | None = None
    for block, start, end in raw:
        before = _previous_nonblank(lines, start)
        if _OUTPUT_TITLE.search(block.info):
            follows_python = (
                bool(blocks)
                and blocks[-1].language == "python"
                and previous_end is not None
                and before == previous_end
            )
            if not follows_python:
                raise GuideFormatError(
                    f"{page}:{start + 1}: an Output block must directly follow a "
                    "python block"
                )
            blocks[-1] = dataclasses.replace(blocks[-1], expected_output=block.code)
        blocks.append(block)
        previous_end = end
    return blocks


def _previous_nonblank(lines: list[str], index: int) -> int | None:
    index -= 1
    while index >= 0 and not lines[index].strip():
        index -= 1
    return index if index >= 0 else None


def python_blocks(page: Path) -> list[Block]:
    return [block for block in read_blocks(page) if block.language == "python"]


def needs_torch(page: Path) -> bool:
    """Whether a python block of ``page`` imports torch or ``pamiq_core.torch``."""
    return any(_TORCH_IMPORT.search(block.code) for block in python_blocks(page))


def run_page(page: Path) -> int:
    """Run the python blocks of ``page`` in order, in one fresh module namespace.

    The caller chooses the working directory. The namespace is a real module
    registered in ``sys.modules`` while the page runs, so that classes defined by
    the page can be pickled.

    Returns:
        The number of blocks run: all of the page's python blocks.

    Raises:
        AssertionError: If a block printed something other than its Output block.
        Exception: Whatever a block raised, with a note naming the block.
    """
    name = "guide_page_" + re.sub(r"\W", "_", page_id(page).removesuffix(".md"))
    module = types.ModuleType(name)
    module.__file__ = str(page)
    sys.modules[name] = module
    threads_before = set(threading.enumerate())
    blocks = python_blocks(page)
    try:
        for block in blocks:
            _run_block(block, module)
    finally:
        del sys.modules[name]
        _check_no_thread_left(page, threads_before)
    return len(blocks)


THREAD_GRACE_SECONDS = 10.0
"""How long threads a page started may take to end after its last block."""


def _check_no_thread_left(page: Path, threads_before: set[threading.Thread]) -> None:
    """Fail if a thread that ``page`` started outlives it (waiting a little)."""
    deadline = time.monotonic() + THREAD_GRACE_SECONDS
    for thread in set(threading.enumerate()) - threads_before:
        if not thread.daemon:
            thread.join(max(0.0, deadline - time.monotonic()))
    left = [
        t.name
        for t in set(threading.enumerate()) - threads_before
        if t.is_alive() and not t.daemon
    ]
    assert not left, f"{page_id(page)} left threads running: {left}"


def _run_block(block: Block, module: types.ModuleType) -> None:
    # Padding with newlines makes tracebacks show the line numbers of the page.
    code = compile("\n" * (block.line - 1) + block.code, str(block.page), "exec")
    output = io.StringIO()
    try:
        with contextlib.redirect_stdout(output):
            exec(code, module.__dict__)
    except BaseException as e:
        e.add_note(f"(in the python block at {block.location})")
        sys.stdout.write(output.getvalue())
        raise
    printed = output.getvalue()
    sys.stdout.write(printed)  # shown by pytest when the test fails
    if block.expected_output is not None:
        assert printed == block.expected_output, (
            f"The python block at {block.location} printed\n{printed!r}\n"
            f"but its Output block says\n{block.expected_output!r}"
        )
