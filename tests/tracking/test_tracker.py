import logging
import pickle
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from pamiq_core.tracking import (
    HParamsRecord,
    ScalarRecord,
    Tracker,
    _route,
    active_tracker,
    dropped_without_tracker,
    log_hparams,
    log_scalar,
    log_scalars,
    record_event,
)

from .loggers import BrokenLogger, ListLogger


def test_module_level_calls_reach_every_logger_in_order() -> None:
    first, second = ListLogger(), ListLogger()
    with Tracker([first, second]) as tracker:
        assert active_tracker() is tracker
        log_scalar("world/temperature", 20.5, step=1)
        log_scalars({"a": 1, "b": 2.5}, step=2)
        assert tracker.flush()
    assert active_tracker() is None
    for logger in (first, second):
        assert [(r.name, r.value, r.step) for r in logger.records] == [
            ("world/temperature", 20.5, 1),
            ("a", 1.0, 2),
            ("b", 2.5, 2),
        ]
        assert all(isinstance(r, ScalarRecord) for r in logger.records)
        assert logger.calls[0] == "open"
        assert logger.calls[-1] == "close"


def test_records_carry_the_wall_time_of_the_call() -> None:
    logger = ListLogger()
    with Tracker([logger]) as tracker:
        before = time.time()
        log_scalar("x", 1.0, step=0)
        after = time.time()
        tracker.flush()
    (record,) = logger.records
    assert before <= record.wall_time <= after


def test_the_default_step_of_module_level_calls_comes_from_the_tracker() -> None:
    logger = ListLogger()
    with Tracker([logger], default_step=lambda: 41) as tracker:
        log_scalar("x", 1.0)
        log_scalar("y", 2.0, step=3)
        tracker.flush()
    assert [(r.name, r.step) for r in logger.records] == [("x", 41), ("y", 3)]


def test_a_step_may_be_any_integer_type_but_not_a_float() -> None:
    logger = ListLogger()
    with Tracker([logger]) as tracker:
        log_scalar("x", np.float32(0.5), step=np.int64(9))  # type: ignore[arg-type]
        with pytest.raises(
            TypeError, match=r"step of 'x' must be an integer, got float"
        ):
            log_scalar("x", 1.0, step=1.5)  # type: ignore[arg-type]
        tracker.flush()
    assert logger.values("x") == [(9, 0.5)]
    assert type(logger.records[0].step) is int


def test_bad_input_is_refused_clearly_with_or_without_a_tracker() -> None:
    with pytest.raises(
        TypeError, match=r"value of 'loss' must be a number.*str: 'high'"
    ):
        log_scalar("loss", "high")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="name must be a string, got 3"):
        log_scalar(3, 1.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="name must not be empty"):
        log_scalar("", 1.0)
    with (
        Tracker([]),
        pytest.raises(TypeError, match=r"value of 'b' must be a number.*list"),
    ):
        log_scalars({"a": 1.0, "b": [1.0]})  # type: ignore[dict-item]


def test_outside_a_running_tracker_logging_is_dropped_and_counted(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_route._route, "unrouted", 0)  # as in a fresh process
    with caplog.at_level(logging.INFO, logger="pamiq_core.tracking"):
        log_scalar("loss", 1.0)
        log_scalars({"a": 1.0, "b": 2.0})
        log_hparams({"lr": 0.1})
    assert dropped_without_tracker() == 3
    explained = [r for r in caplog.records if "no system is running" in r.message]
    assert len(explained) == 1  # once per process, not once per call
    assert "Scalar 'loss' was logged" in explained[0].message


def test_hparams_are_flattened_and_keep_their_place_among_scalars() -> None:
    logger = ListLogger()
    with Tracker([logger]) as tracker:
        log_scalar("x", 1.0, step=0)
        log_hparams({"optimizer": {"lr": 0.1}, "seed": 1})
        log_scalar("x", 2.0, step=1)
        tracker.flush()
    assert logger.hparams == [{"optimizer/lr": 0.1, "seed": 1}]
    assert logger.calls[1:4] == ["write", "log_hparams", "write"]


def test_flush_waits_until_everything_logged_before_is_written() -> None:
    logger = ListLogger()
    with Tracker([logger], interval=3600) as tracker:  # the writer would sleep an hour
        for step in range(1000):
            log_scalar("x", float(step), step=step)
        assert tracker.flush(timeout=20)
        assert len(logger.records) == 1000
        assert tracker.stats()["written"] == 1000


