"""Wire the parts of a system together, run its threads, and stop it cleanly."""

import contextlib
import dataclasses
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

from pamiq_core import time
from pamiq_core.data import DataBuffer, DataUsersDict
from pamiq_core.interaction import Interaction
from pamiq_core.metrics import Metrics
from pamiq_core.model import TrainingModel, TrainingModelsDict
from pamiq_core.realtime import DEFAULT_SWITCH_INTERVAL, runtime_settings
from pamiq_core.runtime.lockstep_side import LockstepSettings, LockstepTrainingSide
from pamiq_core.runtime.process_side import ProcessTrainingSide
from pamiq_core.runtime.ray_config import RayConfig
from pamiq_core.runtime.remote_side import RemoteTrainingSide
from pamiq_core.runtime.seam import TRAINING_PARTS, TrainingSide
from pamiq_core.runtime.stopping import (
    ShutdownTimeoutError,
    combine_errors,
    exit_on_second_signal,
    join_until,
    shutdown_on_sigterm,
    timeout_error,
)
from pamiq_core.runtime.thread_side import ThreadTrainingSide
from pamiq_core.seeding import SystemRandomness, check_seed, random_components
from pamiq_core.state_persistence import (
    PersistentStateMixin,
    StatesKeeper,
    StateStore,
    find_latest_state,
    read_manifest,
)
from pamiq_core.system_checks import claim_components
from pamiq_core.thread import ReadOnlyThreadStatus, ThreadTypes
from pamiq_core.thread.threads import (
    BackgroundThread,
    ControlThread,
    InferenceThread,
)
from pamiq_core.tracking import SystemTracking, TrackingLogger
from pamiq_core.trainer import Trainer, TrainersDict
from pamiq_core.utils.naming import close_matches

