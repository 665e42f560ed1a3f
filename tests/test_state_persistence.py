from pathlib import Path

from pamiq_core.state_persistence import PersistentStateMixin


class TestPersistentStateMixin:
    def test_is_an_inert_concrete_class(self, tmp_path: Path) -> None:
        state = PersistentStateMixin()
        state.save_state(tmp_path / "state")
        state.load_state(tmp_path / "state")
        assert list(tmp_path.iterdir()) == []

    def test_subclasses_override_both_hooks(self, tmp_path: Path) -> None:
        class Counter(PersistentStateMixin):
            def __init__(self) -> None:
                self.count = 0

            def save_state(self, path: Path) -> None:
                path.with_suffix(".txt").write_text(str(self.count))

            def load_state(self, path: Path) -> None:
                self.count = int(path.with_suffix(".txt").read_text())

        saved = Counter()
        saved.count = 42
        saved.save_state(tmp_path / "counter")
        loaded = Counter()
        loaded.load_state(tmp_path / "counter")
        assert loaded.count == 42
