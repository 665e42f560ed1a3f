"""Wire the parts of a system together, run its threads, and stop it cleanly."""

import dataclasses
import logging
import math
import os
import signal
import threading
from collections.abc import Callable, Generator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, Literal, cast

from pamiq_core import time
from pamiq_core.data import DataBuffer, DataUsersDict
from pamiq_core.interaction import Interaction
from pamiq_core.metrics import Metrics
from pamiq_core.model import TrainingModel, TrainingModelsDict
from pamiq_core.realtime import DEFAULT_SWITCH_INTERVAL, runtime_settings
from pamiq_core.state_persistence import (
    StatesKeeper,
    StateStore,
    find_latest_state,
    read_manifest,
)
from pamiq_core.thread import ThreadTypes
from pamiq_core.thread.threads import (
    BackgroundThread,
    ControlThread,
    InferenceThread,
    TrainingThread,
)
from pamiq_core.trainer import Trainer, TrainersDict

logger = logging.getLogger(__name__)

LATEST = "latest"
"""``saved_state_path`` value that resumes from the newest complete snapshot."""


@dataclass(frozen=True)
class LaunchConfig:
    """How :func:`launch` runs a system. All fields have working defaults.

    Attributes:
        states_dir: Where snapshots are saved.
        state_name_format: ``strftime`` pattern of snapshot directory names.
        saved_state_path: A snapshot to load before starting, or ``"latest"`` for
            the newest complete snapshot in ``states_dir`` (none: start fresh).
        save_state_condition: Polled by the control thread; True saves a snapshot.
        states_keeper: Removes old snapshots.
        timeout_for_all_threads_pause: Seconds one pause attempt waits.
        max_attempts_to_pause_all_threads: Pause attempts before giving up.
        max_uptime: Pamiq seconds after which the system shuts down.
        web_api_address: Host and port of the control API; None disables it.
        web_api_command_queue_size: Commands that may wait to be handled (0 or
            less: no limit, as for ``queue.Queue``).
        log_tick_time_statistics_interval: Pamiq seconds between step-time logs.
        time_scale: How many times faster than real time pamiq time runs.
        web_api_token: Access token of the control API (also read from
            ``PAMIQ_WEB_API_TOKEN``); required to listen beyond loopback.
        switch_interval: The interpreter's thread switch interval while the system
            runs (``sys.setswitchinterval``); None leaves it alone. The default,
            0.5 ms instead of Python's 5 ms, keeps a Python-heavy trainer from
            holding the GIL for long stretches while the agent waits to act.
        torch_num_threads: Torch's intra-op thread count while the system runs,
            applied only if torch is imported. ``"auto"`` leaves one CPU core to
            the inference thread (the core count minus one, at least one); None
            leaves torch's setting alone.
        gc_freeze: Collect garbage once after setup, then hide the objects that
            exist from the cyclic garbage collector while the system runs
            (``gc.freeze``; undone at the end by ``gc.unfreeze``, which also
            unfreezes what was frozen before launch). A full collection then
            walks only what was created since launch, not torch's whole heap,
            which would stall the agent for 100 ms or more. The collector keeps
            running for new objects. False leaves the collector alone.
        preimport_torch: If torch is imported, import before the threads start
            what torch would import on first use in the training thread
            (``torch._dynamo`` at the first optimizer: seconds of import work
            whose full collections stall the agent). Costs that time at launch.
            False leaves the imports to the first use.
    """

    states_dir: str | Path = Path("./states")
    state_name_format: str = "%Y-%m-%d_%H-%M-%S,%f.state"
    saved_state_path: str | Path | None = None
    save_state_condition: Callable[[], bool] | None = None
    states_keeper: StatesKeeper | None = None
    timeout_for_all_threads_pause: float = 60.0
    max_attempts_to_pause_all_threads: int = 3
    max_uptime: float = float("inf")
    web_api_address: tuple[str, int] | None = ("localhost", 8391)
    web_api_command_queue_size: int = 1
    log_tick_time_statistics_interval: float = 60.0
    time_scale: float = 1.0
    web_api_token: str | None = None
    switch_interval: float | None = DEFAULT_SWITCH_INTERVAL
    torch_num_threads: int | Literal["auto"] | None = "auto"
    gc_freeze: bool = True
    preimport_torch: bool = True

    def __post_init__(self) -> None:
        """Check every value before anything starts.

        Raises:
            ValueError: Naming the field and the value that is out of range.
        """
        if not (self.time_scale > 0 and math.isfinite(self.time_scale)):
            raise ValueError(
                f"time_scale must be a positive finite number, got {self.time_scale!r}."
            )
        for name in (
            "timeout_for_all_threads_pause",
            "max_attempts_to_pause_all_threads",
            "max_uptime",
            "log_tick_time_statistics_interval",
        ):
            value = getattr(self, name)
            if not value >= 0:
                raise ValueError(f"{name} must be non-negative, got {value!r}.")
        if self.switch_interval is not None and not self.switch_interval > 0:
            raise ValueError(
                f"switch_interval must be positive or None, got {self.switch_interval!r}."
            )
        threads = cast(object, self.torch_num_threads)  # checked as given
        if threads not in (None, "auto") and not (
            isinstance(threads, int) and threads >= 1
        ):
            raise ValueError(
                "torch_num_threads must be a positive int, 'auto' or None, "
                f"got {threads!r}."
            )
        for name in ("gc_freeze", "preimport_torch"):
            flag = cast(object, getattr(self, name))  # checked as given
            if not isinstance(flag, bool):
                raise ValueError(f"{name} must be True or False, got {flag!r}.")
        if self.web_api_address is not None:
            host, port = self.web_api_address
            port_value = cast(object, port)  # checked as given, whatever type
            if not (isinstance(port_value, int) and 0 <= port <= 65535):
                raise ValueError(
                    f"web_api_address port must be in 0..65535, got {port!r} "
                    f"(host {host!r})."
                )