__all__ = ["LATEST", "LaunchConfig", "ShutdownTimeoutError", "launch"]

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
        shutdown_timeout: Real seconds the background threads get to stop after a
            shutdown. A thread still running then (a hung trainer, an agent stuck
            in a call) is left behind: the final snapshot leaves out the parts it
            owns (the manifest says which and why) and :func:`launch` raises
            :class:`ShutdownTimeoutError` naming it.
        max_failed_saves_in_a_row: After this many failed saves in a row the
            system stops and :func:`launch` raises the failure. None (the
            default) logs and counts every failed save and runs on.
        skip_saved_after_error: With ``saved_state_path="latest"``, also pass over
            snapshots saved after an error (the final save of a failed run).
        web_api_required: Refuse to start (raise ``OSError``) when the web API
            cannot listen on its address, for example because another system
            uses the port. False logs a warning and runs without the API.
        training: Where the trainers run. ``"thread"``: in one training thread
            of this process. ``"process"``: in processes of their own (spawned),
            one per training group, so that their Python work cannot take the
            agent's time and groups train in parallel. ``"ray"``: in Ray
            actors, one per training group, anywhere on a Ray cluster (the
            ``ray`` extra; see ``ray``). ``"lockstep"``: in the inference
            thread, one round of trainers after every ``train_every`` agent
            steps, in virtual pamiq time that runs as fast as the CPU allows;
            with a ``seed``, runs repeat bit for bit (see the guide's page on
            reproducibility).
        training_groups: With ``training="process"`` or ``"ray"``, the
            trainers' names split into groups, one process or actor each (None:
            one group of all). Trainers that share a training model or a buffer
            must be in the same group.
        ray: With ``training="ray"``: the cluster, each group's placement and
            replicas, and what a failed group does (a
            :class:`~pamiq_core.runtime.RayConfig`; None: its defaults).
        loggers: Where the scalars that components log go (TensorBoard, CSV,
            MLflow or your own; see :mod:`pamiq_core.tracking`). They are kept
            for the dashboard in any case.
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
        seed: Seeds Python's ``random``, numpy's global generator and torch (if
            imported) when the system is built, and gives every component that
            mixes in :class:`~pamiq_core.seeding.RandomMixin` (the random
            buffers, for example) its own generator seeded from it and the
            component's name. None (the default) seeds nothing. Snapshots keep
            every generator's state either way.
        train_every: With ``training="lockstep"``, agent steps between two rounds
            of trainers (None: 1).
        max_steps: With ``training="lockstep"``, agent steps after which the
            system shuts down (counted from this launch); None for no limit.
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
    shutdown_timeout: float = 30.0
    max_failed_saves_in_a_row: int | None = None
    skip_saved_after_error: bool = False
    web_api_required: bool = True
    training: Literal["thread", "process", "ray", "lockstep"] = "thread"
    training_groups: Sequence[Sequence[str]] | None = None
    ray: RayConfig | None = None
    loggers: Sequence[TrackingLogger] = ()
    gc_freeze: bool = True
    preimport_torch: bool = True
    seed: int | None = None
    train_every: int | None = None
    max_steps: int | None = None

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
            "shutdown_timeout",
        ):
            value = getattr(self, name)
            if not value >= 0:
                raise ValueError(f"{name} must be non-negative, got {value!r}.")
        failed = cast(object, self.max_failed_saves_in_a_row)  # checked as given
        if failed is not None and not (isinstance(failed, int) and failed >= 1):
            raise ValueError(
                "max_failed_saves_in_a_row must be a positive int or None, got "
                f"{failed!r}."
            )
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
        self._check_training()
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

    def _check_training(self) -> None:
        mode = cast(object, self.training)  # checked as given
        if mode not in TRAINING_MODES:
            raise ValueError(
                f"training must be one of {list(TRAINING_MODES)}, got {mode!r}."
            )
        ray = cast(object, self.ray)
        if ray is not None and not isinstance(ray, RayConfig):
            raise ValueError(f"ray must be a RayConfig or None, got {ray!r}.")
        if ray is not None and mode != "ray":
            raise ValueError(
                f"ray (a RayConfig) needs training='ray'; training is {mode!r}."
            )
        if self.seed is not None:
            check_seed(self.seed, "LaunchConfig.seed")
        self._check_lockstep(mode)
        groups = cast(object, self.training_groups)
        if groups is None:
            return
        if mode not in ("process", "ray"):
            raise ValueError(
                "training_groups needs training='process' or 'ray' (each group "
                f"runs in a process or actor of its own); training is {mode!r}."
            )
        if isinstance(groups, str) or not isinstance(groups, Sequence):
            raise ValueError(
                "training_groups must be a list of lists of trainer names, got "
                f"{groups!r}."
            )

    def _check_lockstep(self, mode: object) -> None:
        for name in ("train_every", "max_steps"):
            value = cast(object, getattr(self, name))
            if value is None:
                continue
            if mode != "lockstep":
                raise ValueError(
                    f"{name} needs training='lockstep' (only that mode steps the "
                    f"agent and the trainers in turn); training is {mode!r}."
                )
            least = 1 if name == "train_every" else 0
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise ValueError(
                    f"{name} must be an int of at least {least} or None, got {value!r}."
                )
        if mode == "lockstep" and self.time_scale != 1.0:
            raise ValueError(
                f"time_scale has no meaning with training='lockstep' (pamiq time is "
                f"virtual and runs as fast as the CPU allows); got {self.time_scale!r}, "
                "leave it at 1.0."
            )


TRAINING_MODES = ("thread", "process", "ray", "lockstep")
"""The values ``LaunchConfig.training`` takes."""


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

    SIGTERM (``docker stop``, systemd, Kubernetes) shuts down like Ctrl-C, with a
    final save. If any thread raises, every thread stops, the final snapshot is
    saved once they all have (its manifest notes the error), and the original
    exception is raised here; when several threads failed, the error raised is an
    :class:`ExceptionGroup` holding them all that is also an instance of the first
    one's type (where Python allows it). Threads get ``shutdown_timeout`` seconds
    to stop; see :class:`ShutdownTimeoutError`. A second Ctrl-C or SIGTERM while
    shutting down exits the process at once; snapshots are written atomically, so
    none is left half-written.

    Args:
        interaction: The agent and environment.
        models: Training models by name; their inference models reach the agent.
        buffers: Data buffers by name; their collectors reach the agent.
        trainers: Trainers by name, run in this order.
        config: A :class:`LaunchConfig`, a mapping of its fields, or None.

    Raises:
        TypeError: If ``config`` has unknown keys.
        ValueError: If a config value is out of range.
        OSError: If the web API cannot listen on its address (another system
            may use the port) and ``web_api_required`` is True.
        ShutdownTimeoutError: If a thread did not stop within
            ``shutdown_timeout`` seconds of the shutdown.
    """
    config = _as_launch_config(config)
    with claim_components(interaction, models, buffers, trainers):
        system = _build_system(interaction, models, buffers, trainers, config)
        loaded = _load_saved_state(system.state_store, config)
        for model in system.training_models.values():
            model.sync()  # inference starts from the training parameters
        _attach_training_side(system, config, resumed=loaded is not None)
        _run(system, config)


@dataclass
class _System:
    """The wired parts of a launched system."""

    training_models: TrainingModelsDict
    data_users: DataUsersDict
    trainers: TrainersDict
    buffers: dict[str, DataBuffer[Any, Any]]
    state_store: StateStore
    parts: dict[str, "_Part"]
    control: ControlThread
    inference: InferenceThread
    metrics: Metrics
    tracking: SystemTracking
    training: TrainingSide | None = None
    randomness: SystemRandomness | None = None

    def background_threads(self) -> list[BackgroundThread]:
        """The inference thread, then the training side's threads."""
        training = (
            [] if self.training is None else list(self.training.threads().values())
        )
        return [self.inference, *training]


