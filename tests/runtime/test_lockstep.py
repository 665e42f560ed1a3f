"""training="lockstep": the agent and the trainers take turns in virtual pamiq time."""

import csv
import shutil
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pamiq_core import (
    Agent,
    Environment,
    FixedIntervalInteraction,
    Interaction,
    LaunchConfig,
    Trainer,
    launch,
    time,
)
from pamiq_core.console.system_status import SystemStatus
from pamiq_core.console.web_api import WebApiClient
from pamiq_core.data.impls import RandomReplacementBuffer, SequentialBuffer
from pamiq_core.launcher import TRAINING_MODES
from pamiq_core.runtime import lockstep_side
from pamiq_core.state_persistence import (
    MANIFEST_NAME,
    find_latest_state,
    is_complete_state,
    load_pickle,
)
from pamiq_core.tracking import CSVLogger

sys.path.insert(0, str(Path(__file__).parents[1]))
from eventually import eventually
from runtime.lockstep_system import build, fingerprint, follow_the_real_clocks

LOCKSTEP: dict[str, Any] = {"training": "lockstep", "web_api_address": None}


@pytest.fixture(autouse=True)
def restore_global_time() -> Iterator[None]:
    yield
    time.resume()
    time.set_time_scale(1.0)
    assert not time.is_virtual(), "a launch left pamiq time virtual"
    follow_the_real_clocks()


def run(system: dict[str, Any], states: Path, **options: Any) -> Path:
    """Launch ``system`` with ``options`` in lock-step mode; return its final snapshot."""
    launch(**system, config=LaunchConfig(states_dir=states, **{**LOCKSTEP, **options}))
    final = find_latest_state(states)
    assert final is not None
    return final


def logged(path: Path) -> list[tuple[str, str, str]]:
    """The CSV logger's rows without their wall time: (step, name, value)."""
    with path.open(newline="") as file:
        rows = list(csv.DictReader(file))
    return [(row["step"], row["name"], row["value"]) for row in rows]


class Steps(Agent[int, int]):
    """Notes each step, with the pamiq time it started at, in a shared list."""

    def __init__(self, events: list[str]) -> None:
        super().__init__()
        self.events = events
        self.times: list[float] = []

    def step(self, observation: int) -> int:
        self.times.append(time.time())
        self.events.append("step")
        return observation


class Collecting(Steps):
    def on_data_collectors_attached(self) -> None:
        self.items = self.get_data_collector("items")

    def step(self, observation: int) -> int:
        self.items.collect(observation)
        return super().step(observation)


class Zero(Environment[int, int]):
    def observe(self) -> int:
        return 0

    def affect(self, action: int) -> None:
        pass


class Named(Trainer):
    """Notes its name in the shared list each time it trains."""

    def __init__(self, name: str, events: list[str], **condition: Any) -> None:
        super().__init__(**condition)
        self.name = name
        self.events = events

    def train(self) -> None:
        self.events.append(self.name)