def launch(
    interaction: Interaction[Any, Any],
    models: Mapping[str, TrainingModel[Any]],
    buffers: Mapping[str, DataBuffer[Any, Any]],
    trainers: Mapping[str, Trainer],
    config: Mapping[str, Any] | LaunchConfig | None = None,
) -> None:
    """Run a system until it shuts down.

    Wires the components, loads the saved state if asked, syncs every model so
    inference starts from the trained parameters, then runs the inference and
    training threads in the background and the control thread in the caller's
    thread. It returns after a shutdown (the web API's, ``max_uptime``, or Ctrl-C),
    having saved a final snapshot.

    If any thread raises, every thread stops, the final snapshot is saved once they
    all have (its manifest notes the error), and the original exception is raised
    here. A second Ctrl-C while shutting down exits the process at once; snapshots
    are written atomically, so none is left half-written.

    Args:
        interaction: The agent and environment.
        models: Training models by name; their inference models reach the agent.
        buffers: Data buffers by name; their collectors reach the agent.
        trainers: Trainers by name, run in this order.
        config: A :class:`LaunchConfig`, a mapping of its fields, or None.

    Raises:
        TypeError: If ``config`` has unknown keys.
        ValueError: If a config value is out of range.
    """
    config = _as_launch_config(config)
    system = _build_system(interaction, models, buffers, trainers, config)
    _load_saved_state(system.state_store, config)
    for model in system.training_models.values():
        model.sync()  # inference starts from the training parameters
    _run(system, config)


@dataclass
class _System:
    """The wired parts of a launched system."""

    training_models: TrainingModelsDict
    state_store: StateStore
    control: ControlThread
    inference: InferenceThread
    training: TrainingThread
    metrics: Metrics


def _build_system(
    interaction: Interaction[Any, Any],
    models: Mapping[str, TrainingModel[Any]],
    buffers: Mapping[str, DataBuffer[Any, Any]],
    trainers: Mapping[str, Trainer],
    config: LaunchConfig,
) -> _System:
    """Connect the components, register their state, create threads and metrics."""
    training_models = TrainingModelsDict(models)
    data_users = DataUsersDict.from_data_buffers(buffers)
    trainers_dict = TrainersDict(trainers)
    interaction.agent.attach_inference_models(training_models.inference_models_dict)
    interaction.agent.attach_data_collectors(data_users.data_collectors_dict)
    trainers_dict.attach_training_models(training_models)
    trainers_dict.attach_data_users(data_users)

    logger.info(f"Setting up state persistence in directory: {config.states_dir}")
    state_store = StateStore(config.states_dir, config.state_name_format)
    state_store.register("interaction", interaction)
    state_store.register("models", training_models)
    state_store.register("data", data_users)
    state_store.register("trainers", trainers_dict)
    state_store.register("time", time.get_global_time_controller())

    inference = InferenceThread(
        interaction,
        log_tick_time_statistics_interval=config.log_tick_time_statistics_interval,
    )
    training = TrainingThread(trainers_dict)
    metrics = Metrics(
        inference_steps=inference.step_periods,
        trainers=training.run_stats,
        models={name: model.sync_stats for name, model in models.items()},
        buffers=dict(buffers),
    )
    control = ControlThread(
        state_store,
        save_state_condition=config.save_state_condition,
        states_keeper=config.states_keeper,
        timeout_for_all_threads_pause=config.timeout_for_all_threads_pause,
        max_attempts_to_pause_all_threads=config.max_attempts_to_pause_all_threads,
        max_uptime=config.max_uptime,
        web_api_address=config.web_api_address,
        web_api_command_queue_size=config.web_api_command_queue_size,
        web_api_token=config.web_api_token,
        metrics=metrics.snapshot,
    )
    metrics.system = control.system_stats
    metrics.status = control.system_status
    inference.attach_controller(control.controller)
    training.attach_controller(control.controller)
    control.attach_thread_statuses(
        {
            ThreadTypes.INFERENCE: inference.thread_status,
            ThreadTypes.TRAINING: training.thread_status,
        }
    )
    return _System(training_models, state_store, control, inference, training, metrics)


