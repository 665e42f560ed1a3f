import json
import logging
from datetime import datetime
from pathlib import Path
from unittest import mock

import pytest

from pamiq_core.state_persistence import (
    MANIFEST_NAME,
    IncompleteStateError,
    LatestStatesKeeper,
    PeriodicSaveCondition,
    PersistentStateMixin,
    StateSaveError,
    StatesKeeper,
    StateStore,
    find_latest_state,
    is_complete_state,
    load_pickle,
    read_manifest,
    save_pickle,
)


class Text(PersistentStateMixin):
    """A part whose state is one line of text, saved as a directory."""

    def __init__(self, text: str = "", log: list[str] | None = None) -> None:
        self.text = text
        self.log = log if log is not None else []

    def save_state(self, path: Path) -> None:
        self.log.append(f"save {path.name}")
        path.mkdir()
        (path / "text").write_text(self.text)

    def load_state(self, path: Path) -> None:
        self.log.append(f"load {path.name}")
        self.text = (path / "text").read_text()


class Exploding(PersistentStateMixin):
    def save_state(self, path: Path) -> None:
        path.mkdir()
        (path / "half").write_text("half written")
        raise OSError("disk full")


class TestPersistentStateMixin:
    def test_is_an_inert_concrete_class(self, tmp_path: Path) -> None:
        state = PersistentStateMixin()
        state.save_state(tmp_path / "state")
        state.load_state(tmp_path / "state")
        assert list(tmp_path.iterdir()) == []


class TestPickleHelpers:
    def test_round_trip(self, tmp_path: Path) -> None:
        save_pickle({"a": [1, 2]}, tmp_path / "x.pkl")
        assert load_pickle(str(tmp_path / "x.pkl")) == {"a": [1, 2]}

    def test_missing_file(self, tmp_path: Path) -> None:
        with pytest.raises(FileNotFoundError):
            load_pickle(tmp_path / "missing.pkl")


