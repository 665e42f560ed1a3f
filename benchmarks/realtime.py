"""Does a 100 Hz agent keep its period while two trainers keep the machine busy?

The agent (``FixedIntervalInteraction.with_sleep_adjustor`` at 100 Hz) calls a small
torch policy every step. Two trainers run continuously next to it: a ``TorchTrainer``
that takes four Adam steps on a 6-layer MLP per run (and one on the policy, which it
syncs), and a trainer that prepares batches in Python, building a few thousand small
dicts and lists per run (and a little cyclic garbage), as real trainers do.

Every case runs in a fresh interpreter (a lazy import happens once per process), and
the cases take turns, so they share the machine's load. A case is counted over
``--seconds`` from the agent's first step, nothing excluded:

- steps kept: steps taken out of ``seconds x 100`` expected (a late step is not
  caught up: the adjustor starts the next period when the late one ends);
- lateness: how much longer than 10 ms each period took (0 if not), p50/p99/max;
- each trainer's runs per second over the same span;
- garbage collections in the main process, full (oldest generation) and young,
  with the longest of each;
- launch: seconds from ``launch()`` to the first step (what the measures cost there).

Cases: launch's defaults (every measure); without each measure (``LaunchConfig``
field set to None or False); without the two measures against stalls (``gc_freeze``
and ``preimport_torch``, which is how launch ran before them); interpreter defaults
(no measure at all); and the agent alone, for reference. ``--training`` picks where
the trainers run (the ``LaunchConfig`` setting): ``thread`` or ``process``, or
``thread,process`` to run every case in both modes, taking turns, and print the
trainers' runs/s of process mode against thread mode round by round.

``--memory`` runs launch's defaults for ``--seconds`` (say 600) and prints, every
tenth of it, the process's resident memory, the collector's generation counts and
frozen objects, the full collections so far and the agent's lateness: with a frozen
heap, memory must stay flat while the trainers make garbage. ``--keep N`` makes the
Python trainer keep its newest N rows in a deque, as a buffer of Python objects does
(``--cyclic``: each row refers to itself, so an evicted row is cyclic garbage);
``--gc-variant`` tries another treatment of such objects than launch's.

``--fifo`` runs the agent's thread (only it: it mostly sleeps) under ``SCHED_FIFO``,
so that it gets a core as soon as it wakes: on a loaded machine, what lateness
remains then comes from this process (the GIL, the collector), not from the others.

Usage: python benchmarks/realtime.py [--quick] [--seconds S] [--repeat N] [--fifo]
       [--training thread|process|thread,process] [--memory [--keep N [--cyclic]] [--gc-variant V]]
       [--case C]
"""

import argparse
import array
import collections
import gc
import itertools
import json
import logging
import math
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time as std_time
from pathlib import Path
from typing import Any

import torch
from torch import nn

from _machine import describe_machine
from pamiq_core import (
    Environment,
    FixedIntervalInteraction,
    LaunchConfig,
    Trainer,
    launch,
    time,
)
from pamiq_core.state_persistence import find_latest_state
from pamiq_core.torch import (
    OptimizersSetup,
    TorchAgent,
    TorchInferenceModel,
    TorchTrainer,
    TorchTrainingModel,
)

REFERENCE_MODE = "thread"
"""The agent alone has no trainers, so it runs once, whatever the modes."""

RATE = 100.0
"""Steps per second the agent is paced to."""

TRAINING_MODES: dict[str, dict[str, Any]] = {
    "thread": {},
    "process": {"training": "process"},
}
"""``--training`` value to the ``LaunchConfig`` fields that select it."""

ALL_OFF: dict[str, Any] = {
    "gc_freeze": False,
    "preimport_torch": False,
    "switch_interval": None,
    "torch_num_threads": None,
}
CASES: dict[str, dict[str, Any]] = {
    "all measures (launch defaults)": {},
    "without gc_freeze": {"gc_freeze": False},
    "without preimport_torch": {"preimport_torch": False},
    "without both (launch before them)": {"gc_freeze": False, "preimport_torch": False},
    "without switch_interval": {"switch_interval": None},
    "without torch_num_threads": {"torch_num_threads": None},
    "interpreter defaults": ALL_OFF,
}
"""Case name to the ``LaunchConfig`` fields it changes from launch's defaults."""
REFERENCE = "agent alone (reference)"
BASELINE = "without both (launch before them)"
"""The case the trainers' throughput is compared with."""

