"""Writes snapshot folders the way PAMIQ-Core 0.6 saved them (spec part 1 §8, part 2
§9.3), byte by byte with pickle and plain files, without using any of our save code.
"""

import pickle
from collections import deque
from pathlib import Path
from typing import Any


def write_pickle(path: Path, obj: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        pickle.dump(obj, f)


def write_06_snapshot(
    folder: Path,
    *,
    models: dict[str, Any],
    buffers: dict[str, tuple[object, list[float]]],
    trainers: dict[str, float],
    interaction: dict[str, object],
    time_state: dict[str, float],
) -> Path:
    """A 0.6-style snapshot folder; no manifest, as 0.6 wrote none.

    Args:
        folder: The snapshot directory to create.
        models: Model name to the pickled state a custom model writes at
            ``models/<name>.pkl`` (torch models are written by the caller).
        buffers: Buffer name to (the pickled buffer object at ``buffer.pkl``, the
            collection timestamps at ``timestamps.pkl``).
        trainers: Trainer name to its previous training time.
        interaction: Relative path under ``interaction/`` to a pickled object.
        time_state: The pamiq clock readings of ``time.pkl``.
    """
    folder.mkdir(parents=True)
    (folder / "interaction").mkdir()  # Interaction.save_state always creates it
    for relative, obj in interaction.items():
        write_pickle(folder / "interaction" / relative, obj)
    (folder / "models").mkdir()
    for name, state in models.items():
        write_pickle(folder / "models" / f"{name}.pkl", state)
    (folder / "data").mkdir()
    for name, (items, timestamps) in buffers.items():
        write_pickle(folder / "data" / name / "buffer.pkl", items)
        write_pickle(folder / "data" / name / "timestamps.pkl", deque(timestamps))
    (folder / "trainers").mkdir()
    for name, previous in trainers.items():
        (folder / "trainers" / name).mkdir()
        (folder / "trainers" / name / "previous_training_time").write_text(
            str(previous), encoding="utf-8"
        )
    write_pickle(folder / "time.pkl", time_state)
    return folder
