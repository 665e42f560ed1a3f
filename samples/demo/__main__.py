"""pamiq-core demo: an agent learns how a pendulum moves while it keeps acting.

The agent pushes a simulated pendulum 50 times a second and predicts, each step,
where the pendulum will be next. A small torch model trains in the background on
the transitions the agent collects; after every training run its parameters are
synced into the agent's copy, and the logged prediction error falls. The agent
logs its prediction error every step and the trainer its loss every run: the
dashboard charts both, and ``--tensorboard DIR`` and ``--csv FILE`` write them to
files too.

    make demo                                  # about 30 seconds
    python -m samples.demo --help              # the same, with every option
    make demo DEMO_ARGS="--seconds 120"        # longer
    make demo DEMO_ARGS="--resume latest"      # continue from the last saved state
    make demo DEMO_ARGS="--tensorboard runs/demo --csv runs/demo.csv"
    make demo DEMO_ARGS="--training process"   # the trainer in a process of its own

While it runs, open http://localhost:8391/ or use ``pamiq-console``.
"""

import argparse
import logging
import sys
from pathlib import Path

from pamiq_core import FixedIntervalInteraction, LaunchConfig, launch
from pamiq_core.data.impls import DictRingBuffer
from pamiq_core.state_persistence import (
    LatestStatesKeeper,
    PeriodicSaveCondition,
    find_latest_state,
)
from pamiq_core.torch import TorchTrainingModel

from ..tracking_options import add_tracking_options, tracking_loggers
from .agent import ExploringPredictor
from .pendulum import Pendulum
from .predictor import Predictor
from .trainer import DynamicsTrainer

logger = logging.getLogger("demo")


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="how long to run")
    parser.add_argument(
        "--rate", type=float, default=50.0, help="agent steps per second"
    )
    parser.add_argument(
        "--resume", default=None, help="a saved state to continue from, or 'latest'"
    )
    parser.add_argument("--states-dir", type=Path, default=Path("states/demo"))
    parser.add_argument("--port", type=int, default=8391, help="web API port")
    parser.add_argument("--no-web", action="store_true", help="run without the web API")
    parser.add_argument(
        "--time-scale", type=float, default=1.0, help="run pamiq time this much faster"
    )
    parser.add_argument("--report-interval", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--training",
        choices=["thread", "process", "lockstep"],
        default="thread",
        help="where the trainer runs (see LaunchConfig.training)",
    )
    add_tracking_options(parser)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_arguments(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stdout)
    logger.setLevel(logging.INFO)
    args.states_dir.mkdir(parents=True, exist_ok=True)

    agent = ExploringPredictor(args.report_interval, seed=args.seed)
    interaction = FixedIntervalInteraction.with_sleep_adjustor(
        agent, Pendulum(seed=args.seed), interval=1.0 / args.rate
    )
    transitions = DictRingBuffer(
        {
            "state": ((2,), "float32"),
            "action": ((), "float32"),
            "next_state": ((2,), "float32"),
        },
        max_size=20_000,
        seed=args.seed,
    )
    trainer = DynamicsTrainer()
    web = None if args.no_web else ("localhost", args.port)

    logger.info(
        f"Running for {args.seconds:g} s at {args.rate:g} steps/s"
        + (f"; dashboard: http://localhost:{args.port}/" if web else "")
    )
    launch(
        interaction,
        models={"dynamics": TorchTrainingModel(Predictor())},
        buffers={"transitions": transitions},
        trainers={"dynamics": trainer},
        config=LaunchConfig(
            states_dir=args.states_dir,
            saved_state_path=args.resume,
            save_state_condition=PeriodicSaveCondition(10.0),
            states_keeper=LatestStatesKeeper(args.states_dir, max_keep=3),
            max_uptime=args.seconds * args.time_scale,
            web_api_address=web,
            time_scale=args.time_scale,
            loggers=tracking_loggers(args),
            training=args.training,
        ),
    )
    agent.report()
    logger.info(
        f"Done: {trainer.global_step} training runs in all, last loss {trainer.last_loss:.3g}. "
        f"State saved in {find_latest_state(args.states_dir)}"
    )
    logger.info('Continue with: make demo DEMO_ARGS="--resume latest"')


if __name__ == "__main__":
    main()
