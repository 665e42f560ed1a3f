"""How much a torch model sync costs inference and training.

For models of about 10 thousand, 10 million and 100 million parameters (stacks of
Linear + BatchNorm1d blocks, so parameters *and* buffers, integer counters included)
it measures, for the double-buffered sync (the default) and for ``in_place=True``:

- stall: the longest time an ``infer`` call waited for the inference lock while
  syncs ran, one every millisecond plus its own duration (the pause stands in for a
  training step, which releases the GIL). The inference thread calls ``infer`` in a
  tight loop with a procedure that reads one element, so it asks for the lock as
  often as it can. A timing wrapper that this script puts around the model's lock
  (the library carries no instrumentation) times the calls that found the lock
  taken. Their wait includes the time the woken thread needs to get the GIL and a
  core back, which is not the sync's doing, so the part until the sync released
  the lock ("lock busy") is shown next to it.
- sync: the training thread's time for one ``sync()`` (median, no inference running),
  and its ratio to the physical floor, one bare ``torch._foreach_copy_`` over the
  same tensors (with autograd already off), and to ``load_state_dict(state_dict())``, which is what a 0.6 sync costs
  the training thread. All ratios come from the same run, measured interleaved.
- memory: bytes of the inference-side tensors as a multiple of the parameter bytes
  (0.6 keeps one inference module: about 1x).

A second table gives what a training run costs besides ``train()`` and the sync:
``TorchTrainer.setup()`` + ``teardown()`` with an Adam optimizer whose state is
populated (a few steps taken), against 0.6's way, which builds a new Adam over the
parameters, loads the kept state into it with ``load_state_dict`` and, at teardown,
keeps a shallow copy of ``state_dict()``. Timed interleaved, medians.

Run: ``python benchmarks/sync.py`` (full, about a minute) or ``--quick`` (CI, seconds:
the smallest model only, few repetitions). Prints a table; never fails on a number.
"""

import argparse
import random
import statistics
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from _machine import describe_machine
from pamiq_core.model import TrainingModelsDict
from pamiq_core.torch import (
    OptimizersSetup,
    TorchInferenceModel,
    TorchTrainer,
    TorchTrainingModel,
)


@dataclass(frozen=True)
class Size:
    name: str
    width: int
    blocks: int
    timing_reps: int  # interleaved repetitions of each timed operation
    stall_syncs: int  # syncs run against the inference loop, per mode


PAUSE_BETWEEN_SYNCS = 1e-3  # seconds; a training step would run here

SIZES = [
    Size("10k", width=32, blocks=8, timing_reps=400, stall_syncs=500),
    Size("10M", width=640, blocks=24, timing_reps=40, stall_syncs=150),
    Size("100M", width=2048, blocks=24, timing_reps=9, stall_syncs=40),
]
QUICK = [Size("10k", width=32, blocks=8, timing_reps=30, stall_syncs=100)]
RUN_OVERHEAD_SIZES = ["10k", "10M"]  # of SIZES, in the full run
RUN_OVERHEAD_REPS = 200
ADAM_STEPS = 3  # steps taken before timing, so that Adam's state is populated


def tower(size: Size) -> nn.Sequential:
    layers: list[nn.Module] = []
    for _ in range(size.blocks):
        layers += [
            nn.Linear(size.width, size.width),
            nn.BatchNorm1d(size.width),
            nn.ReLU(),
        ]
    return nn.Sequential(*layers)


def read_one_element(module: nn.Module) -> float:
    return float(next(module.parameters())[0, 0])


