"""Snapshots are checked before use: damaged ones are never taken for good ones."""

import json
import logging
import os
from pathlib import Path

import pytest

from pamiq_core.state_persistence import (
    MANIFEST_NAME,
    DamagedStateError,
    IncompleteStateError,
    StateStore,
    find_latest_state,
    read_manifest,
    verify_state,
)

from .parts import FailingLoad, Number


def store_with(tmp_path: Path, **parts: Number) -> StateStore:
    store = StateStore(tmp_path)
    for name, part in parts.items():
        store.register(name, part)
    return store


def save_numbered(tmp_path: Path, *values: int) -> list[Path]:
    """One snapshot per value, saved in order (oldest first)."""
    part = Number()
    store = store_with(tmp_path, number=part)
    paths: list[Path] = []
    for value in values:
        part.value = value
        paths.append(store.save_state())
    return paths


def truncate(path: Path) -> None:
    with open(path, "r+b") as f:
        f.truncate(max(0, os.path.getsize(path) - 1))


def flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[0] ^= 0xFF
    path.write_bytes(bytes(data))


class TestTheManifestRecordsEveryFile:
    def test_with_its_size_and_checksum(self, tmp_path: Path) -> None:
        (path,) = save_numbered(tmp_path, 1234)
        manifest = read_manifest(path)
        assert manifest is not None
        assert manifest["version"] == 2
        assert manifest["files"] == {
            "number/value": {
                "size": 4,
                "sha256": "03ac674216f3e15c761ee1a5e255f067953623c8b388b4459e13f978d7c846f4",
            }
        }

    def test_an_intact_snapshot_verifies(self, tmp_path: Path) -> None:
        (path,) = save_numbered(tmp_path, 7)
        assert verify_state(path) == []


class TestVerification:
    @pytest.mark.parametrize(
        ("damage", "expected"),
        [
            (truncate, "'number/value' has 0 bytes, 1 were saved"),
            (
                flip_a_byte,
                "'number/value' was changed after it was saved (checksum mismatch)",
            ),
            (os.remove, "'number/value' is missing"),
        ],
        ids=["truncated", "flipped", "removed"],
    )
    def test_names_the_damaged_file(
        self, tmp_path: Path, damage: object, expected: str
    ) -> None:
        (path,) = save_numbered(tmp_path, 7)
        damage(path / "number" / "value")  # type: ignore[operator]
        assert verify_state(path) == [f"the file {expected}"]

    def test_a_folder_without_manifest_is_not_verified(self, tmp_path: Path) -> None:
        assert verify_state(tmp_path) == [
            f"it has no readable manifest '{MANIFEST_NAME}'"
        ]


class TestLatestSkipsDamagedSnapshots:
    @pytest.mark.parametrize(
        "damage", [truncate, flip_a_byte], ids=["truncated", "flipped"]
    )
    def test_and_takes_the_newest_good_one_with_a_warning(
        self, tmp_path: Path, damage: object, caplog: pytest.LogCaptureFixture
    ) -> None:
        older, newer = save_numbered(tmp_path, 1, 2)
        damage(newer / "number" / "value")  # type: ignore[operator]
        with caplog.at_level(logging.WARNING):
            assert find_latest_state(tmp_path) == older
        assert str(newer) in caplog.text
        assert "number/value" in caplog.text

    def test_a_wrongly_typed_saved_at_is_ignored_not_a_crash(
        self, tmp_path: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        older, newer = save_numbered(tmp_path, 1, 2)
        manifest_path = newer / MANIFEST_NAME
        manifest = json.loads(manifest_path.read_text())
        manifest["saved_at"] = "yesterday"
        manifest_path.write_text(json.dumps(manifest))
        with caplog.at_level(logging.WARNING):
            assert find_latest_state(tmp_path) == older
        assert "'yesterday'" in caplog.text

    def test_a_snapshot_with_skipped_parts_is_not_latest(self, tmp_path: Path) -> None:
        part = Number(1)
        store = store_with(tmp_path, number=part)
        complete = store.save_state()
        partial = store.save_state(skip={"number": "its thread did not stop"})
        assert read_manifest(partial) is not None
        assert find_latest_state(tmp_path) == complete

    def test_snapshots_saved_after_an_error_are_skipped_on_request(
        self, tmp_path: Path
    ) -> None:
        store = store_with(tmp_path, number=Number(1))
        good = store.save_state()
        after_error = store.save_state(note="after an error: boom", after_error=True)
        assert find_latest_state(tmp_path) == after_error
        assert find_latest_state(tmp_path, skip_saved_after_error=True) == good


class TestLoadingChecksFirst:
    def test_a_damaged_snapshot_is_refused_naming_the_file_and_nothing_changes(
        self, tmp_path: Path
    ) -> None:
        (path,) = save_numbered(tmp_path, 5)
        truncate(path / "number" / "value")
        part = Number(99)
        with pytest.raises(DamagedStateError, match="number/value"):
            store_with(tmp_path, number=part).load_state(path)
        assert part.value == 99

    def test_a_damaged_snapshot_is_an_incomplete_state_error(self) -> None:
        assert issubclass(DamagedStateError, IncompleteStateError)

    def test_skipped_parts_are_named_with_the_reason(self, tmp_path: Path) -> None:
        store = store_with(tmp_path, number=Number(1))
        partial = store.save_state(skip={"number": "its thread did not stop"})
        with pytest.raises(IncompleteStateError, match="its thread did not stop"):
            store.load_state(partial)


class TestLoadingIsAllOrNothing:
    def test_a_part_that_fails_to_load_leaves_every_part_as_it_was(
        self, tmp_path: Path
    ) -> None:
        saved = store_with(tmp_path, first=Number(1), second=Number(-2)).save_state()
        first, second = Number(10), FailingLoad(20)
        with pytest.raises(ValueError, match="cannot make sense") as info:
            store_with(tmp_path, first=first, second=second).load_state(saved)
        assert (first.value, second.value) == (10, 20)
        (note,) = info.value.__notes__
        assert "'second'" in note
        assert str(saved / "second") in note
        assert "Nothing was loaded" in note

    def test_no_rollback_leftovers_remain(self, tmp_path: Path) -> None:
        saved = store_with(tmp_path, second=Number(-2)).save_state()
        with pytest.raises(ValueError, match="cannot make sense"):
            store_with(tmp_path, second=FailingLoad()).load_state(saved)
        assert [p.name for p in tmp_path.iterdir()] == [saved.name]