def test_a_full_queue_drops_new_records_and_counts_them() -> None:
    logger = ListLogger()
    with Tracker([logger], queue_size=10, interval=3600) as tracker:
        for step in range(25):
            log_scalar("x", 1.0, step=step)  # never blocks, the writer is asleep
        assert tracker.stats()["dropped"] == 15
        assert tracker.stats()["queued"] == 10
        tracker.flush()
    assert [step for step, _ in logger.values("x")] == list(range(10))


def test_stop_writes_what_is_still_queued_then_closes() -> None:
    logger = ListLogger()
    tracker = Tracker([logger], interval=3600)
    tracker.start()
    log_scalar("x", 1.0, step=0)
    tracker.stop()
    assert logger.values("x") == [(0, 1.0)]
    assert logger.calls[-2:] == ["flush", "close"]
    tracker.stop()  # a second stop does nothing
    assert logger.calls.count("close") == 1


def test_a_failing_logger_is_reported_once_counted_and_the_others_go_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    broken, healthy = BrokenLogger("write", "flush", "close"), ListLogger()
    with caplog.at_level(logging.ERROR), Tracker([broken, healthy]) as tracker:
        for step in range(3):
            log_scalar("x", 1.0, step=step)
            tracker.flush()
    assert len(healthy.records) == 3
    assert healthy.calls[-1] == "close"
    failures = tracker.stats()["logger_failures"]
    assert failures == {
        "BrokenLogger": 7,
        "ListLogger": 0,
    }  # 3 writes, 3 flushes, close
    reported = [r for r in caplog.records if "BrokenLogger" in r.getMessage()]
    assert [r.getMessage().split(";")[0] for r in reported] == [
        "Logger BrokenLogger failed in write()",
        "Logger BrokenLogger failed in flush()",
        "Logger BrokenLogger failed in close()",
    ]


def test_a_logger_that_cannot_open_stops_the_start_and_closes_the_opened() -> None:
    opened, broken = ListLogger(), BrokenLogger("open")
    tracker = Tracker([opened, broken])
    with pytest.raises(ConnectionError) as raised:
        tracker.start()
    assert "while opening the tracking logger BrokenLogger" in str(
        raised.value.__notes__
    )
    assert opened.calls == ["open", "close"]
    assert active_tracker() is None  # nothing is left routed to it


def test_only_one_tracker_runs_at_a_time() -> None:
    with Tracker([]), pytest.raises(RuntimeError, match="already running"):
        Tracker([]).start()
    with Tracker([]):  # the first one's stop freed the place
        pass


def test_a_tracker_starts_once() -> None:
    tracker = Tracker([])
    with tracker:
        pass
    with pytest.raises(RuntimeError, match="only once"):
        tracker.start()


def test_something_that_is_not_a_logger_is_refused_naming_what_it_lacks() -> None:
    class Half:
        def write(self, records: object) -> None: ...

    with pytest.raises(
        TypeError, match=r"lacks \['open', 'log_hparams', 'flush', 'close'\]"
    ):
        Tracker([Half()])  # type: ignore[list-item]


def test_loggers_of_one_class_get_distinct_keys() -> None:
    tracker = Tracker([ListLogger(), ListLogger(), BrokenLogger()])
    assert list(tracker.stats()["logger_failures"]) == [
        "ListLogger",
        "ListLogger-2",
        "BrokenLogger",
    ]


def test_loggers_learn_the_run_and_what_they_asked_to_keep() -> None:
    keeper = ListLogger(resume_token={"run_id": "abc"})
    tracker = Tracker([keeper, ListLogger()])
    with tracker:
        pass
    assert tracker.resume_data == {"ListLogger": {"run_id": "abc"}}
    assert keeper.runs[0].resume == {}
    assert keeper.runs[0].resumed_from is None

    again = ListLogger()
    with Tracker([again]) as resumed:
        pass
    assert resumed.resume_data == {}
    second = Tracker([again])
    second.start(resume={"ListLogger": {"run_id": "abc"}})
    second.stop()
    assert again.runs[-1].resume == {"run_id": "abc"}