class _Part(PersistentStateMixin):
    """A snapshot part whose owner changes once the training side is built.

    States load into the containers of this process before the training side
    starts; afterwards the training side says how each part is saved.
    """

    def __init__(self, target: PersistentStateMixin) -> None:
        self.target = target

    def save_state(self, path: Path) -> None:
        self.target.save_state(path)

    def load_state(self, path: Path) -> None:
        self.target.load_state(path)


def _build_system(
    interaction: Interaction[Any, Any],
    models: Mapping[str, TrainingModel[Any]],
    buffers: Mapping[str, DataBuffer[Any, Any]],
    trainers: Mapping[str, Trainer],
    config: LaunchConfig,
) -> _System:
    """Connect the components, register their state, create the agent's threads."""
    training_models = TrainingModelsDict(models)
    data_users = DataUsersDict.from_data_buffers(buffers)
    trainers_dict = TrainersDict(trainers)
    interaction.agent.attach_inference_models(training_models.inference_models_dict)
    interaction.agent.attach_data_collectors(data_users.data_collectors_dict)
    trainers_dict.attach_training_models(training_models)
    trainers_dict.attach_data_users(data_users)

    logger.info(f"Setting up state persistence in directory: {config.states_dir}")
    state_store = StateStore(config.states_dir, config.state_name_format)
    parts = {
        "models": _Part(training_models),
        "data": _Part(data_users),
        "trainers": _Part(trainers_dict),
    }
    state_store.register("interaction", interaction)
    for name, part in parts.items():
        state_store.register(name, part)
    state_store.register("time", time.get_global_time_controller())

    inference = InferenceThread(
        interaction,
        log_tick_time_statistics_interval=config.log_tick_time_statistics_interval,
    )
    tracking = SystemTracking(
        buffers=buffers,
        trainers=trainers_dict,
        environment=interaction.environment,
        agent=interaction.agent,
        loggers=config.loggers,
        inference_steps=lambda: inference.step_periods.steps,
    )
    state_store.register("tracking", tracking, optional=True)
    randomness = SystemRandomness(  # seeds now: a snapshot loaded next overrides it
        config.seed,
        random_components(
            [
                *((f"buffers/{name}", b) for name, b in buffers.items()),
                *((f"trainers/{name}", t) for name, t in trainers_dict.items()),
                ("environment", interaction.environment),
                ("agent", interaction.agent),
            ]
        ),
    )
    state_store.register("random", randomness, optional=True)
    metrics = Metrics(
        inference_steps=inference.step_periods,
        models={name: model.sync_stats for name, model in models.items()},
        scalars=tracking.summary,
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
        max_failed_saves_in_a_row=config.max_failed_saves_in_a_row,
        web_api_required=config.web_api_required,
        events=tracking.record_event,
    )
    metrics.system = control.system_stats
    metrics.status = control.system_status
    inference.attach_controller(control.controller)
    return _System(
        training_models,
        data_users,
        trainers_dict,
        dict(buffers),
        state_store,
        parts,
        control,
        inference,
        metrics,
        tracking,
        randomness=randomness,
    )