class TestReproducibility:
    def test_two_runs_with_the_same_seed_are_bit_identical(
        self, tmp_path: Path
    ) -> None:
        results = []
        for name in ("first", "second"):
            system = build()
            csv_path = tmp_path / f"{name}.csv"
            run(
                system,
                tmp_path / name,
                seed=7,
                max_steps=600,
                train_every=3,
                loggers=[CSVLogger(csv_path)],
            )
            agent = system["interaction"].agent
            results.append((fingerprint(system), agent.times, logged(csv_path)))
        assert results[0][2], "nothing was logged"
        assert results[0] == results[1]

    def test_another_seed_gives_another_run(self, tmp_path: Path) -> None:
        first, second = build(), build()
        run(first, tmp_path / "a", seed=1, max_steps=200)
        run(second, tmp_path / "b", seed=2, max_steps=200)
        assert fingerprint(first)["gain"] != fingerprint(second)["gain"]
        assert fingerprint(first)["observations"] != fingerprint(second)["observations"]

    def test_a_run_resumed_at_step_k_equals_an_uninterrupted_run_to_step_n(
        self, tmp_path: Path
    ) -> None:
        options = {"seed": 3, "train_every": 4}
        whole = build()
        run(
            whole,
            tmp_path / "whole",
            max_steps=500,
            **options,
            loggers=[CSVLogger(tmp_path / "whole.csv")],
        )

        first_part = build()
        snapshot = run(
            first_part,
            tmp_path / "parts",
            max_steps=198,
            **options,
            loggers=[CSVLogger(tmp_path / "parts.csv")],
        )
        rest = build()
        run(
            rest,
            tmp_path / "parts",
            max_steps=302,
            saved_state_path=snapshot,
            **options,
            loggers=[CSVLogger(tmp_path / "parts.csv")],
        )

        assert fingerprint(rest) == fingerprint(whole)
        assert rest["interaction"].agent.times == whole["interaction"].agent.times[198:]
        # The CSV file of the two parts holds what the whole run logged.
        assert logged(tmp_path / "parts.csv") == logged(tmp_path / "whole.csv")

    def test_adding_a_component_leaves_the_other_streams_unchanged(
        self, tmp_path: Path
    ) -> None:
        plain, extended = build(), build()
        extended["buffers"]["spare"] = RandomReplacementBuffer[int](max_size=3)
        run(plain, tmp_path / "plain", seed=5, max_steps=300)
        run(extended, tmp_path / "extended", seed=5, max_steps=300)
        assert fingerprint(extended) == fingerprint(plain)

    def test_without_a_seed_runs_still_resume_exactly(self, tmp_path: Path) -> None:
        first = build()
        snapshot = run(first, tmp_path / "a", max_steps=100)
        copy = tmp_path / "copy"
        shutil.copytree(snapshot, copy / snapshot.name)
        resumed = [build(), build()]
        for index, system in enumerate(resumed):
            run(
                system,
                tmp_path / f"resumed{index}",
                max_steps=100,
                saved_state_path=copy / snapshot.name,
            )
        assert fingerprint(resumed[0]) == fingerprint(resumed[1])


class TestRounds:
    def test_trainers_run_in_order_after_every_train_every_steps(
        self, tmp_path: Path
    ) -> None:
        events: list[str] = []
        run(
            {
                "interaction": Interaction(Steps(events), Zero()),
                "models": {},
                "buffers": {},
                "trainers": {"a": Named("a", events), "b": Named("b", events)},
            },
            tmp_path,
            max_steps=7,
            train_every=3,
        )
        rounds = ["step", "step", "step", "a", "b"]
        assert events == rounds + rounds + ["step"]

    def test_a_trainer_whose_condition_does_not_hold_skips_its_turn(
        self, tmp_path: Path
    ) -> None:
        events: list[str] = []
        run(
            {
                "interaction": Interaction(Collecting(events), Zero()),
                "models": {},
                "buffers": {"items": SequentialBuffer[int](100)},
                "trainers": {
                    "every_third": Named(
                        "every_third",
                        events,
                        training_condition_data_user="items",
                        min_new_data_count=3,
                    ),
                    "always": Named("always", events),
                },
            },
            tmp_path,
            max_steps=6,
        )
        three_steps = [
            *["step", "always", "step", "always"],
            *["step", "every_third", "always"],
        ]
        assert events == three_steps + three_steps

    def test_a_resumed_run_trains_at_the_steps_the_original_would(
        self, tmp_path: Path
    ) -> None:
        events: list[str] = []

        def system() -> dict[str, Any]:
            return {
                "interaction": Interaction(Steps(events), Zero()),
                "models": {},
                "buffers": {},
                "trainers": {"t": Named("t", events)},
            }

        snapshot = run(system(), tmp_path, max_steps=4, train_every=3)
        assert events == ["step"] * 3 + ["t", "step"]
        events.clear()
        run(system(), tmp_path, max_steps=5, train_every=3, saved_state_path=snapshot)
        # Steps 5 to 9 of the system: rounds after steps 6 and 9.
        assert events == ["step", "step", "t", "step", "step", "step", "t"]


