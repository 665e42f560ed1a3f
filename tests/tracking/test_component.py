"""``log_scalar`` on trainers, agents and environments: names and default steps."""

import pytest

from pamiq_core.interaction import EnvironmentWrapper, Interaction
from pamiq_core.tracking import SystemTracking, Tracker

from .components import CountingAgent, CountingEnvironment, LossTrainer
from .loggers import ListLogger


def test_two_trainers_log_the_same_name_without_collision() -> None:
    logger = ListLogger()
    first, second = LossTrainer(), LossTrainer()
    system = SystemTracking(trainers={"dqn": first, "model": second}, loggers=[logger])
    system.start()
    first.run()
    first.run()
    second.run()
    system.tracker.flush()
    system.stop()
    assert logger.values("trainers/dqn/loss") == [(0, 1.0), (1, 0.5)]
    assert logger.values("trainers/model/loss") == [(0, 1.0)]


def test_a_trainers_default_step_is_its_global_step_which_it_may_set() -> None:
    logger = ListLogger()
    trainer = LossTrainer()
    with Tracker([logger]) as tracker:
        trainer.run()
        trainer.global_step = 100  # e.g. counting samples instead of runs
        trainer.log_scalar("lr", 0.1)
        trainer.log_scalar("custom", 2.0, step=7)
        tracker.flush()
    # Not part of a system: names as given, steps still the trainer's.
    assert logger.values("loss") == [(0, 1.0)]
    assert logger.values("lr") == [(100, 0.1)]
    assert logger.values("custom") == [(7, 2.0)]


def test_agents_and_environments_log_at_the_inference_step_with_nested_names() -> None:
    logger = ListLogger()
    explorer = CountingAgent("explorer")
    agent = CountingAgent(agents={"explorer": explorer})
    environment = CountingEnvironment()
    interaction = Interaction(agent, environment)
    steps = 0
    system = SystemTracking(
        agent=agent,
        environment=environment,
        loggers=[logger],
        inference_steps=lambda: steps,
    )
    system.start()
    for _ in range(3):
        interaction.step()
        steps += 1  # what the inference thread counts after each step
    system.tracker.flush()
    system.stop()
    assert logger.values("agent/observation") == [(0, 0.0), (1, 1.0), (2, 2.0)]
    assert logger.values("agent/explorer/observation") == [(0, 0.0), (1, 1.0), (2, 2.0)]
    assert logger.values("environment/action") == [(0, 1.0), (1, 2.0), (2, 3.0)]
    assert agent.tracking_namespace == "agent"
    assert explorer.tracking_namespace == "agent/explorer"


def test_a_wrapped_environment_logs_under_the_environment_name() -> None:
    logger = ListLogger()
    inner = CountingEnvironment()
    wrapper = EnvironmentWrapper(inner, lambda o: o * 10, lambda a: a)
    system = SystemTracking(environment=wrapper, loggers=[logger])
    system.start()
    wrapper.affect(5)
    system.tracker.flush()
    system.stop()
    assert inner.tracking_namespace == "environment"
    assert logger.values("environment/action") == [(0, 5.0)]


def test_several_scalars_of_one_step_and_the_components_hparams_are_namespaced() -> (
    None
):
    logger = ListLogger()
    trainer = LossTrainer()
    system = SystemTracking(trainers={"dqn": trainer}, loggers=[logger])
    system.start()
    trainer.log_scalars({"loss/policy": 0.5, "loss/value": 0.25})
    trainer.log_hparams({"optimizer": {"lr": 0.001}, "batch_size": 32})
    system.tracker.flush()
    system.stop()
    assert [(r.name, r.step) for r in logger.records] == [
        ("trainers/dqn/loss/policy", 0),
        ("trainers/dqn/loss/value", 0),
    ]
    assert logger.hparams == [
        {"trainers/dqn/optimizer/lr": 0.001, "trainers/dqn/batch_size": 32}
    ]


def test_a_component_outside_a_system_logs_names_as_given_at_step_zero() -> None:
    logger = ListLogger()
    agent = CountingAgent()
    with Tracker([logger]) as tracker:
        agent.step(4)
        tracker.flush()
    assert agent.tracking_namespace == ""
    assert logger.values("observation") == [(0, 4.0)]


def test_a_component_checks_its_input_like_the_module_functions() -> None:
    trainer = LossTrainer()
    with pytest.raises(TypeError, match=r"value of 'loss' must be a number"):
        trainer.log_scalar("loss", None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="name must be a string"):
        trainer.log_scalars({1: 1.0})  # type: ignore[dict-item]
