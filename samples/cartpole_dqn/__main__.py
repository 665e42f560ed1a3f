"""A DQN agent learns to balance gymnasium's CartPole-v1 while it keeps playing.

The agent plays CartPole through ``GymEnvironment`` and a ``GymAgent``, choosing
actions epsilon-greedily with its copy of a Q-network and collecting every
transition into a replay buffer (a ``DictRingBuffer``). In the training thread a
``TorchTrainer`` runs Double DQN on random batches from that buffer (Huber loss,
Adam, a target network kept as a second, training-only model), and after every
training run pamiq-core syncs the new Q-network into the agent, which plays better
and better. Every few seconds it logs the mean return of the recent episodes; at
the end it prints a learning curve next to the return of a random policy, measured
at the start (about 22; CartPole-v1 stops an episode at 500).

    python -m samples.cartpole_dqn                   # about 3 minutes
    python -m samples.cartpole_dqn --seconds 60      # shorter
    python -m samples.cartpole_dqn --help            # every option

Pacing: the agent acts at a fixed rate, 500 steps per second by default
(``FixedIntervalInteraction``). CartPole has no real-time dynamics, so any rate
would do; an unpaced loop (``--rate 0``) takes a whole CPU core for acting and
starves the trainer on a 2-core machine, and the trainer's gradient steps are
what limits learning. At 500 steps/s the agent takes a fraction of a core, the
trainer gets the rest, and the trainer can keep up with about one gradient step
per new transition (``--steps-per-run`` per ``--new-per-run``). On a slower or
busier machine the trainer simply gets fewer steps per transition.

``--seed`` seeds the environment, the agent, the buffer and the network (and
``LaunchConfig(seed=...)``). In thread and process mode the run is still not
exactly reproducible, as syncs reach the agent whenever training runs finish;
``--training lockstep`` trains after every agent step in virtual pamiq time, as
fast as the CPU allows, and the same seed gives the same learning curve:

    python -m samples.cartpole_dqn --training lockstep --seed 1 --seconds 60

The web API is on at ``localhost:8391`` unless ``--no-web``.

The agent logs each episode's return (and epsilon) when the episode ends, the
trainer its loss after every run: the dashboard charts them, and
``--tensorboard DIR`` and ``--csv FILE`` write them to files too.
"""

import argparse
import copy
import logging
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch

from pamiq_core import FixedIntervalInteraction, Interaction, LaunchConfig, launch
from pamiq_core.data.impls import DictRingBuffer
from pamiq_core.gym import GymEnvironment
from pamiq_core.torch import TorchTrainingModel

from ..tracking_options import add_tracking_options, tracking_loggers
from .agent import DQNAgent, Observation
from .network import OBSERVATION_SIZE, QNetwork
from .trainer import DQNTrainer

logger = logging.getLogger("cartpole_dqn")

ENV_ID = "CartPole-v1"


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    add = parser.add_argument
    add("--seconds", type=float, default=180.0, help="how long to run")
    add("--rate", type=float, default=500.0, help="agent steps/s; 0: unpaced")
    add("--seed", type=int, default=0)
    add("--training", choices=["thread", "process", "lockstep"], default="thread")
    add("--report-interval", type=float, default=10.0, help="seconds between logs")
    add("--window", type=int, default=20, help="episodes in the logged mean return")
    add("--epsilon-decay-steps", type=int, default=10_000)
    add("--buffer-size", type=int, default=50_000)
    add("--batch-size", type=int, default=64)
    add("--steps-per-run", type=int, default=4, help="gradient steps per training run")
    add("--new-per-run", type=int, default=4, help="new transitions a run waits for")
    add("--learning-rate", type=float, default=1e-3)
    add("--target-refresh", type=int, default=250, help="gradient steps between copies")
    add("--target-tau", type=float, default=0.0)
    add("--hidden", type=int, default=128, help="units in each hidden layer")
    add("--states-dir", type=Path, default=Path("states/cartpole_dqn"))
    add("--port", type=int, default=8391, help="web API port")
    add("--no-web", action="store_true", help="run without the web API")
    add_tracking_options(parser)
    return parser.parse_args(argv)


def random_policy_returns(episodes: int, seed: int) -> list[float]:
    """Returns of ``episodes`` episodes of uniformly random actions."""
    env = gym.make(ENV_ID)
    env.action_space.seed(seed)
    returns: list[float] = []
    env.reset(seed=seed)
    for _ in range(episodes):
        total, done = 0.0, False
        while not done:
            _, reward, terminated, truncated, _ = env.step(env.action_space.sample())
            total += float(reward)
            done = terminated or truncated
        returns.append(total)
        env.reset()
    env.close()
    return returns