class TestVirtualTime:
    def test_each_step_takes_the_interval_of_a_fixed_interval_interaction(
        self, tmp_path: Path
    ) -> None:
        agent = Steps([])
        final = run(
            {
                "interaction": FixedIntervalInteraction.with_sleep_adjustor(
                    agent, Zero(), interval=0.25
                ),
                "models": {},
                "buffers": {},
                "trainers": {},
            },
            tmp_path,
            max_steps=8,
        )
        assert agent.times == [0.25 * i for i in range(8)]
        assert load_pickle(final / "time.pkl")["scaled_anchor_time"] == 2.0

    def test_a_step_of_an_unpaced_interaction_takes_the_default_interval(
        self, tmp_path: Path
    ) -> None:
        agent = Steps([])
        run(
            {
                "interaction": Interaction(agent, Zero()),
                "models": {},
                "buffers": {},
                "trainers": {},
            },
            tmp_path,
            max_steps=3,
        )
        step = lockstep_side.DEFAULT_STEP_INTERVAL
        assert agent.times == [0.0, step, step + step]

    def test_a_sleep_interval_adjustor_neither_sleeps_nor_spins_in_virtual_time(
        self,
    ) -> None:
        import time as std_time

        from pamiq_core.interaction.interval_adjustors import SleepIntervalAdjustor

        clock = time.get_global_time_controller()
        clock.use_virtual_time(time.VIRTUAL_EPOCH)
        try:
            adjustor = SleepIntervalAdjustor(interval=1.0, offset=0.25)
            adjustor.reset()
            start = std_time.perf_counter()
            periods = [adjustor.adjust() for _ in range(1000)]
            real = std_time.perf_counter() - start
        finally:
            clock.use_real_time()
        assert periods == [0.75] * 1000
        # Spinning its margin would take at least 1 ms of real time per period.
        assert real < 0.5, f"1000 virtual periods took {real:.3f} real seconds"

    @pytest.mark.timeout(120)  # an hour of real sleeping would never finish
    def test_an_hour_of_pamiq_time_runs_without_sleeping_and_stops_at_max_uptime(
        self, tmp_path: Path
    ) -> None:
        agent = Steps([])
        final = run(
            {
                "interaction": FixedIntervalInteraction.with_sleep_adjustor(
                    agent, Zero(), interval=0.5
                ),
                "models": {},
                "buffers": {},
                "trainers": {},
            },
            tmp_path,
            max_uptime=3600.0,
        )
        # Steps start while no more than max_uptime has passed: at 0, 0.5, ... 3600.
        assert len(agent.times) == 7201
        assert agent.times[-1] == 3600.0
        assert load_pickle(final / "time.pkl")["scaled_anchor_time"] == 3600.5

    def test_a_resumed_run_continues_pamiq_time_where_the_saved_one_stopped(
        self, tmp_path: Path
    ) -> None:
        def system(agent: Steps) -> dict[str, Any]:
            return {
                "interaction": FixedIntervalInteraction.with_sleep_adjustor(
                    agent, Zero(), interval=0.5
                ),
                "models": {},
                "buffers": {},
                "trainers": {},
            }

        snapshot = run(system(Steps([])), tmp_path, max_steps=4)
        resumed = Steps([])
        run(system(resumed), tmp_path, max_steps=2, saved_state_path=snapshot)
        assert resumed.times == [2.0, 2.5]
        fresh = Steps([])
        run(system(fresh), tmp_path / "fresh", max_steps=1, saved_state_path="latest")
        assert fresh.times == [0.0]  # "latest" in an empty directory: from the epoch

    def test_pamiq_time_goes_on_from_the_runs_last_reading_after_it(
        self, tmp_path: Path
    ) -> None:
        run(build(), tmp_path, max_steps=1000)  # 100 s of virtual time
        assert not time.is_virtual()
        after = time.time()
        assert 100.0 <= after < 160.0
        eventually(lambda: time.time() > after, what="pamiq time to run again")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Counting(Agent[int, int]):
    """Counts its steps and notes when one is running."""

    def __init__(self) -> None:
        super().__init__()
        self.steps = 0
        self.in_step = False
        self.stepped = threading.Event()

    def step(self, observation: int) -> int:
        self.in_step = True
        self.steps += 1
        self.stepped.set()
        self.in_step = False
        return observation

    def save_state(self, path: Path) -> None:
        path.write_text(str(self.steps))


class Runs(Trainer):
    def __init__(self) -> None:
        super().__init__()
        self.runs = 0

    def train(self) -> None:
        self.runs += 1