def _run(system: _System, config: LaunchConfig) -> None:
    """Run the threads until shutdown, then stop them all and save."""
    logger.info("Launching AMI system...")
    control_error: BaseException | None = None
    error: BaseException | None = None
    with runtime_settings(
        config.switch_interval,
        config.torch_num_threads,
        gc_freeze=config.gc_freeze,
        preimport_torch=config.preimport_torch,
    ):
        try:
            logger.info(f"Setting time scale to {config.time_scale}")
            time.set_time_scale(config.time_scale)
            system.inference.start()
            system.training.start()
            system.control.run()
        except KeyboardInterrupt:
            logger.info("Keyboard Interrupt detected, shutting down system")
        except Exception as e:
            logger.exception(f"Error during system execution: {e}")
            control_error = e
        finally:
            with _exit_on_second_interrupt():
                system.control.shutdown()
                _join(system.inference, system.training)
                time.resume()
                time.set_time_scale(1.0)
                error = _first_error(control_error, system.inference, system.training)
                _save_final_state(system.state_store, error)
    if error is not None:
        raise error


def _as_launch_config(config: Mapping[str, Any] | LaunchConfig | None) -> LaunchConfig:
    if config is None:
        return LaunchConfig()
    if isinstance(config, LaunchConfig):
        return config
    allowed = [f.name for f in dataclasses.fields(LaunchConfig)]
    unknown = sorted(set(config) - set(allowed))
    if unknown:
        raise TypeError(
            f"Unknown LaunchConfig keys {unknown}; allowed keys: {allowed}."
        )
    return LaunchConfig(**config)


def _load_saved_state(state_store: StateStore, config: LaunchConfig) -> None:
    path = config.saved_state_path
    if path is None:
        return
    if str(path) == LATEST:
        path = find_latest_state(state_store.states_dir)
        if path is None:
            logger.info(
                f"No complete saved state in '{state_store.states_dir}'; "
                "starting fresh."
            )
            return
    logger.info(f"Loading state from '{path}'")
    manifest = read_manifest(Path(path))
    if manifest is not None and "note" in manifest:
        logger.warning(f"The state '{path}' was saved {manifest['note']}.")
    state_store.load_state(path)


@contextmanager
def _exit_on_second_interrupt() -> Generator[None]:
    """While shutting down, make Ctrl-C end the process at once."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def exit_now(signum: int, frame: FrameType | None) -> None:
        logger.warning("Second interrupt: exiting now without a final save.")
        os._exit(130)

    previous = signal.signal(signal.SIGINT, exit_now)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _join(*threads: BackgroundThread) -> None:
    for thread in threads:
        while True:
            thread.join(timeout=10.0)
            if not thread.is_alive():
                break
            logger.info(
                f"Waiting for the {thread.thread_name} thread to finish its current "
                "step (press Ctrl-C again to exit at once)..."
            )


def _first_error(
    control_error: BaseException | None, *threads: BackgroundThread
) -> BaseException | None:
    """The error to raise from :func:`launch`: a thread's, else the control's."""
    errors = [t.exception for t in threads if t.exception is not None]
    if control_error is not None:
        errors.append(control_error)
    if not errors:
        return None
    first = errors[0]
    for other in errors[1:]:
        first.add_note(f"Another thread also failed: {other!r}")
    return first


def _save_final_state(state_store: StateStore, error: BaseException | None) -> None:
    logger.info("Saving final system state")
    note = None if error is None else f"after an error: {error!r}"
    try:
        path = state_store.save_state(note=note)
    except Exception as e:
        if error is None:
            raise
        logger.exception(f"Could not save the final state: {e}")
        return
    logger.info(f"Final state saved to '{path}'")
