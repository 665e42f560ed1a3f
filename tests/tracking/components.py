"""Small real components (trainer, agent, environment, buffer) that log and record hooks."""

from typing import Any

from pamiq_core.data.impls import SequentialBuffer
from pamiq_core.interaction import Agent, Environment
from pamiq_core.trainer import Trainer


class HookLog:
    """Mixed into each component: appends ``"<label>.start"`` / ``".stop"`` to a log."""

    label: str
    log: list[str]
    fail_on: set[str]

    def on_system_start(self) -> None:
        self.log.append(f"{self.label}.start")
        if "start" in self.fail_on:
            raise RuntimeError(f"{self.label} cannot start")

    def on_system_stop(self) -> None:
        self.log.append(f"{self.label}.stop")
        if "stop" in self.fail_on:
            raise RuntimeError(f"{self.label} cannot stop")


def _remember(
    component: HookLog, label: str, log: list[str] | None, fail_on: Any
) -> None:
    component.label = label
    component.log = log if log is not None else []
    component.fail_on = set(fail_on)


class LossTrainer(HookLog, Trainer):
    """Logs ``loss`` (and, with ``also``, more scalars) in every training run."""

    def __init__(
        self, label: str = "trainer", log: list[str] | None = None, fail_on: Any = ()
    ) -> None:
        super().__init__()
        _remember(self, label, log, fail_on)

    def train(self) -> None:
        self.log_scalar("loss", 1.0 / (self.global_step + 1))


class CountingAgent(HookLog, Agent[int, int]):
    """Logs the observation as ``observation``; its children get the same one."""

    def __init__(
        self,
        label: str = "agent",
        log: list[str] | None = None,
        fail_on: Any = (),
        agents: dict[str, Agent[Any, Any]] | None = None,
    ) -> None:
        super().__init__(agents)
        _remember(self, label, log, fail_on)

    def step(self, observation: int) -> int:
        self.log_scalar("observation", observation)
        for child in self._agents.values():
            child.step(observation)
        return observation + 1


class CountingEnvironment(HookLog, Environment[int, int]):
    """Observes a counter; logs every action it receives as ``action``."""

    def __init__(
        self,
        label: str = "environment",
        log: list[str] | None = None,
        fail_on: Any = (),
    ) -> None:
        _remember(self, label, log, fail_on)
        self.count = 0

    def observe(self) -> int:
        return self.count

    def affect(self, action: int) -> None:
        self.log_scalar("action", action)
        self.count += 1


class HookedBuffer(HookLog, SequentialBuffer[int]):
    def __init__(
        self, label: str = "buffer", log: list[str] | None = None, fail_on: Any = ()
    ) -> None:
        super().__init__(max_size=10)
        _remember(self, label, log, fail_on)
