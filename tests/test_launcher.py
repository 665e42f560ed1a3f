import dataclasses
import json
import logging
import signal
import socket
import subprocess
import sys
import threading
import time as std_time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import pamiq_core
from pamiq_core import LaunchConfig, launch, time
from pamiq_core.console.system_status import SystemStatus
from pamiq_core.console.web_api import WebApiClient
from pamiq_core.realtime import DEFAULT_SWITCH_INTERVAL
from pamiq_core.state_persistence import (
    MANIFEST_NAME,
    find_latest_state,
    is_complete_state,
    read_manifest,
)

sys.path.insert(0, str(Path(__file__).parent))
from console.openapi_check import schema_validator
from eventually import eventually
from launcher_system import System

CHILD = Path(__file__).parent / "launcher_system.py"


@pytest.fixture(autouse=True)
def restore_global_time() -> Iterator[None]:
    yield
    time.resume()
    time.set_time_scale(1.0)


@pytest.fixture
def states(tmp_path: Path) -> Path:
    return tmp_path / "states"


def snapshots(states: Path) -> list[Path]:
    return sorted(p for p in states.iterdir() if is_complete_state(p))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TestLaunchConfig:
    def test_defaults(self) -> None:
        config = LaunchConfig()
        assert config.states_dir == Path("./states")
        assert config.state_name_format == "%Y-%m-%d_%H-%M-%S,%f.state"
        assert config.saved_state_path is None
        assert config.save_state_condition is None
        assert config.states_keeper is None
        assert config.timeout_for_all_threads_pause == 60.0
        assert config.max_attempts_to_pause_all_threads == 3
        assert config.max_uptime == float("inf")
        assert config.web_api_address == ("localhost", 8391)
        assert config.web_api_command_queue_size == 1
        assert config.log_tick_time_statistics_interval == 60.0
        assert config.time_scale == 1.0
        assert config.switch_interval == DEFAULT_SWITCH_INTERVAL
        assert config.torch_num_threads == "auto"

    def test_spec_fields_come_first_in_order(self) -> None:
        names = [f.name for f in dataclasses.fields(LaunchConfig)]
        assert names[:12] == [
            "states_dir",
            "state_name_format",
            "saved_state_path",
            "save_state_condition",
            "states_keeper",
            "timeout_for_all_threads_pause",
            "max_attempts_to_pause_all_threads",
            "max_uptime",
            "web_api_address",
            "web_api_command_queue_size",
            "log_tick_time_statistics_interval",
            "time_scale",
        ]

    def test_is_frozen(self) -> None:
        with pytest.raises(dataclasses.FrozenInstanceError):
            LaunchConfig().time_scale = 2.0  # type: ignore[misc]

    @pytest.mark.parametrize(
        ("field", "value", "shown"),
        [
            ("time_scale", 0.0, "0.0"),
            ("time_scale", -2.0, "-2.0"),
            ("time_scale", float("nan"), "nan"),
            ("max_uptime", -1.0, "-1.0"),
            ("timeout_for_all_threads_pause", -0.5, "-0.5"),
            ("max_attempts_to_pause_all_threads", -1, "-1"),
            ("log_tick_time_statistics_interval", -1.0, "-1.0"),
            ("switch_interval", 0.0, "0.0"),
            ("torch_num_threads", 0, "0"),
            ("torch_num_threads", "many", "'many'"),
            ("web_api_address", ("localhost", 70000), "70000"),
        ],
    )
    def test_invalid_values_name_the_field_and_value(
        self, field: str, value: Any, shown: str
    ) -> None:
        with pytest.raises(ValueError, match=field) as info:
            LaunchConfig(**{field: value})
        assert shown in str(info.value)

    def test_is_exported_at_top_level(self) -> None:
        assert pamiq_core.LaunchConfig is LaunchConfig
        assert pamiq_core.launch is launch
        assert pamiq_core.__all__[-2:] == ["LaunchConfig", "launch"]


