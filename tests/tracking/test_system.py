"""The once-per-system hooks, their order, and the tracking part of the saved state."""

import json
import logging
from pathlib import Path

import pytest

from pamiq_core.interaction import EnvironmentWrapper
from pamiq_core.state_persistence import StateStore
from pamiq_core.tracking import SystemTracking, active_tracker, system_components

from .components import CountingAgent, CountingEnvironment, HookedBuffer, LossTrainer
from .loggers import BrokenLogger, ListLogger


def build(log: list[str], **fail_on: str) -> dict[str, object]:
    """One of each component, the agent with a child that has a child."""

    def fails(label: str) -> set[str]:
        return {fail_on[label]} if label in fail_on else set()

    grandchild = CountingAgent("grandchild", log, fails("grandchild"))
    child = CountingAgent("child", log, fails("child"), {"grandchild": grandchild})
    return {
        "buffers": {"replay": HookedBuffer("buffer", log, fails("buffer"))},
        "trainers": {
            "first": LossTrainer("trainer1", log, fails("trainer1")),
            "second": LossTrainer("trainer2", log, fails("trainer2")),
        },
        "environment": EnvironmentWrapper(
            CountingEnvironment("environment", log, fails("environment")),
            lambda o: o,
            lambda a: a,
        ),
        "agent": CountingAgent("agent", log, fails("agent"), {"child": child}),
    }


START_ORDER = [
    "buffer",
    "trainer1",
    "trainer2",
    "environment",
    "agent",
    "child",
    "grandchild",
]


def test_components_get_their_namespaces_in_start_order() -> None:
    components = build([])
    assert [name for name, _ in system_components(**components)] == [  # type: ignore[arg-type]
        "buffers/replay",
        "trainers/first",
        "trainers/second",
        "environment",  # the wrapper
        "environment",  # the environment it wraps
        "agent",
        "agent/child",
        "agent/child/grandchild",
    ]


def test_hooks_run_once_each_in_order_at_start_and_in_reverse_at_stop() -> None:
    log: list[str] = []
    system = SystemTracking(**build(log))  # type: ignore[arg-type]
    system.start()
    assert log == [f"{label}.start" for label in START_ORDER]
    log.clear()
    system.stop()
    assert log == [f"{label}.stop" for label in reversed(START_ORDER)]
    system.stop()  # stopping twice runs nothing twice
    assert len(log) == len(START_ORDER)


def test_a_component_listed_twice_gets_its_hooks_once() -> None:
    log: list[str] = []
    trainer = LossTrainer("trainer", log)
    system = SystemTracking(trainers={"a": trainer, "b": trainer})
    system.start()
    system.stop()
    assert log == ["trainer.start", "trainer.stop"]
    assert trainer.tracking_namespace == "trainers/a"


def test_hooks_may_log_at_start_and_at_stop() -> None:
    logger = ListLogger()

    class Announcing(LossTrainer):
        def on_system_start(self) -> None:
            self.log_scalar("started", 1.0)

        def on_system_stop(self) -> None:
            self.log_scalar("stopped", 1.0)

    system = SystemTracking(trainers={"t": Announcing()}, loggers=[logger])
    system.start()
    system.stop()
    assert [r.name for r in logger.records] == [
        "trainers/t/started",
        "trainers/t/stopped",
    ]


def test_a_failing_start_hook_stops_what_started_closes_loggers_and_raises() -> None:
    log: list[str] = []
    logger = ListLogger()
    system = SystemTracking(**build(log, environment="start"), loggers=[logger])  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="environment cannot start") as raised:
        system.start()
    assert "in on_system_start of environment" in str(raised.value.__notes__)
    assert log == [
        "buffer.start",
        "trainer1.start",
        "trainer2.start",
        "environment.start",
        "trainer2.stop",
        "trainer1.stop",
        "buffer.stop",
    ]
    assert logger.calls[-1] == "close"
    assert active_tracker() is None
    system.stop()  # nothing more to stop
    assert log[-1] == "buffer.stop"