QUICK_CASES = [next(iter(CASES)), BASELINE, "interpreter defaults"]
"""What ``--quick`` runs: launch's defaults, the baseline and no measure at all."""

TRAINERS = ("torch", "batch")


class GcPauses:
    """Times every garbage collection of this process (``gc.callbacks``).

    Wall time is what the agent waits; the CPU time of the collecting thread is
    what the collection itself costs, without the time the machine gave to others.
    """

    def __init__(self) -> None:
        self.full: list[tuple[float, float, float]] = []
        """(end, wall seconds, CPU seconds) of each oldest-generation collection."""
        self.young_ends = array.array("d")
        """End of each younger-generation collection (arrays: dozens a second, so
        that the record adds little memory in long runs)."""
        self.young_seconds = array.array("d")
        """Wall seconds of each, in the same order."""
        self._started = (0.0, 0.0)

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        now, cpu = std_time.perf_counter(), std_time.thread_time()
        if phase == "start":
            self._started = (now, cpu)
        elif info["generation"] == 2:
            self.full.append((now, now - self._started[0], cpu - self._started[1]))
        else:
            self.young_ends.append(now)
            self.young_seconds.append(now - self._started[0])


class Sensor(Environment[torch.Tensor, int]):
    def __init__(self) -> None:
        self.observation = torch.randn(1, 32)

    def observe(self) -> torch.Tensor:
        return self.observation

    def affect(self, action: int) -> None:
        pass


GC_VARIANTS = ("refreeze", "threshold100")
"""Other ways to treat objects created after launch, for ``--gc-variant``.

Not what ``launch`` does (see benchmarks/README.md for why): ``refreeze`` freezes
the survivors of every full collection again; ``threshold100`` raises the oldest
generation's threshold from 10 to 100.
"""


def _freeze_survivors(phase: str, info: dict[str, int]) -> None:
    if phase == "stop" and info["generation"] == 2:
        gc.freeze()


class TimedAgent(TorchAgent[torch.Tensor, int]):
    """Calls its policy every step and records when each step started.

    At setup, in the inference thread once the system runs, it applies the options
    that are not ``LaunchConfig`` fields: a real-time scheduling policy for its own
    thread, and a garbage collection variant.
    """

    def __init__(self, fifo: bool, gc_variant: str | None) -> None:
        super().__init__()
        self.times = array.array("d")
        """When each step started (8 bytes each: the record adds little memory)."""
        self.fifo = fifo
        self.gc_variant = gc_variant

    def setup(self) -> None:
        super().setup()
        if self.fifo:
            # Only this thread, which mostly sleeps: it gets a core as soon as it
            # wakes, so what remains of its lateness comes from this process.
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(10))
        if self.gc_variant == "refreeze":
            gc.callbacks.append(_freeze_survivors)
        elif self.gc_variant == "threshold100":
            young, middle, _ = gc.get_threshold()
            gc.set_threshold(young, middle, 100)

    def on_inference_models_attached(self) -> None:
        self.policy: TorchInferenceModel[nn.Module] = self.get_torch_inference_model(
            "policy"
        )

    def step(self, observation: torch.Tensor) -> int:
        self.times.append(time.fixed_perf_counter())
        return int(self.policy(observation).argmax())


class RunTimes:
    """Writes when each run ended into the trainer's saved state.

    The final snapshot has one layout wherever the trainers run, so the
    benchmark reads the counts from there rather than from the objects.
    """

    def __init__(self) -> None:
        self.ends: list[float] = []

    def record(self) -> None:
        self.ends.append(time.fixed_perf_counter())

    def save(self, path: Path) -> None:
        (path / "run_ends.json").write_text(json.dumps(self.ends))


