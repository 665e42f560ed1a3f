"""Small persistable parts for the state persistence tests."""

from pathlib import Path

from pamiq_core.state_persistence import PersistentStateMixin


class Number(PersistentStateMixin):
    """A part whose state is one integer, saved as a directory with one file."""

    def __init__(self, value: int = 0) -> None:
        self.value = value

    def save_state(self, path: Path) -> None:
        path.mkdir()
        (path / "value").write_text(str(self.value))

    def load_state(self, path: Path) -> None:
        self.value = int((path / "value").read_text())


class FailingLoad(Number):
    """A part that cannot load a negative value (it loads its own states fine)."""

    def load_state(self, path: Path) -> None:
        super().load_state(path)  # changed before failing, as a half-done load would
        if self.value < 0:
            raise ValueError("cannot make sense of this state")