def test_every_stop_hook_runs_and_all_their_errors_are_raised_together() -> None:
    log: list[str] = []
    logger = ListLogger()
    system = SystemTracking(
        **build(log, child="stop", trainer1="stop"),  # type: ignore[arg-type]
        loggers=[logger],
    )
    system.start()
    log.clear()
    with pytest.raises(ExceptionGroup) as raised:
        system.stop()
    assert log == [f"{label}.stop" for label in reversed(START_ORDER)]
    messages = [str(e) for e in raised.value.exceptions]
    assert messages == ["child cannot stop", "trainer1 cannot stop"]
    notes = [e.__notes__ for e in raised.value.exceptions]
    assert notes == [
        ["(in on_system_stop of agent/child: CountingAgent)"],
        ["(in on_system_stop of trainers/first: LossTrainer)"],
    ]
    assert logger.calls[-1] == "close"  # loggers closed all the same
    assert active_tracker() is None


def test_a_logger_that_cannot_open_keeps_every_hook_from_running() -> None:
    log: list[str] = []
    system = SystemTracking(**build(log), loggers=[BrokenLogger("open")])  # type: ignore[arg-type]
    with pytest.raises(ConnectionError):
        system.start()
    assert log == []


def store_with(system: SystemTracking, path: Path) -> StateStore:
    store = StateStore(path)
    store.register("tracking", system)
    return store


def test_the_inference_step_count_continues_after_a_resume(tmp_path: Path) -> None:
    steps = 0
    system = SystemTracking(inference_steps=lambda: steps)
    steps = 250
    snapshot = store_with(system, tmp_path).save_state()
    saved = json.loads((snapshot / "tracking" / "tracking.json").read_text())
    assert saved == {"inference_steps": 250, "loggers": {}}

    steps = 0  # a new process counts from 0 again
    resumed = SystemTracking(inference_steps=lambda: steps)
    store_with(resumed, tmp_path).load_state(snapshot)
    assert resumed.inference_step() == 250
    steps = 5
    assert resumed.inference_step() == 255


def test_a_resumed_system_gives_each_logger_what_it_kept(tmp_path: Path) -> None:
    keeper = ListLogger(resume_token={"run_id": "r-1"})
    system = SystemTracking(loggers=[keeper, ListLogger()])
    system.start()
    snapshot = store_with(system, tmp_path).save_state()
    system.stop()

    again = ListLogger()
    resumed = SystemTracking(loggers=[again, ListLogger()])
    store_with(resumed, tmp_path).load_state(snapshot)
    resumed.start()
    resumed.stop()
    assert again.runs[0].resume == {"run_id": "r-1"}
    assert again.runs[0].resumed_from == snapshot


def test_a_snapshot_saved_after_stop_still_names_the_run(tmp_path: Path) -> None:
    system = SystemTracking(loggers=[ListLogger(resume_token={"run_id": "r-2"})])
    system.start()
    system.stop()
    snapshot = store_with(system, tmp_path).save_state()
    saved = json.loads((snapshot / "tracking" / "tracking.json").read_text())
    assert saved["loggers"] == {"ListLogger": {"run_id": "r-2"}}


def test_a_snapshot_without_tracking_state_starts_fresh(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    system = SystemTracking(inference_steps=lambda: 3)
    with caplog.at_level(logging.INFO):
        system.load_state(tmp_path / "missing")  # a PAMIQ-Core 0.6 snapshot
    assert system.inference_step() == 3
    assert "No tracking state" in caplog.text


def test_a_corrupt_tracking_state_is_refused_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "tracking.json").write_text('{"loggers": {}}')
    with pytest.raises(
        ValueError, match=r"tracking\.json' is not a pamiq-core tracking"
    ):
        SystemTracking().load_state(tmp_path)