class TorchBusyTrainer(TorchTrainer):
    """Four Adam steps on a 6-layer MLP and one on the policy per run."""

    def __init__(self) -> None:
        super().__init__()
        self.run_times = RunTimes()

    def on_training_models_attached(self) -> None:
        self.mlp = self.get_torch_training_model("mlp")
        self.policy = self.get_torch_training_model("policy")

    def create_optimizers(self) -> OptimizersSetup:
        return {
            "mlp": torch.optim.Adam(self.mlp.model.parameters(), lr=1e-4),
            "policy": torch.optim.Adam(self.policy.model.parameters(), lr=1e-4),
        }

    def train(self) -> None:
        for _ in range(4):
            batch = torch.randn(128, 256)
            loss = (self.mlp(batch) - batch).pow(2).mean()
            self.optimizers["mlp"].zero_grad()
            loss.backward()
            self.optimizers["mlp"].step()
        loss = self.policy(torch.randn(64, 32)).pow(2).mean()
        self.optimizers["policy"].zero_grad()
        loss.backward()
        self.optimizers["policy"].step()
        self.run_times.record()

    def save_state(self, path: Path) -> None:
        super().save_state(path)
        self.run_times.save(path)


class BatchTrainer(Trainer):
    """Prepares a batch in Python: 3000 dicts with a list each, per run.

    Also links 50 parent/child pairs both ways per run (cyclic garbage, which
    only the cyclic collector frees) and keeps the newest ``keep`` rows; with
    ``cyclic``, each kept row refers to itself, so a row that leaves the deque is
    garbage that only the cyclic collector frees.
    """

    ROWS = 3000

    def __init__(self, keep: int, cyclic: bool) -> None:
        super().__init__()
        self.run_times = RunTimes()
        self.kept: collections.deque[dict[str, Any]] = collections.deque(maxlen=keep)
        self.cyclic = cyclic
        self.checksum = 0.0

    def train(self) -> None:
        rows = [
            {
                "obs": [i * 0.1, i * 0.2, i * 0.3, i * 0.4],
                "action": i % 4,
                "reward": i * 0.01,
            }
            for i in range(self.ROWS)
        ]
        batch = {key: [row[key] for row in rows] for key in rows[0]}
        self.checksum += sum(batch["reward"])
        for _ in range(50):
            parent: dict[str, Any] = {"children": []}
            parent["children"].append({"parent": parent})
        if self.kept.maxlen:
            kept = rows[:: max(1, self.ROWS // 300)]
            if self.cyclic:
                for row in kept:
                    row["self"] = row
            self.kept.extend(kept)
        self.run_times.record()

    def save_state(self, path: Path) -> None:
        super().save_state(path)
        self.run_times.save(path)


def run_case(changes: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """Launch the system in this process and measure it (the child's work)."""
    seconds: float = args.seconds
    training = args.child != REFERENCE
    agent = TimedAgent(args.fifo, args.gc_variant)
    models: dict[str, Any] = {
        "policy": TorchTrainingModel(
            nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 8))
        )
    }
    trainers: dict[str, Any] = {}
    if training:
        layers: list[nn.Module] = []
        widths = [256, 512, 512, 512, 512, 512, 256]
        for a, b in itertools.pairwise(widths):
            layers += [nn.Linear(a, b), nn.ReLU()]
        models["mlp"] = TorchTrainingModel(
            nn.Sequential(*layers[:-1]), has_inference_model=False
        )
        trainers = {
            "torch": TorchBusyTrainer(),
            "batch": BatchTrainer(args.keep, args.cyclic),
        }
    gc_pauses = GcPauses()
    gc.callbacks.append(gc_pauses)
    samples: list[dict[str, Any]] = []
    stop_sampling = threading.Event()
    if args.memory:
        sampler = threading.Thread(
            target=sample_memory,
            args=(samples, agent.times, gc_pauses, seconds / 10, stop_sampling),
            daemon=True,
        )
        sampler.start()
    with tempfile.TemporaryDirectory() as states:
        launched = std_time.perf_counter()
        launch(
            FixedIntervalInteraction.with_sleep_adjustor(agent, Sensor(), 1.0 / RATE),
            models,
            {},
            trainers,
            LaunchConfig(
                states_dir=states,
                max_uptime=seconds + 2.0,  # the window starts at the first step
                web_api_address=None,
                **changes,
            ),
        )
        stop_sampling.set()
        snapshot = find_latest_state(Path(states))
        assert snapshot is not None, "launch saved no final state"
        run_ends = {
            name: json.loads(
                (snapshot / "trainers" / name / "run_ends.json").read_text()
            )
            for name in trainers
        }
    gc.callbacks.remove(gc_pauses)
    start = agent.times[0]
    end = start + seconds
    times = [t for t in agent.times if t < end]
    late = sorted(
        max(0.0, b - a - 1.0 / RATE) * 1e3 for a, b in itertools.pairwise(times)
    )
    full = [d for t, d, _ in gc_pauses.full if start <= t < end]
    young = [
        d
        for t, d in zip(gc_pauses.young_ends, gc_pauses.young_seconds, strict=True)
        if start <= t < end
    ]
    worst = sorted(
        ((b - a - 1.0 / RATE, a - start) for a, b in itertools.pairwise(times)),
        reverse=True,
    )[:5]
    return {
        "worst": [(round(t, 3), round(late * 1e3, 1)) for late, t in worst],
        "kept": len(times) / (seconds * RATE),
        "p50": statistics.median(late),
        "p99": late[min(len(late) - 1, math.ceil(0.99 * len(late)) - 1)],
        "max": late[-1],
        "runs_per_s": {
            name: sum(start <= t < end for t in ends) / seconds
            for name, ends in run_ends.items()
        },
        "full_gcs": len(full),
        "longest_gc_ms": max(full, default=0.0) * 1e3,
        "young_gcs": len(young),
        "longest_young_gc_ms": max(young, default=0.0) * 1e3,
        "launch_s": start - launched,
        "samples": samples,
    }


def sample_memory(
    samples: list[dict[str, Any]],
    step_times: "array.array[float]",
    gc_pauses: GcPauses,
    every: float,
    stop: threading.Event,
) -> None:
    """Every ``every`` seconds from the first step, record memory and the collector.

    Each sample reads only the steps and collections since the previous one, so the
    sampler holds the GIL for well under a millisecond.
    """
    while not step_times and not stop.wait(0.01):
        pass
    if not step_times:
        return
    start = step_times[0]
    seen_steps = 0
    seen_full = first_full = len(gc_pauses.full)  # not those of the launch
    for index in itertools.count(1):
        if stop.wait(max(0.0, start + index * every - std_time.perf_counter())):
            return
        steps = len(step_times)
        new_steps = step_times[max(0, seen_steps - 1) : steps]
        seen_steps = steps
        full = gc_pauses.full[seen_full:]
        seen_full += len(full)
        samples.append(
            {
                "t": std_time.perf_counter() - start,
                "rss_mb": resident_mb(),
                "gc_count": gc.get_count(),
                "frozen": gc.get_freeze_count(),
                "full_gcs": seen_full - first_full,
                "longest_gc_ms": max((d for _, d, _ in full), default=0.0) * 1e3,
                "longest_gc_cpu_ms": max((c for _, _, c in full), default=0.0) * 1e3,
                "max_late_ms": max(
                    (
                        max(0.0, b - a - 1.0 / RATE) * 1e3
                        for a, b in itertools.pairwise(new_steps)
                    ),
                    default=0.0,
                ),
            }
        )


def resident_mb() -> float:
    """This process's resident memory in MiB (Linux; NaN elsewhere)."""
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[1])
    except OSError:
        return math.nan
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def run_child(case: str, args: argparse.Namespace, mode: str) -> dict[str, Any]:
    """Run one case in a fresh interpreter, trainers in ``mode``; return its measures."""
    command = [sys.executable, __file__, "--child", case]
    command += ["--seconds", str(args.seconds), "--training", mode]
    command += ["--keep", str(args.keep)]
    if args.cyclic:
        command.append("--cyclic")
    if args.memory:
        command.append("--memory")
    if args.fifo:
        command.append("--fifo")
    if args.gc_variant is not None:
        command += ["--gc-variant", args.gc_variant]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    lines = [line for line in result.stdout.splitlines() if line.startswith("RESULT ")]
    if result.returncode != 0 or not lines:
        raise RuntimeError(
            f"case {case!r} failed (exit code {result.returncode}):\n{result.stderr}"
        )
    return json.loads(lines[-1].removeprefix("RESULT "))