def _attach_training_side(
    system: _System, config: LaunchConfig, *, resumed: bool = False
) -> None:
    """Build the training side of ``config.training`` and hand it its parts.

    ``resumed`` says whether a snapshot was loaded (lock-step mode starts its
    virtual clocks from it, or else from the epoch).
    """
    settings = {
        "switch_interval": config.switch_interval,
        "torch_num_threads": config.torch_num_threads,
        "gc_freeze": config.gc_freeze,
        # no "preimport_torch": a group has no agent whose steps an import could
        # stall, and importing first would only delay its first training run
        "seed": config.seed,
    }
    if config.training in ("process", "ray"):
        if config.training == "process":
            remote: RemoteTrainingSide = ProcessTrainingSide(
                system.trainers,
                system.training_models,
                system.data_users,
                system.buffers,
                config.training_groups,
                settings,
                system.tracking,
            )
        else:
            from pamiq_core.runtime.ray_side import RayTrainingSide  # noqa: PLC0415

            remote = RayTrainingSide(
                system.trainers,
                system.training_models,
                system.data_users,
                system.buffers,
                config.training_groups,
                {**settings, "states_dir": config.states_dir},
                system.tracking,
                config.ray or RayConfig(),
            )
        if system.randomness is not None:  # generators in a group stay there
            system.randomness.hand_over(
                [system.trainers[n] for g in remote.groups for n in g.trainers]
                + [system.buffers[n] for g in remote.groups for n in g.buffers]
            )
        side: TrainingSide = remote
    elif config.training == "lockstep":
        side = LockstepTrainingSide(
            system.trainers,
            system.training_models,
            system.data_users,
            system.buffers,
            agent_thread=system.inference,
            controller=system.control.controller,
            settings=LockstepSettings(
                train_every=config.train_every or 1,
                max_uptime=config.max_uptime,
                max_steps=config.max_steps,
                resumed=resumed,
            ),
            steps=system.tracking.inference_step,
            request_shutdown=system.control.request_shutdown,
            tracker=system.tracking.tracker,
        )
    else:
        side = ThreadTrainingSide(
            system.trainers, system.training_models, system.data_users, system.buffers
        )
    system.training = side
    for name, part in side.state_parts().items():
        system.parts[name].target = part
    system.metrics.trainers = dict(side.run_stats())
    system.metrics.buffers = dict(side.buffer_views())
    system.metrics.groups = side.group_summaries
    statuses: dict[ThreadTypes | str, ReadOnlyThreadStatus] = {
        ThreadTypes.INFERENCE: system.inference.thread_status
    }
    for name, thread in side.threads().items():
        thread.attach_controller(system.control.controller)
        statuses[name] = thread.thread_status
    system.control.attach_thread_statuses(statuses)


def _run(system: _System, config: LaunchConfig) -> None:
    """Run the threads until shutdown, then stop them all and save."""
    logger.info("Launching the system...")
    control_error: BaseException | None = None
    errors: list[BaseException] = []
    training = system.training
    assert training is not None
    _start_or_refuse(system, config)
    with (
        runtime_settings(
            config.switch_interval,
            config.torch_num_threads,
            gc_freeze=config.gc_freeze,
            # in process mode the first optimizer runs in the training processes
            preimport_torch=config.preimport_torch
            and config.training not in ("process", "ray"),
        ),
        shutdown_on_sigterm(system.control.shutdown),
    ):
        try:
            for thread in system.background_threads():
                thread.start()
            system.control.run()
        except KeyboardInterrupt:
            logger.info("Keyboard Interrupt detected, shutting down system")
        except Exception as e:
            logger.exception(f"Error during system execution: {e}")
            control_error = e
        finally:
            with exit_on_second_signal():
                system.control.shutdown()
                system.control.close_web_api()
                threads = system.background_threads()
                stuck = join_until(threads, config.shutdown_timeout)
                time.resume()
                time.set_time_scale(1.0)
                found = [
                    *(t.exception for t in threads),
                    control_error,
                    *(
                        timeout_error(t, config.shutdown_timeout, _parts_of(system, t))
                        for t in stuck
                    ),
                ]
                errors = [e for e in found if e is not None]
                _save_final_state(system, errors, stuck)
                _stop_tracking(system, errors)
                training.close(config.shutdown_timeout)
    if errors:
        raise combine_errors(errors)


