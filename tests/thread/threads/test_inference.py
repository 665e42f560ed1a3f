import logging
import threading
import time as std_time
from typing import Any

import pytest

from pamiq_core.interaction import Agent, Environment, Interaction
from pamiq_core.thread import ThreadController
from pamiq_core.thread.threads import InferenceThread


class Countdown(Environment[int, int]):
    def __init__(self, log: list[str]) -> None:
        self.log = log
        self.observations = 0

    def observe(self) -> int:
        self.observations += 1
        return self.observations

    def affect(self, action: int) -> None:
        pass

    def setup(self) -> None:
        self.log.append("env setup")

    def teardown(self) -> None:
        self.log.append("env teardown")

    def on_paused(self) -> None:
        self.log.append("env paused")

    def on_resumed(self) -> None:
        self.log.append("env resumed")


class Echo(Agent[int, int]):
    def __init__(self, log: list[str], fail_at: int | None = None) -> None:
        super().__init__()
        self.log = log
        self.fail_at = fail_at
        self.pause_hook_running = threading.Event()
        self.finish_pause_hook = threading.Event()
        self.finish_pause_hook.set()

    def step(self, observation: int) -> int:
        if observation == self.fail_at:
            raise RuntimeError(f"agent failed at step {observation}")
        threading.Event().wait(0.0005)
        return observation

    def on_paused(self) -> None:
        self.log.append("agent paused")
        self.pause_hook_running.set()
        self.finish_pause_hook.wait(10)

    def on_resumed(self) -> None:
        self.log.append("agent resumed")


def make(
    fail_at: int | None = None,
) -> tuple[InferenceThread, ThreadController, Echo, Countdown, list[str]]:
    log: list[str] = []
    agent, env = Echo(log, fail_at), Countdown(log)
    thread = InferenceThread(
        Interaction(agent, env), log_tick_time_statistics_interval=0.05
    )
    controller = ThreadController()
    thread.attach_controller(controller.read_only)
    return thread, controller, agent, env, log


def wait_for(condition: Any, timeout: float = 10.0) -> None:
    deadline = std_time.monotonic() + timeout
    while not condition():
        assert std_time.monotonic() < deadline, "timed out"
        std_time.sleep(0.001)


class TestInferenceThread:
    def test_sets_up_steps_and_tears_down_the_interaction(self) -> None:
        thread, controller, _, env, log = make()
        thread.start()
        wait_for(lambda: env.observations >= 5)
        controller.shutdown()
        thread.join(timeout=10)
        assert log[0] == "env setup"
        assert log[-1] == "env teardown"
        assert thread.step_periods.steps >= 5

    def test_pause_hooks_run_before_the_thread_reports_paused(self) -> None:
        thread, controller, agent, _, log = make()
        agent.finish_pause_hook.clear()
        thread.start()
        controller.pause()
        assert agent.pause_hook_running.wait(10)
        assert not thread.thread_status.is_pause()
        agent.finish_pause_hook.set()
        assert thread.thread_status.wait_for_pause(10)
        assert log[-2:] == ["agent paused", "env paused"]
        controller.resume()
        wait_for(thread.thread_status.is_resume)
        assert log[-2:] == ["agent resumed", "env resumed"]
        controller.shutdown()
        thread.join(timeout=10)

    def test_a_pause_is_not_counted_as_a_step_period(self) -> None:
        thread, controller, _, env, _ = make()
        thread.start()
        wait_for(lambda: env.observations >= 3)
        controller.pause()
        assert thread.thread_status.wait_for_pause(10)
        std_time.sleep(0.3)
        controller.resume()
        steps = thread.step_periods.steps
        wait_for(lambda: thread.step_periods.steps >= steps + 3)
        controller.shutdown()
        thread.join(timeout=10)
        assert max(thread.step_periods.periods()) < 0.25

    def test_an_agent_error_tears_down_and_is_kept(self) -> None:
        thread, _, _, _, log = make(fail_at=3)
        thread.start()
        thread.join(timeout=10)
        assert isinstance(thread.exception, RuntimeError)
        assert thread.thread_status.is_exception_raised()
        assert log[-1] == "env teardown"

    def test_logs_step_time_statistics(self, caplog: pytest.LogCaptureFixture) -> None:
        thread, controller, _, _, _ = make()
        with caplog.at_level(logging.INFO):
            thread.start()
            wait_for(lambda: "Step time:" in caplog.text)
            controller.shutdown()
            thread.join(timeout=10)
        assert " steps." in caplog.text

    @pytest.mark.parametrize("samples", [0, 1])
    def test_statistics_with_few_samples_never_raise(
        self, samples: int, caplog: pytest.LogCaptureFixture
    ) -> None:
        thread, _, _, _, _ = make()
        for _ in range(samples + 1):
            thread.on_tick()
        with caplog.at_level(logging.INFO):
            thread.log_tick_time_statistics()
        if samples:
            assert "in 1 steps" in caplog.text
        else:
            assert "Step time" not in caplog.text