def child_main(args: argparse.Namespace) -> None:
    logging.disable(logging.WARNING)
    case: str = args.child
    changes = {**TRAINING_MODES[args.training], **CASES.get(case, {})}
    result = run_case(changes, args)
    print("RESULT " + json.dumps(result), flush=True)


def spread(values: list[float], form: str) -> str:
    """One value, or ``worst-best`` ordered low to high, in ``form``."""
    low, high = min(values), max(values)
    if form.format(low) == form.format(high):
        return form.format(low)
    return f"{form.format(low)}-{form.format(high)}"


def print_table(results: dict[str, list[dict[str, Any]]]) -> None:
    print(
        "| case | steps kept | lateness p50 ms | p99 ms | max ms "
        "| torch runs/s | batch runs/s | full GCs | longest ms "
        "| young GCs | longest ms | launch s |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for case, runs in results.items():
        rates = [
            spread([r["runs_per_s"].get(t, 0.0) for r in runs], "{:.1f}")
            for t in TRAINERS
        ]
        print(
            f"| {case} | {spread([100 * r['kept'] for r in runs], '{:.1f} %')} "
            f"| {spread([r['p50'] for r in runs], '{:.3f}')} "
            f"| {spread([r['p99'] for r in runs], '{:.2f}')} "
            f"| {spread([r['max'] for r in runs], '{:.1f}')} "
            f"| {rates[0]} | {rates[1]} "
            f"| {spread([r['full_gcs'] for r in runs], '{:.0f}')} "
            f"| {spread([r['longest_gc_ms'] for r in runs], '{:.1f}')} "
            f"| {spread([r['young_gcs'] for r in runs], '{:.0f}')} "
            f"| {spread([r['longest_young_gc_ms'] for r in runs], '{:.1f}')} "
            f"| {spread([r['launch_s'] for r in runs], '{:.1f}')} |"
        )


def runs_ratio(
    ours: list[dict[str, Any]], baseline: list[dict[str, Any]], trainer: str
) -> str | None:
    """``trainer``'s runs/s in ``ours`` over ``baseline``, round by round, spread.

    None if the trainer never ran in the baseline.
    """
    ratios = [
        o["runs_per_s"][trainer] / b["runs_per_s"][trainer]
        for o, b in zip(ours, baseline, strict=True)
        if b["runs_per_s"][trainer] > 0
    ]
    return spread(ratios, "{:.2f}x") if ratios else None


def print_mode_ratios(
    results: dict[str, list[dict[str, Any]]], modes: list[str]
) -> None:
    """Trainer runs/s of each mode against the first, launch defaults, per round."""
    first = results.get(labelled(next(iter(CASES)), modes[0], modes))
    for mode in modes[1:]:
        other = results.get(labelled(next(iter(CASES)), mode, modes))
        if not first or not other:
            continue
        for trainer in TRAINERS:
            shown = runs_ratio(other, first, trainer) or "n/a"
            print(
                f"{trainer} trainer runs/s, launch defaults, {mode} / {modes[0]}: "
                f"{shown}"
            )


def labelled(case: str, mode: str, modes: list[str]) -> str:
    """The table's name of ``case`` run in ``mode`` (the mode only if several)."""
    if len(modes) == 1 or case == REFERENCE:
        return case
    return f"{case}, {mode}"


def print_ratios(results: dict[str, list[dict[str, Any]]]) -> None:
    ours = results.get(next(iter(CASES)))
    baseline = results.get(BASELINE)
    if not ours or not baseline:
        return
    for trainer in TRAINERS:
        shown = runs_ratio(ours, baseline, trainer) or "n/a (no run in the baseline)"
        print(
            f"{trainer} trainer runs/s, launch defaults / {BASELINE}: {shown} "
            "(target: at least 0.9x)"
        )


def memory_main(args: argparse.Namespace) -> None:
    case = next(iter(CASES)) if args.case is None else args.case
    print(
        f"memory over {args.seconds:g} s, case: {case}, Python trainer keeps "
        f"{args.keep} {'cyclic ' if args.cyclic else ''}rows, gc variant: "
        f"{args.gc_variant or 'none'}\n"
    )
    result = run_child(case, args, args.modes[0])
    print(
        "| s | RSS MiB | gc.get_count() | frozen | full GCs so far "
        "| longest GC ms | of it CPU ms | max lateness ms |"
    )
    print("|---:|---:|---|---:|---:|---:|---:|---:|")
    for s in result["samples"]:
        print(
            f"| {s['t']:.1f} | {s['rss_mb']:.1f} | {tuple(s['gc_count'])} "
            f"| {s['frozen']} | {s['full_gcs']} | {s['longest_gc_ms']:.1f} "
            f"| {s['longest_gc_cpu_ms']:.1f} "
            f"| {s['max_late_ms']:.1f} |"
        )
    print(
        f"\nwhole run: {100 * result['kept']:.1f} % steps kept, lateness p99 "
        f"{result['p99']:.2f} ms, max {result['max']:.1f} ms; "
        f"{result['full_gcs']} full GCs, longest {result['longest_gc_ms']:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="three cases of 1 s, for CI"
    )
    parser.add_argument("--seconds", type=float, default=None, help="per case")
    parser.add_argument("--repeat", type=int, default=1, help="rounds of all cases")
    parser.add_argument(
        "--training",
        default="thread",
        help="where the trainers run (the LaunchConfig setting): "
        f"{' or '.join(TRAINING_MODES)}, or several separated by commas, which "
        "take turns like the cases (for example thread,process)",
    )
    parser.add_argument(
        "--memory", action="store_true", help="memory and collector over time"
    )
    parser.add_argument(
        "--keep", type=int, default=0, help="rows the Python trainer keeps alive"
    )
    parser.add_argument(
        "--cyclic", action="store_true", help="kept rows refer to themselves"
    )
    parser.add_argument(
        "--case", choices=[*CASES, REFERENCE], default=None, help="only this case"
    )
    parser.add_argument(
        "--fifo",
        action="store_true",
        help="run the agent's thread under SCHED_FIFO (root or CAP_SYS_NICE), so "
        "that the machine's other load does not delay it",
    )
    parser.add_argument(
        "--gc-variant",
        choices=GC_VARIANTS,
        default=None,
        help="another way to treat objects created after launch (not launch's)",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.seconds = args.seconds or (1.0 if args.quick else 10.0)
    args.modes = args.training.split(",")
    unknown = [m for m in args.modes if m not in TRAINING_MODES]
    if unknown:
        parser.error(f"--training: unknown modes {unknown}; known: {[*TRAINING_MODES]}")
    if args.child is not None:
        child_main(args)
        return
    print(
        "machine: "
        + describe_machine(
            f"torch {torch.__version__} (default {torch.get_num_threads()} threads)"
        )
    )
    print(
        f"agent at {RATE:g} Hz, training: {', '.join(args.modes)}"
        + (", agent thread under SCHED_FIFO" if args.fifo else "")
    )
    if args.memory:
        memory_main(args)
        return
    cases = [*CASES, REFERENCE]
    if args.case is not None:
        cases = [args.case]
    elif args.quick:
        cases = QUICK_CASES
    print(
        f"{args.seconds:g} s per case from the first step, {args.repeat} round(s), "
        "each case in a fresh process, cases taking turns\n"
    )
    modes: list[str] = args.modes
    runs = list(
        dict.fromkeys(
            (case, REFERENCE_MODE if case == REFERENCE else mode)
            for case in cases
            for mode in modes
        )
    )
    results: dict[str, list[dict[str, Any]]] = {
        labelled(case, mode, modes): [] for case, mode in runs
    }
    for round_index in range(args.repeat):
        shift = round_index % len(runs)
        for case, mode in runs[shift:] + runs[:shift]:
            results[labelled(case, mode, modes)].append(run_child(case, args, mode))
    if args.repeat > 1:
        print("Each cell: lowest-highest over the rounds.\n")
    print_table(results)
    print()
    if len(modes) == 1:
        print_ratios(results)
    else:
        print_mode_ratios(results, modes)
    if args.case is not None and len(modes) == 1:
        for run in results[args.case]:
            print(
                f"five latest steps, (s after the first step, ms late): {run['worst']}"
            )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