def learning_curve(
    episodes: list[tuple[float, float]], seconds: float, baseline: float, parts: int
) -> list[str]:
    """Lines of the mean return in each of ``parts`` equal stretches of the run."""
    lines: list[str] = []
    for part in range(parts):
        start, end = seconds * part / parts, seconds * (part + 1) / parts
        returns = [
            r
            for t, r in episodes
            if start <= t < end or (part == parts - 1 and t >= end)
        ]
        if not returns:
            lines.append(f"  {start:5.0f}-{end:4.0f} s: no episode ended")
            continue
        mean = sum(returns) / len(returns)
        bar = "#" * round(mean / 10)
        lines.append(
            f"  {start:5.0f}-{end:4.0f} s: mean return {mean:5.1f} "
            f"({mean / baseline:4.1f}x random) over {len(returns):4d} episodes |{bar}"
        )
    return lines


def main(argv: list[str] | None = None) -> None:
    args = parse_arguments(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stdout)
    logger.setLevel(logging.INFO)
    args.states_dir.mkdir(parents=True, exist_ok=True)

    random_returns = random_policy_returns(100, args.seed)
    baseline = float(np.mean(random_returns))
    logger.info(f"Random policy: mean return {baseline:.1f} over 100 episodes")

    torch.manual_seed(args.seed)
    env = gym.make(ENV_ID)
    env.reset(seed=args.seed)  # later resets continue this random sequence
    agent = DQNAgent(
        epsilon_decay_steps=args.epsilon_decay_steps,
        report_interval=args.report_interval,
        window=args.window,
        seed=args.seed,
    )
    environment = GymEnvironment[Observation, int](env)
    interaction = (
        FixedIntervalInteraction.with_sleep_adjustor(
            agent, environment, interval=1.0 / args.rate
        )
        if args.rate > 0
        else Interaction(agent, environment)
    )
    q_network = QNetwork(args.hidden)
    transitions = DictRingBuffer(
        {
            "obs": ((OBSERVATION_SIZE,), np.float32),
            "action": ((), np.int64),
            "reward": ((), np.float32),
            "next_obs": ((OBSERVATION_SIZE,), np.float32),
            "terminal": ((), np.float32),
        },
        max_size=args.buffer_size,
        seed=args.seed,
    )
    trainer = DQNTrainer(
        batch_size=args.batch_size,
        steps_per_run=args.steps_per_run,
        new_per_run=args.new_per_run,
        learning_rate=args.learning_rate,
        target_refresh=args.target_refresh,
        target_tau=args.target_tau,
    )
    web = None if args.no_web else ("localhost", args.port)
    pace = f"{args.rate:g} steps/s" if args.rate > 0 else "unpaced"
    logger.info(
        f"Playing {ENV_ID} for {args.seconds:g} s, {pace}, seed {args.seed}"
        + (f"; dashboard: http://localhost:{args.port}/" if web else "")
    )
    launch(
        interaction,
        models={
            "q": TorchTrainingModel(q_network),
            "q_target": TorchTrainingModel(
                copy.deepcopy(q_network), has_inference_model=False
            ),
        },
        buffers={"transitions": transitions},
        trainers={"dqn": trainer},
        config=LaunchConfig(
            states_dir=args.states_dir,
            max_uptime=args.seconds,
            web_api_address=web,
            loggers=tracking_loggers(args),
            training=args.training,
            seed=args.seed,
        ),
    )
    if agent.steps > agent.steps_at_report:
        agent.report()  # the steps since the last periodic report
    logger.info(
        f"Trainer: {trainer.training_runs} training runs, {trainer.gradient_steps} "
        f"gradient steps, {trainer.target_refreshes} target refreshes, "
        f"last loss {trainer.last_loss:.3g}"
    )
    logger.info(f"Learning curve (random policy: {baseline:.1f}):")
    for line in learning_curve(agent.episodes, args.seconds, baseline, parts=10):
        logger.info(line)
    final = agent.recent_mean_return()
    logger.info(
        f"Final: mean return of the last {args.window} episodes {final:.1f}, "
        f"random policy {baseline:.1f} ({final / baseline:.1f}x)"
    )


if __name__ == "__main__":
    main()