def _start_or_refuse(system: _System, config: LaunchConfig) -> None:
    """Start the web API and the training side; on failure undo both and raise.

    Nothing of the system has run yet, so a failure here saves no snapshot.
    """
    assert system.training is not None
    system.control.open_web_api()
    try:
        if time.is_paused():  # left so by code that paused it outside a launch
            logger.warning("Pamiq time was paused before launch; resuming it.")
            time.resume()
        logger.info(f"Setting time scale to {config.time_scale}")
        time.set_time_scale(config.time_scale)
        system.tracking.start()  # after the state is loaded, before the threads
        system.training.start()  # (what training processes log goes to it)
    except BaseException:
        system.control.close_web_api()
        system.training.close(config.shutdown_timeout)
        with contextlib.suppress(Exception):  # the original error matters more
            system.tracking.stop()
        time.set_time_scale(1.0)
        raise


def _stop_tracking(system: _System, errors: list[BaseException]) -> None:
    """Run the stop hooks and close the loggers (after the final save)."""
    try:
        system.tracking.stop()
    except Exception as hooks_failed:
        if not errors:
            errors.append(hooks_failed)
        else:
            errors[0].add_note(f"on_system_stop also failed: {hooks_failed!r}")


def _parts_of(system: _System, thread: BackgroundThread) -> tuple[str, ...]:
    if thread is system.inference:
        return ("interaction",)
    assert system.training is not None
    return system.training.parts_of(thread)


def _as_launch_config(config: Mapping[str, Any] | LaunchConfig | None) -> LaunchConfig:
    if config is None:
        return LaunchConfig()
    if isinstance(config, LaunchConfig):
        return config
    allowed = [f.name for f in dataclasses.fields(LaunchConfig)]
    unknown = sorted(set(config) - set(allowed))
    if unknown:
        hints = "".join(
            f" Did you mean {matches[0]!r} for {key!r}?"
            for key in unknown
            if (matches := close_matches(key, allowed))
        )
        raise TypeError(
            f"Unknown LaunchConfig keys {unknown}; allowed keys: {allowed}.{hints}"
        )
    return LaunchConfig(**config)


def _load_saved_state(state_store: StateStore, config: LaunchConfig) -> Path | None:
    """Load the snapshot ``config`` names, if any; return where it was loaded from."""
    path = config.saved_state_path
    if path is None:
        return None
    if str(path) == LATEST:
        path = find_latest_state(
            state_store.states_dir,
            skip_saved_after_error=config.skip_saved_after_error,
        )
        if path is None:
            logger.info(
                f"No complete saved state in '{state_store.states_dir}'; "
                "starting fresh."
            )
            return None
    logger.info(f"Loading state from '{path}'")
    manifest = read_manifest(Path(path))
    if manifest is not None and "note" in manifest:
        logger.warning(f"The state '{path}' was saved {manifest['note']}.")
    state_store.load_state(path)
    return Path(path)


def _take_back(system: _System, path: Path, skipped: Mapping[str, str]) -> None:
    """Bring what trained elsewhere back into the objects passed to ``launch``.

    A failure here loses nothing (the snapshot is saved), so it is logged only.
    """
    if system.training is None:
        return
    parts = [p for p in TRAINING_PARTS if p not in skipped and (path / p).is_dir()]
    try:
        system.training.take_back(path, parts)
    except Exception:
        logger.exception(
            f"Could not load the trained state from '{path}' back into the "
            "components passed to launch; the snapshot itself is complete."
        )


def _save_final_state(
    system: _System, errors: list[BaseException], stuck: list[BackgroundThread]
) -> None:
    logger.info("Saving final system state")
    note = None if not errors else f"after an error: {errors[0]!r}"
    skip = {
        part: f"the {thread.thread_name} thread did not stop"
        for thread in stuck
        for part in _parts_of(system, thread)
    }
    if system.training is not None:
        for part, reason in system.training.unsaveable_parts().items():
            skip.setdefault(part, reason)
    try:
        path = system.state_store.save_state(
            note=note, skip=skip, after_error=bool(errors)
        )
    except Exception as e:
        if not errors:
            raise
        logger.exception(f"Could not save the final state: {e}")
        return
    logger.info(f"Final state saved to '{path}'")
    _take_back(system, path, skip)
    keeper = system.control.states_keeper
    if keeper is not None:
        keeper.append(path)
        keeper.cleanup()