class TestLaunchRuns:
    def test_runs_until_max_uptime_and_saves_a_final_state(self, states: Path) -> None:
        system = System()
        system.launch(states_dir=states, max_uptime=0.5)
        assert system.env.log == ["setup", "teardown"]
        assert system.agent.steps > 5
        assert system.trainer.runs >= 1
        [final] = snapshots(states)
        assert sorted(p.name for p in final.iterdir()) == [
            "data",
            "interaction",
            "models",
            MANIFEST_NAME,
            "random",
            "time.pkl",
            "tracking",
            "trainers",
        ]
        assert "note" not in (read_manifest(final) or {})

    def test_inference_starts_from_synced_parameters(self, states: Path) -> None:
        system = System()
        system.launch(states_dir=states, max_uptime=0.3)
        # The inference model is created unusable (factor None) and would raise on
        # the first step unless launch synced it before the inference thread ran.
        assert system.env.actions[0] == 2.0 * 1

    def test_accepts_a_mapping_config(self, states: Path) -> None:
        system = System()
        launch(
            system.interaction,
            {"factor": system.model},
            {"numbers": system.buffer},
            {"counting": system.trainer},
            {"states_dir": states, "max_uptime": 0.2, "web_api_address": None},
        )
        assert len(snapshots(states)) == 1

    def test_unknown_config_keys_are_listed(self, states: Path) -> None:
        system = System()
        with pytest.raises(
            TypeError, match=r"Unknown LaunchConfig keys \['max_uptme'\]"
        ):
            launch(system.interaction, {}, {}, {}, {"max_uptme": 1.0})

    def test_applies_and_restores_the_switch_interval(self, states: Path) -> None:
        before = sys.getswitchinterval()
        system = System()
        system.launch(states_dir=states, max_uptime=0.2, switch_interval=0.002)
        assert system.agent.switch_intervals == {0.002}
        assert sys.getswitchinterval() == before

    def test_time_scale_is_reset_when_launch_returns(self, states: Path) -> None:
        system = System()
        system.launch(states_dir=states, max_uptime=2.0, time_scale=10.0)
        assert time.get_time_scale() == 1.0
        assert not time.is_paused()

    def test_pamiq_time_left_paused_before_launch_runs_again(
        self, states: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        # Paused pamiq time would hold every pamiq sleep, and so an agent that
        # paces itself, for good: max_uptime (pamiq time) would never come either.
        time.pause()
        try:
            system = System()
            system.launch(states_dir=states, max_uptime=0.3)
        finally:
            time.resume()
        assert system.agent.steps > 5
        assert "Pamiq time was paused before launch; resuming it." in caplog.text


class TestResume:
    def test_loads_a_saved_state_before_starting(self, states: Path) -> None:
        first = System()
        first.launch(states_dir=states, max_uptime=0.3)
        counted = first.env.count
        second = System()
        second.launch(
            states_dir=states, saved_state_path=snapshots(states)[-1], max_uptime=0.3
        )
        assert second.env.actions[0] == 2.0 * (counted + 1)  # continues counting

    def test_latest_resumes_from_the_newest_complete_state(self, states: Path) -> None:
        System().launch(states_dir=states, max_uptime=0.2)
        newest = System()
        newest.launch(states_dir=states, max_uptime=0.2, saved_state_path=None)
        latest_count = newest.env.count
        (states / "zzzz-foreign.state").mkdir()  # incomplete: ignored
        third = System()
        third.launch(states_dir=states, max_uptime=0.2, saved_state_path="latest")
        assert third.env.actions[0] == 2.0 * (latest_count + 1)

    def test_latest_without_states_starts_fresh(
        self, states: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        system = System()
        with caplog.at_level(logging.INFO):
            system.launch(states_dir=states, max_uptime=0.2, saved_state_path="latest")
        assert "starting fresh" in caplog.text
        assert system.env.actions[0] == 2.0

    def test_a_missing_state_fails_before_any_thread_starts(self, states: Path) -> None:
        threads = threading.active_count()
        system = System()
        with pytest.raises(FileNotFoundError):
            system.launch(states_dir=states, saved_state_path=states / "nope")
        assert threading.active_count() == threads
        assert system.env.log == []


class TestFailures:
    def test_an_agent_error_stops_everything_and_is_raised(self, states: Path) -> None:
        system = System()
        system.agent.fail_at = 5
        with pytest.raises(RuntimeError, match="agent failed on observation 5"):
            system.launch(states_dir=states)
        assert system.env.log == ["setup", "teardown"]
        [final] = snapshots(states)
        manifest = read_manifest(final)
        assert manifest is not None
        assert "agent failed" in manifest["note"]
        assert not time.is_paused()

    def test_a_trainer_error_stops_everything_and_is_raised(self, states: Path) -> None:
        class LossIsNan(ArithmeticError):
            pass

        system = System()
        system.trainer.fail = LossIsNan("loss is nan")
        with pytest.raises(LossIsNan, match="loss is nan"):
            system.launch(states_dir=states)
        assert system.env.log == ["setup", "teardown"]
        assert len(snapshots(states)) == 1

    def test_a_control_thread_error_is_raised(self, states: Path) -> None:
        def broken() -> bool:
            raise OSError("save condition broke")

        system = System()
        with pytest.raises(OSError, match="save condition broke"):
            system.launch(states_dir=states, save_state_condition=broken)
        assert system.env.log == ["setup", "teardown"]

    def test_an_invalid_time_scale_fails_before_any_thread_starts(
        self, states: Path
    ) -> None:
        threads = threading.active_count()
        with pytest.raises(ValueError, match="time_scale"):
            System().launch(states_dir=states, time_scale=0.0)
        assert threading.active_count() == threads

    def test_keyboard_interrupt_shuts_down_cleanly_and_saves(
        self, states: Path
    ) -> None:
        def interrupt() -> bool:
            raise KeyboardInterrupt

        system = System()
        system.launch(states_dir=states, save_state_condition=interrupt)
        assert system.env.log == ["setup", "teardown"]
        assert len(snapshots(states)) == 1


class TestControlOverHttp:
    def test_shutdown_while_paused_resumes_time(self, states: Path) -> None:
        port = free_port()
        system = System()
        runner = threading.Thread(
            target=system.launch,
            kwargs={"states_dir": states, "web_api_address": ("localhost", port)},
        )
        runner.start()
        client = WebApiClient("localhost", port)
        try:
            eventually(
                lambda: client.get_status() is SystemStatus.ACTIVE, what="the web API"
            )
            assert client.pause() == "ok"  # answered once the pause is carried out
            assert time.is_paused()
            assert client.shutdown() == "ok"
            runner.join(timeout=30)
            assert not runner.is_alive()
        finally:
            client.close()
        assert not time.is_paused()
        assert time.get_time_scale() == 1.0
        assert system.env.log == ["setup", "teardown"]


class TestMetrics:
    """``GET /api/metrics`` of a launched system, checked against the schema."""

    @staticmethod
    def metrics(client: WebApiClient) -> dict[str, Any]:
        metrics = client.get_metrics()
        assert metrics is not None
        return metrics

    def test_reports_what_the_system_does(self, states: Path) -> None:
        port = free_port()
        system = System()
        runner = threading.Thread(
            target=system.launch,
            kwargs={"states_dir": states, "web_api_address": ("localhost", port)},
        )
        runner.start()
        client = WebApiClient("localhost", port)
        try:
            self.check_running_system(system, client, port)
            assert client.shutdown() == "ok"
            runner.join(timeout=30)
            assert not runner.is_alive()
        finally:
            client.shutdown()
            client.close()
            runner.join(timeout=30)

    def check_running_system(
        self, system: System, client: WebApiClient, port: int
    ) -> None:
        def busy() -> bool:
            metrics = client.get_metrics()
            return (
                metrics is not None
                and metrics["inference"]["steps"] >= 20
                and metrics["trainers"]["counting"]["runs"] >= 2
            )

        eventually(busy, what="20 steps and 2 training runs")
        document = httpx.get(f"http://localhost:{port}/openapi.json").json()
        validator = schema_validator(document, "Metrics")
        metrics = self.metrics(client)
        validator.validate(metrics)

        assert metrics["system"]["status_name"] == "active"
        assert metrics["system"]["status"] == SystemStatus.ACTIVE.value
        assert metrics["system"]["uptime_real"] > 0
        assert metrics["system"]["uptime"] > 0
        assert metrics["system"]["last_save"] is None
        inference = metrics["inference"]
        assert inference["steps_per_second"] > 0
        assert 0 < inference["period_p50"] <= inference["period_p99"]
        assert inference["period_p99"] <= inference["period_max"]
        trainer = metrics["trainers"]["counting"]
        assert trainer["last_duration"] >= 0
        assert trainer["mean_duration"] >= 0
        model = metrics["models"]["factor"]
        assert model["syncs"] >= 1 + trainer["runs"]  # at launch and after each run
        assert 0 <= model["inference_version"] <= model["training_version"]
        assert model["training_version"] >= 2
        buffer = metrics["buffers"]["numbers"]
        assert buffer["capacity"] == 1000
        assert 0 < buffer["size"] <= 1000

        assert client.save_state() == "ok"  # answered once the state is saved
        last_save = self.metrics(client)["system"]["last_save"]
        assert Path(last_save["path"]).is_dir()
        assert abs(last_save["time"] - std_time.time()) < 60

        assert client.pause() == "ok"  # answered once the pause is carried out
        assert time.is_paused()
        first = self.metrics(client)
        assert first["system"]["status_name"] == "paused"
        second = self.metrics(client)  # a request later in real time
        validator.validate(second)
        assert second["inference"]["steps"] == first["inference"]["steps"]
        assert second["system"]["uptime"] == first["system"]["uptime"]
        assert second["system"]["uptime_real"] > first["system"]["uptime_real"]

        assert client.resume() == "ok"
        eventually(  # "resuming" until both threads have woken
            lambda: self.metrics(client)["system"]["status_name"] == "active",
            what="the status to be active",
        )
        steps = second["inference"]["steps"]
        eventually(
            lambda: self.metrics(client)["inference"]["steps"] > steps,
            what="steps after the resume",
        )


def run_child(states: Path, mode: str, interrupts: int) -> int:
    """Run launcher_system.py, press Ctrl-C ``interrupts`` times; its exit code.

    The second Ctrl-C is sent once the child says the first one started the
    shutdown ("stopping", printed when the environment is torn down).
    """
    with subprocess.Popen(
        [sys.executable, str(CHILD), str(states), mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as child:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "running"
        for interrupt in range(interrupts):
            if interrupt > 0:
                assert child.stdout.readline().strip() == "stopping"
            child.send_signal(signal.SIGINT)
        try:
            _, errors = child.communicate(timeout=60)
        finally:
            child.kill()
        if child.returncode not in (0, 130):
            print(errors)
        return child.returncode


class TestInterrupts:
    def test_one_ctrl_c_shuts_down_and_saves(self, states: Path) -> None:
        code = run_child(states, "normal", interrupts=1)
        assert code == 0
        latest = find_latest_state(states)
        assert latest is not None
        assert json.loads((latest / MANIFEST_NAME).read_text())["components"]

    def test_a_second_ctrl_c_exits_at_once_leaving_saved_states_intact(
        self, states: Path
    ) -> None:
        code = run_child(states, "slow-trainer", interrupts=2)
        assert code == 130
        # The trainer never finished, so no final save happened; nothing under a
        # snapshot name is half-written.
        assert all(is_complete_state(p) for p in states.iterdir() if p.name[0] != ".")


def test_a_misspelt_config_key_gets_a_suggestion() -> None:
    with pytest.raises(TypeError, match="Did you mean 'max_uptime' for 'max_up_time'"):
        launch(
            None,  # type: ignore[arg-type]
            {},
            {},
            {},
            {"max_up_time": 1.0},
        )