class TestControl:
    def test_the_web_api_pauses_saves_resumes_and_shuts_down_a_run(
        self, tmp_path: Path
    ) -> None:
        port = free_port()
        agent, trainer = Counting(), Runs()
        runner = threading.Thread(
            target=launch,
            args=(Interaction(agent, Zero()), {}, {}, {"runs": trainer}),
            kwargs={
                "config": LaunchConfig(
                    states_dir=tmp_path,
                    training="lockstep",
                    train_every=2,
                    web_api_address=("localhost", port),
                )
            },
        )
        runner.start()
        client = WebApiClient("localhost", port)
        try:
            assert agent.stepped.wait(30), "the agent never stepped"
            eventually(lambda: client.get_status() is SystemStatus.ACTIVE)
            assert client.pause() == "ok"
            assert client.get_status() is SystemStatus.PAUSED
            paused_at = agent.steps
            assert not agent.in_step
            assert trainer.runs == paused_at // 2  # never between a step and its round
            agent.stepped.clear()
            assert not agent.stepped.wait(0.2), "the agent stepped while paused"

            assert client.save_state() == "ok"
            saved = find_latest_state(tmp_path)
            assert saved is not None
            assert (saved / "interaction" / "agent").read_text() == str(paused_at)
            metrics = client.get_metrics()
            assert metrics is not None
            assert metrics["trainers"]["runs"]["runs"] == trainer.runs

            assert client.resume() == "ok"
            assert agent.stepped.wait(30), "the agent did not step after the resume"
            assert client.shutdown() == "ok"
            runner.join(timeout=60)
            assert not runner.is_alive()
        finally:
            client.shutdown()
            client.close()
            runner.join(timeout=60)

    def test_a_shutdown_asked_for_from_another_thread_is_carried_out_by_the_control_thread(
        self, tmp_path: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        from pamiq_core.state_persistence import StateStore
        from pamiq_core.thread.threads import ControlThread

        control = ControlThread(StateStore(tmp_path), web_api_address=None)
        control.attach_thread_statuses({})
        runner = threading.Thread(target=control.run)
        with caplog.at_level("INFO"):
            runner.start()
            control.request_shutdown("Enough steps.")
            runner.join(timeout=30)
        assert not runner.is_alive()
        assert control.controller.is_shutdown()
        assert "Enough steps." in caplog.messages

    def test_every_pause_lands_between_two_steps_and_their_rounds(
        self, tmp_path: Path
    ) -> None:
        from pamiq_core.data import DataUsersDict
        from pamiq_core.model import TrainingModelsDict
        from pamiq_core.state_persistence import StateStore
        from pamiq_core.thread import ThreadTypes
        from pamiq_core.thread.threads import ControlThread, InferenceThread
        from pamiq_core.trainer import TrainersDict

        agent, trainer = Counting(), Runs()
        control = ControlThread(
            StateStore(tmp_path), web_api_address=None, timeout_for_all_threads_pause=30
        )
        inference = InferenceThread(Interaction(agent, Zero()))
        inference.attach_controller(control.controller)
        trainers = TrainersDict({"runs": trainer})
        side = lockstep_side.LockstepTrainingSide(
            trainers,
            TrainingModelsDict({}),
            DataUsersDict({}),
            {},
            agent_thread=inference,
            controller=control.controller,
            settings=lockstep_side.LockstepSettings(train_every=3),
            steps=lambda: 0,
            request_shutdown=lambda reason: None,
        )
        control.attach_thread_statuses({ThreadTypes.INFERENCE: inference.thread_status})
        steps = 0
        side.start()
        inference.start()
        try:
            for _ in range(200):
                assert control.try_pause()
                steps = agent.steps
                assert not agent.in_step
                assert trainer.runs == steps // 3
                control.resume()
            eventually(lambda: agent.steps > steps, what="a step after the last resume")
        finally:
            control.shutdown()
            inference.join()
            side.close(1.0)
        assert inference.exception is None


class Failing(Trainer):
    def train(self) -> None:
        raise ZeroDivisionError("the trainer failed on purpose")


class Chatty(Agent[int, int]):
    """Logs a hundred values a step: far more than the tracking queue holds."""

    NAMES = tuple(f"v{i}" for i in range(100))

    def step(self, observation: int) -> int:
        self.log_scalars(dict.fromkeys(self.NAMES, 1.0))
        return observation


def test_no_logged_value_is_dropped_however_fast_the_run_goes(tmp_path: Path) -> None:
    from pamiq_core.testing import run_lockstep

    result = run_lockstep(Interaction(Chatty(), Zero()), steps=3000)
    # 300,000 records: three times the queue of launch's tracker.
    assert len(result.scalars) == 300_000
    assert [s.step for s in result.scalars[::100]] == list(range(3000))


class TestFailuresAndSnapshots:
    def test_an_error_in_a_trainer_stops_the_run_and_is_raised(
        self, tmp_path: Path
    ) -> None:
        agent = Steps([])
        with pytest.raises(ZeroDivisionError, match="on purpose"):
            run(
                {
                    "interaction": Interaction(agent, Zero()),
                    "models": {},
                    "buffers": {},
                    "trainers": {"failing": Failing()},
                },
                tmp_path,
                train_every=5,
            )
        assert len(agent.times) == 5
        assert find_latest_state(tmp_path) is not None

    def test_a_snapshot_has_the_same_parts_in_lockstep_and_thread_mode(
        self, tmp_path: Path
    ) -> None:
        lockstep = run(build(), tmp_path / "lockstep", max_steps=50)
        threaded = run(build(), tmp_path / "thread", training="thread", max_uptime=0.2)
        assert sorted(p.name for p in lockstep.iterdir()) == sorted(
            p.name for p in threaded.iterdir()
        )
        assert (lockstep / "random" / "generators.pkl").is_file()

    def test_a_thread_mode_snapshot_resumes_in_lockstep_mode(
        self, tmp_path: Path
    ) -> None:
        threaded = build()
        snapshot = run(threaded, tmp_path, training="thread", max_uptime=0.3)
        saved_time = load_pickle(snapshot / "time.pkl")["scaled_anchor_time"]
        resumed = build()
        run(resumed, tmp_path, max_steps=3, saved_state_path=snapshot)
        assert (
            resumed["interaction"].agent.steps
            == threaded["interaction"].agent.steps + 3
        )
        assert resumed["interaction"].agent.times[0] == saved_time

    def test_a_snapshot_without_generator_states_loads_as_before(
        self, tmp_path: Path
    ) -> None:
        snapshot = run(build(), tmp_path / "new", max_steps=20, seed=1)
        old = tmp_path / "old" / "0.6.state"
        shutil.copytree(snapshot, old)
        for part in ("random", "tracking"):  # as PAMIQ-Core 0.6 wrote it
            shutil.rmtree(old / part)
        (old / MANIFEST_NAME).unlink()
        assert not is_complete_state(old)
        resumed = build()
        run(resumed, tmp_path / "old", max_steps=5, seed=1, saved_state_path=old)
        assert resumed["interaction"].agent.steps == 25


class TestConfig:
    def test_lockstep_is_a_training_mode(self) -> None:
        assert "lockstep" in TRAINING_MODES
        assert LaunchConfig(training="lockstep", train_every=4).train_every == 4

    @pytest.mark.parametrize("field", ["train_every", "max_steps"])
    def test_lockstep_options_need_lockstep_mode(self, field: str) -> None:
        with pytest.raises(ValueError, match=f"{field} needs training='lockstep'"):
            LaunchConfig(**dict[str, Any]({field: 3}))

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("train_every", 0),
            ("train_every", 1.5),
            ("train_every", True),
            ("max_steps", -1),
            ("max_steps", "10"),
        ],
    )
    def test_invalid_lockstep_options_name_the_field_and_value(
        self, field: str, value: object
    ) -> None:
        with pytest.raises(ValueError, match=field) as info:
            LaunchConfig(training="lockstep", **dict[str, Any]({field: value}))
        assert repr(value) in str(info.value)

    def test_a_time_scale_is_refused_in_lockstep_mode(self) -> None:
        with pytest.raises(ValueError, match=r"time_scale .*'lockstep'.*got 2\.0"):
            LaunchConfig(training="lockstep", time_scale=2.0)
