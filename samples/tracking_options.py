"""The samples' command-line options for experiment trackers: TensorBoard and CSV.

Whatever the options, the dashboard (http://localhost:8391/ while a sample runs)
charts every logged scalar; these options write them to files as well. Both are off
by default, so that a sample run writes nothing but its snapshots unless asked.
"""

import argparse
from pathlib import Path

from pamiq_core.tracking import CSVLogger, TensorBoardLogger, TrackingLogger


def add_tracking_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--tensorboard DIR`` and ``--csv FILE`` to ``parser``."""
    group = parser.add_argument_group(
        "experiment tracking",
        "The dashboard charts the logged scalars in any case; these options also "
        "write them to files (off by default).",
    )
    group.add_argument(
        "--tensorboard",
        type=Path,
        metavar="DIR",
        help="write TensorBoard event files into DIR (tensorboard --logdir DIR)",
    )
    group.add_argument(
        "--csv",
        type=Path,
        metavar="FILE",
        help="append every logged value to FILE, one row each",
    )


def tracking_loggers(args: argparse.Namespace) -> list[TrackingLogger]:
    """The loggers the options of :func:`add_tracking_options` ask for.

    Raises:
        SystemExit: If ``--tensorboard`` is given without tensorboardX installed.
    """
    loggers: list[TrackingLogger] = []
    if args.csv is not None:
        loggers.append(CSVLogger(args.csv))
    if args.tensorboard is not None:
        try:
            loggers.append(TensorBoardLogger(args.tensorboard))
        except ImportError as error:
            raise SystemExit(f"--tensorboard: {error}") from error
    return loggers