class TestStateStoreSaving:
    def test_creates_the_states_dir_but_not_its_parents(self, tmp_path: Path) -> None:
        StateStore(tmp_path / "states")
        assert (tmp_path / "states").is_dir()
        StateStore(tmp_path / "states")  # existing is fine
        with pytest.raises(FileNotFoundError):
            StateStore(tmp_path / "missing" / "states")

    def test_public_attributes(self, tmp_path: Path) -> None:
        store = StateStore(str(tmp_path), "%Y.state")
        assert store.states_dir == tmp_path
        assert store.state_name_format == "%Y.state"

    def test_registering_a_name_twice_is_refused(self, tmp_path: Path) -> None:
        store = StateStore(tmp_path)
        store.register("a", Text())
        with pytest.raises(KeyError, match="State with name 'a' is already registered"):
            store.register("a", Text())

    def test_saves_each_part_in_registration_order(self, tmp_path: Path) -> None:
        log: list[str] = []
        store = StateStore(tmp_path)
        store.register("b", Text("bee", log))
        store.register("a", Text("ay", log))
        path = store.save_state()
        assert log == ["save b", "save a"]
        assert (path / "b" / "text").read_text() == "bee"
        assert (path / "a" / "text").read_text() == "ay"

    def test_names_the_snapshot_from_the_wall_clock(self, tmp_path: Path) -> None:
        store = StateStore(tmp_path)
        with mock.patch("pamiq_core.state_persistence.datetime") as clock:
            clock.now.return_value = datetime(2025, 2, 27, 12, 0, 0)
            path = store.save_state()
        assert path == tmp_path / "2025-02-27_12-00-00,000000.state"

    def test_writes_a_manifest_of_the_parts(self, tmp_path: Path) -> None:
        store = StateStore(tmp_path)
        store.register("a", Text())
        store.register("b", PersistentStateMixin())
        path = store.save_state()
        manifest = json.loads((path / MANIFEST_NAME).read_text())
        assert manifest["components"] == ["a", "b"]
        assert is_complete_state(path)

    def test_a_note_is_kept_in_the_manifest(self, tmp_path: Path) -> None:
        path = StateStore(tmp_path).save_state(note="saved after an error")
        manifest = read_manifest(path)
        assert manifest is not None
        assert manifest["note"] == "saved after an error"

    def test_refuses_an_existing_snapshot_name(self, tmp_path: Path) -> None:
        store = StateStore(tmp_path, "fixed.state")
        store.save_state()
        with pytest.raises(FileExistsError):
            store.save_state()

    def test_a_failed_save_leaves_nothing_behind(self, tmp_path: Path) -> None:
        store = StateStore(tmp_path)
        store.register("good", Text("ok"))
        store.register("bad", Exploding())
        with pytest.raises(StateSaveError, match=r"part 'bad'.*disk full") as info:
            store.save_state()
        assert isinstance(info.value.__cause__, OSError)
        assert list(tmp_path.iterdir()) == []

    def test_leftovers_of_interrupted_saves_are_removed_on_start(
        self, tmp_path: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        leftover = tmp_path / ".pamiq-tmp-0123"
        leftover.mkdir()
        (leftover / "partial").write_text("x")
        with caplog.at_level(logging.WARNING):
            StateStore(tmp_path)
        assert not leftover.exists()
        assert "interrupted save" in caplog.text


class TestStateStoreLoading:
    def test_loads_each_part_in_registration_order(self, tmp_path: Path) -> None:
        saver = StateStore(tmp_path)
        saver.register("x", Text("one"))
        saver.register("y", Text("two"))
        path = saver.save_state()

        log: list[str] = []
        x, y = Text(log=log), Text(log=log)
        loader = StateStore(tmp_path)
        loader.register("x", x)
        loader.register("y", y)
        loader.load_state(str(path))
        # the current state is kept first, to put it back if a part fails to load
        assert log == ["save x", "save y", "load x", "load y"]
        assert (x.text, y.text) == ("one", "two")

    def test_missing_path_raises_file_not_found(self, tmp_path: Path) -> None:
        with pytest.raises(FileNotFoundError, match="not found"):
            StateStore(tmp_path).load_state(tmp_path / "nope.state")

    def test_refuses_a_folder_without_manifest(self, tmp_path: Path) -> None:
        foreign = tmp_path / "foreign.state"
        foreign.mkdir()
        store = StateStore(tmp_path)
        store.register("x", Text())
        with pytest.raises(IncompleteStateError, match=MANIFEST_NAME) as info:
            store.load_state(foreign)
        assert str(foreign) in str(info.value)
        assert isinstance(info.value, FileNotFoundError)

    def test_refuses_a_snapshot_missing_a_registered_part(self, tmp_path: Path) -> None:
        saver = StateStore(tmp_path)
        saver.register("x", Text("one"))
        path = saver.save_state()
        loader = StateStore(tmp_path)
        loader.register("x", Text())
        loader.register("extra", Text())
        with pytest.raises(IncompleteStateError, match="extra"):
            loader.load_state(path)


class TestFindLatestState:
    def test_picks_the_newest_complete_snapshot(self, tmp_path: Path) -> None:
        store = StateStore(tmp_path, "%Y-%m-%d_%H-%M-%S,%f.state")
        with mock.patch("pamiq_core.state_persistence.datetime") as clock:
            clock.now.return_value = datetime(2025, 1, 1)
            older = store.save_state()
            clock.now.return_value = datetime(2025, 1, 2)
            newer = store.save_state()
        (tmp_path / "zzz-incomplete.state").mkdir()
        (tmp_path / ".pamiq-tmp-x").mkdir()
        assert find_latest_state(tmp_path) == newer
        assert older != newer

    def test_none_when_there_is_no_complete_snapshot(self, tmp_path: Path) -> None:
        assert find_latest_state(tmp_path / "missing") is None
        (tmp_path / "a.state").mkdir()
        assert find_latest_state(tmp_path) is None


def saved_states(store: StateStore, count: int) -> list[Path]:
    paths: list[Path] = []
    for day in range(1, count + 1):
        with mock.patch("pamiq_core.state_persistence.datetime") as clock:
            clock.now.return_value = datetime(2025, 1, day)
            paths.append(store.save_state())
    return paths


class TestLatestStatesKeeper:
    def test_negative_max_keep_is_rejected(self, tmp_path: Path) -> None:
        with pytest.raises(ValueError, match="max_keep must be non-negative"):
            LatestStatesKeeper(tmp_path, -1)

    def test_creates_a_missing_directory_with_a_warning(
        self, tmp_path: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        with caplog.at_level(logging.WARNING):
            keeper = LatestStatesKeeper(tmp_path / "a" / "b", 2)
        assert (tmp_path / "a" / "b").is_dir()
        assert keeper.max_keep == 2
        assert "does not exist" in caplog.text

    def test_logger_is_named_after_the_class(self, tmp_path: Path) -> None:
        keeper = LatestStatesKeeper(tmp_path, 1)
        assert keeper.logger.name == "pamiq_core.state_persistence.LatestStatesKeeper"

    def test_removes_the_oldest_beyond_max_keep(self, tmp_path: Path) -> None:
        store = StateStore(tmp_path)
        keeper = LatestStatesKeeper(tmp_path, 2)
        paths = saved_states(store, 4)
        for path in paths:
            keeper.append(path)
        assert keeper.cleanup() == paths[:2]
        assert sorted(tmp_path.iterdir()) == paths[2:]
        assert keeper.cleanup() == []

    def test_tracks_snapshots_that_existed_before_it(self, tmp_path: Path) -> None:
        paths = saved_states(StateStore(tmp_path), 3)
        keeper = LatestStatesKeeper(tmp_path, 1)
        assert keeper.select_removal_states() == paths[:2]  # by modification time
        assert keeper.select_removal_states() == []  # forgotten once selected

    def test_skips_paths_that_no_longer_exist(self, tmp_path: Path) -> None:
        keeper = LatestStatesKeeper(tmp_path, 0)
        keeper.append(tmp_path / "gone.state")
        assert keeper.cleanup() == []

    def test_logs_each_removal(
        self, tmp_path: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        paths = saved_states(StateStore(tmp_path), 2)
        keeper = LatestStatesKeeper(tmp_path, 1)
        with caplog.at_level(logging.INFO):
            keeper.cleanup()
        assert f"Removed: '{paths[0]}'" in caplog.text

    def test_never_removes_the_newest_complete_snapshot(self, tmp_path: Path) -> None:
        store = StateStore(tmp_path)
        keeper = LatestStatesKeeper(tmp_path, 0)
        first, second = saved_states(store, 2)
        keeper.append(first)
        keeper.append(second)
        assert keeper.cleanup() == [first]
        assert second.exists()
        # Once a newer snapshot exists, the previously kept one can go.
        with mock.patch("pamiq_core.state_persistence.datetime") as clock:
            clock.now.return_value = datetime(2025, 1, 9)
            third = store.save_state()
        keeper.append(third)
        assert keeper.cleanup() == [second]
        assert [p for p in tmp_path.iterdir()] == [third]

    def test_a_custom_keeper_cannot_remove_the_newest_either(
        self, tmp_path: Path
    ) -> None:
        class RemoveEverything(StatesKeeper):
            def select_removal_states(self) -> list[Path]:
                return sorted(tmp_path.glob("*.state"))

        paths = saved_states(StateStore(tmp_path), 3)
        assert RemoveEverything().cleanup() == paths[:2]
        assert paths[2].exists()


class TestPeriodicSaveCondition:
    def test_true_at_most_once_per_interval(self) -> None:
        now = [100.0]
        with mock.patch("pamiq_core.time.time", side_effect=lambda: now[0]):
            condition = PeriodicSaveCondition(10.0)
            assert condition() is False
            now[0] += 10.0
            assert condition() is False  # strictly more than the interval
            now[0] += 5.0
            assert condition() is True
            assert condition() is False
            now[0] += 10.5
            assert condition() is True

    def test_negative_interval_is_rejected(self) -> None:
        with pytest.raises(ValueError, match="non-negative"):
            PeriodicSaveCondition(-1.0)