def test_records_from_many_threads_all_arrive() -> None:
    logger = ListLogger()
    threads, per_thread = 8, 500
    start = threading.Barrier(threads)

    def log(index: int) -> None:
        start.wait()
        for step in range(per_thread):
            log_scalar(f"thread{index}", float(step), step=step)

    with Tracker([logger]) as tracker:
        workers = [threading.Thread(target=log, args=(i,)) for i in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        tracker.flush()
    assert tracker.stats()["dropped"] == 0
    for index in range(threads):
        assert logger.values(f"thread{index}") == [
            (s, float(s)) for s in range(per_thread)
        ]


def test_records_made_in_another_process_are_fed_like_local_ones() -> None:
    child = (
        "import pickle, sys\n"
        "from pamiq_core.tracking import HParamsRecord\n"
        "batch = [('trainers/remote/loss', 0.5 / (i + 1), i, 1.7e9 + i) "
        "for i in range(3)]\n"
        "batch.append(HParamsRecord({'trainers/remote/lr': 0.01}, 1.7e9))\n"
        "sys.stdout.buffer.write(pickle.dumps(batch))\n"
    )
    sent = subprocess.run(
        [sys.executable, "-c", child], capture_output=True, check=True
    ).stdout
    logger = ListLogger()
    with Tracker([logger]) as tracker:
        assert tracker.feed(pickle.loads(sent)) == 4
        tracker.flush()
    assert logger.values("trainers/remote/loss") == [(0, 0.5), (1, 0.25), (2, 0.5 / 3)]
    assert logger.hparams == [{"trainers/remote/lr": 0.01}]
    assert tracker.history.latest("trainers/remote/loss") == (2, 0.5 / 3, 1.7e9 + 2)
    assert isinstance(pickle.loads(pickle.dumps(HParamsRecord({}, 0.0))), HParamsRecord)


def test_events_go_to_the_running_trackers_history() -> None:
    record_event("pause")  # no tracker: nothing to mark, no error
    with Tracker([]) as tracker:
        record_event("save", "states/x.state")
    assert [e["kind"] for e in tracker.summary()["events"]] == ["save"]
    assert tracker.summary()["events"][0]["detail"] == "states/x.state"


def test_the_summary_holds_the_history_and_the_counters() -> None:
    with Tracker([]) as tracker:
        log_scalar("agent/reward", 1.0, step=5)
        tracker.flush()
    summary = tracker.summary()
    assert summary["groups"]["agent"]["reward"]["latest"]["value"] == 1.0
    assert summary["stats"] == {
        "written": 1,
        "queued": 0,
        "dropped": 0,
        "logger_failures": {},
    }


def test_feeding_something_that_is_not_a_record_is_refused_whole() -> None:
    logger = ListLogger()
    with Tracker([logger]) as tracker:
        with pytest.raises(TypeError, match=r"Not a tracking record: \('x', 1\.0\)"):
            tracker.feed([("ok", 1.0, 0, 1.7e9), ("x", 1.0)])  # type: ignore[list-item]
        tracker.flush()
    assert logger.records == []


def test_logging_while_trackers_start_and_stop_loses_only_calls_cut_by_a_stop() -> None:
    """Threads keep logging while trackers start and stop under them.

    Nothing raises; every call is written by the tracker that ran or counted as
    dropped without one, except calls caught mid-way by a stop: at most one per
    thread per stop.
    """
    threads, stops = 4, 20
    running = threading.Event()
    finished = threading.Event()
    calls = [0] * threads
    errors: list[BaseException] = []

    def log(index: int) -> None:
        try:
            while not finished.is_set():
                log_scalar(f"thread{index}", 1.0, step=calls[index])
                calls[index] += 1
                running.set()
        except BaseException as e:  # reported below, with the test's failure
            errors.append(e)

    dropped_before = dropped_without_tracker()
    workers = [threading.Thread(target=log, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    written = 0
    for _ in range(stops):
        running.wait()
        logger = ListLogger()
        with Tracker([logger]) as tracker:
            running.clear()
            running.wait()  # some calls land inside this tracker
        written += len(logger.records)
        assert tracker.stats()["dropped"] == 0
    finished.set()
    for worker in workers:
        worker.join()

    assert errors == []
    unrouted = dropped_without_tracker() - dropped_before
    lost = sum(calls) - written - unrouted
    assert written > 0
    assert 0 <= lost <= threads * stops, (sum(calls), written, unrouted)