class TimedLock:
    """An RLock that times the inference thread's waits for it.

    For a wait it records the whole wait (until the waiting thread runs again) and
    the part until the lock was last released by another thread (the part a sync
    caused; the rest is the time the woken thread needs to get the GIL and a core).
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.reader: int | None = None
        self.acquisitions = 0
        self.waits: list[tuple[float, float]] = []  # (whole wait, until released)
        self._released_at = 0.0

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        if threading.get_ident() != self.reader:
            return self._lock.acquire(blocking, timeout)
        self.acquisitions += 1
        if self._lock.acquire(blocking=False):
            return True
        start = time.perf_counter()
        acquired = self._lock.acquire(blocking, timeout)
        now = time.perf_counter()
        self.waits.append((now - start, max(0.0, self._released_at - start)))
        return acquired

    def release(self) -> None:
        if threading.get_ident() != self.reader:
            self._released_at = time.perf_counter()
        self._lock.release()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc_info: object) -> None:
        self.release()


def set_lock(model: TorchInferenceModel[Any], lock: TimedLock) -> None:
    model._lock = lock  # type: ignore[assignment]  # instrumenting, benchmark only


@dataclass
class Stall:
    max_wait: float  # longest wait of an infer call for the lock; 0 if never taken
    max_lock_wait: float  # longest part of a wait until the sync released the lock
    waited: int  # infer calls that found the lock taken
    infers: int


def measure_stall(pair: TorchTrainingModel[nn.Sequential], syncs: int) -> Stall:
    inference = pair.inference_model
    lock = TimedLock()
    set_lock(inference, lock)
    done = threading.Event()
    started = threading.Event()

    def infer_loop() -> None:
        lock.reader = threading.get_ident()
        started.set()
        while not done.is_set():
            inference()

    reader = threading.Thread(target=infer_loop)
    reader.start()
    started.wait()
    try:
        for _ in range(syncs):
            pair.sync()
            time.sleep(PAUSE_BETWEEN_SYNCS)
    finally:
        done.set()
        reader.join()
    return Stall(
        max_wait=max((whole for whole, _ in lock.waits), default=0.0),
        max_lock_wait=max((part for _, part in lock.waits), default=0.0),
        waited=len(lock.waits),
        infers=lock.acquisitions,
    )


def interleaved_medians(
    operations: dict[str, Callable[[], object]], reps: int
) -> dict[str, float]:
    """Median seconds per call of each operation, after a warm-up.

    Every round runs each operation once, in a new random order, so that no
    operation always follows the same other one (and its cache footprint).
    """
    times: dict[str, list[float]] = {name: [] for name in operations}
    for operation in operations.values():
        operation()
    order = list(operations.items())
    shuffle = random.Random(0).shuffle
    for _ in range(reps):
        shuffle(order)
        for name, operation in order:
            start = time.perf_counter()
            operation()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def tensor_bytes(tensors: list[torch.Tensor]) -> int:
    return sum(t.numel() * t.element_size() for t in tensors)


def all_tensors(module: nn.Module) -> list[torch.Tensor]:
    return [*module.parameters(), *module.buffers()]


@dataclass
class Row:
    size: Size
    params: int
    tensors: int
    mode: str
    stall: Stall
    sync: float
    floor: float
    load_state_dict: float
    memory: float


def inference_modules(pair: TorchTrainingModel[nn.Sequential]) -> list[nn.Module]:
    model = pair.inference_model
    modules = [model._raw_model, model._back]  # pyright: ignore[reportPrivateUsage]
    return [m for m in modules if m is not None]


def measure(size: Size) -> list[Row]:
    torch.manual_seed(0)
    pairs = {
        mode: TorchTrainingModel(
            tower(size),
            inference_procedure=read_one_element,
            in_place=mode == "in_place",
        )
        for mode in ("double", "in_place")
    }
    for pair in pairs.values():
        pair.sync()  # creates the inference copies (and the back module)
    training = pairs["double"].model
    params = sum(p.numel() for p in training.parameters())
    param_bytes = tensor_bytes(list(training.parameters()))

    # The floor and the 0.6-style sync write into a module of their own.
    reference = tower(size).eval().requires_grad_(False)
    sources, targets = all_tensors(training), all_tensors(reference)

    def foreach_copy() -> None:
        torch._foreach_copy_(targets, sources)  # pyright: ignore[reportPrivateImportUsage]

    def load_state_dict() -> None:
        reference.load_state_dict(training.state_dict())

    with torch.no_grad():  # the floor is the bare copy; the syncs turn grads off anyway
        timings = interleaved_medians(
            {
                "double": pairs["double"].sync,
                "in_place": pairs["in_place"].sync,
                "floor": foreach_copy,
                "load_state_dict": load_state_dict,
            },
            size.timing_reps,
        )
    rows: list[Row] = []
    for mode, pair in pairs.items():
        memory = sum(tensor_bytes(all_tensors(m)) for m in inference_modules(pair))
        rows.append(
            Row(
                size=size,
                params=params,
                tensors=len(sources),
                mode=mode,
                stall=measure_stall(pair, size.stall_syncs),
                sync=timings[mode],
                floor=timings["floor"],
                load_state_dict=timings["load_state_dict"],
                memory=memory / param_bytes,
            )
        )
    return rows


def microseconds(seconds: float) -> str:
    return f"{seconds * 1e6:,.1f} us" if seconds < 1e-3 else f"{seconds * 1e3:,.2f} ms"


HEADER = (
    "model",
    "params",
    "tensors",
    "mode",
    "stall max",
    "of it, lock busy",
    "infers stalled",
    "sync",
    "sync / foreach",
    "sync / load_state_dict",
    "extra memory",
)


def table(rows: list[Row]) -> str:
    return format_table(
        HEADER,
        [
            (
                row.size.name,
                f"{row.params:,}",
                str(row.tensors),
                row.mode,
                microseconds(row.stall.max_wait),
                microseconds(row.stall.max_lock_wait),
                f"{row.stall.waited:,} / {row.stall.infers:,}",
                microseconds(row.sync),
                f"{row.sync / row.floor:.2f}x",
                f"{row.sync / row.load_state_dict:.2f}x",
                f"{row.memory:.2f}x params",
            )
            for row in rows
        ],
    )


def format_table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    lines = [header, *rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    text = [
        " | ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True))
        for line in lines
    ]
    text.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(text)


class AdamTrainer(TorchTrainer):
    """One Adam optimizer over model 'net'; trains nothing (the run is the cost)."""

    def on_training_models_attached(self) -> None:
        self.net = self.get_torch_training_model("net")

    def create_optimizers(self) -> OptimizersSetup:
        return {"adam": torch.optim.Adam(self.net.model.parameters())}

    def train(self) -> None:
        pass


@dataclass
class RunOverhead:
    size: Size
    params: int
    ours: float  # TorchTrainer.setup() + teardown(), optimizers already created
    upstream: float  # new Adam + load_state_dict(kept) + shallow state_dict copy


def measure_run_overhead(size: Size, reps: int) -> RunOverhead:
    torch.manual_seed(0)
    model = TorchTrainingModel(tower(size), has_inference_model=False)
    trainer = AdamTrainer()
    trainer.attach_training_models(TrainingModelsDict(net=model))
    trainer.setup()  # the first setup creates the optimizer; later ones do not
    adam = trainer.optimizers["adam"]
    x = torch.randn(32, size.width)
    for _ in range(ADAM_STEPS):
        adam.zero_grad()
        model(x).pow(2).mean().backward()
        adam.step()
    trainer.teardown()
    parameters = list(model.model.parameters())
    kept = {"adam": adam.state_dict().copy()}  # what 0.6 keeps at teardown

    def ours() -> None:
        trainer.setup()
        trainer.teardown()

    def upstream() -> None:  # 0.6: setup builds and restores, teardown keeps a copy
        optimizer = torch.optim.Adam(parameters)
        optimizer.load_state_dict(kept["adam"])
        kept["adam"] = optimizer.state_dict().copy()

    timings = interleaved_medians({"ours": ours, "upstream": upstream}, reps)
    return RunOverhead(
        size=size,
        params=sum(p.numel() for p in parameters),
        ours=timings["ours"],
        upstream=timings["upstream"],
    )


RUN_HEADER = (
    "model",
    "params",
    "optimizer",
    "TorchTrainer setup + teardown",
    "0.6: new optimizer + load_state_dict + state copy",
    "ours / 0.6",
)


def run_overhead_table(rows: list[RunOverhead]) -> str:
    return format_table(
        RUN_HEADER,
        [
            (
                row.size.name,
                f"{row.params:,}",
                "Adam",
                microseconds(row.ours),
                microseconds(row.upstream),
                f"{row.ours / row.upstream:.4f}x",
            )
            for row in rows
        ],
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smallest model, few reps")
    args = parser.parse_args(argv)
    print(
        f"machine: {describe_machine(f'torch {torch.__version__} ({torch.get_num_threads()} threads)')}"
    )
    rows: list[Row] = []
    for size in QUICK if args.quick else SIZES:
        rows += measure(size)
    print(table(rows))
    if args.quick:
        overhead_sizes, reps = QUICK, QUICK[0].timing_reps
    else:
        overhead_sizes = [s for s in SIZES if s.name in RUN_OVERHEAD_SIZES]
        reps = RUN_OVERHEAD_REPS
    print()
    print("per training run, besides train() and the sync:")
    print(run_overhead_table([measure_run_overhead(s, reps) for s in overhead_sizes]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
