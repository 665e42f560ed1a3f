import logging
import threading

import pytest

from eventually import Count, eventually
from pamiq_core import time
from pamiq_core.interaction import Agent, Environment, Interaction
from pamiq_core.thread import ThreadController
from pamiq_core.thread.threads import InferenceThread


class Countdown(Environment[int, int]):
    def __init__(self, log: list[str]) -> None:
        self.log = log
        self.observations = Count("observations")

    def observe(self) -> int:
        self.observations.add()
        return self.observations.value

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
        threading.Event().wait(0.0005)  # a step's work; no test depends on its length
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


class SteppingClock:
    """A real-time clock that moves only as steps read it: ``step`` seconds a read."""

    step = 0.001

    def __init__(self) -> None:
        self.now = 1000.0

    def perf_counter(self) -> float:
        self.now += self.step
        return self.now


class TestInferenceThread:
    def test_sets_up_steps_and_tears_down_the_interaction(self) -> None:
        thread, controller, _, env, log = make()
        thread.start()
        env.observations.wait_for(5)
        controller.shutdown()
        thread.join(timeout=10)
        assert log[0] == "env setup"
        assert log[-1] == "env teardown"
        assert thread.step_periods.steps >= 5

    def test_pause_hooks_run_before_the_thread_reports_paused(self) -> None:
        thread, controller, agent, env, log = make()
        agent.finish_pause_hook.clear()
        thread.start()
        controller.pause()
        assert agent.pause_hook_running.wait(10)
        assert not thread.thread_status.is_pause()
        agent.finish_pause_hook.set()
        assert thread.thread_status.wait_for_pause(10)
        assert log[-2:] == ["agent paused", "env paused"]
        observations = env.observations.value
        controller.resume()
        env.observations.wait_for(observations + 1)  # steps again, after its hooks
        assert log[-2:] == ["agent resumed", "env resumed"]
        assert thread.thread_status.is_resume()
        controller.shutdown()
        thread.join(timeout=10)

    def test_a_pause_is_not_counted_as_a_step_period(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        clock = SteppingClock()
        monkeypatch.setattr(time, "fixed_perf_counter", clock.perf_counter)
        thread, controller, _, env, _ = make()
        thread.start()
        env.observations.wait_for(3)
        controller.pause()
        assert thread.thread_status.wait_for_pause(10)
        clock.now += 3600.0  # an hour paused
        controller.resume()
        env.observations.wait_for(env.observations.value + 3)
        controller.shutdown()
        thread.join(timeout=10)
        assert thread.step_periods.periods()
        assert max(thread.step_periods.periods()) == pytest.approx(clock.step)

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
            eventually(lambda: "Step time:" in caplog.text, what="a step-time log")
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
