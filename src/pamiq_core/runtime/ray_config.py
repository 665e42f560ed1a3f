"""How ``LaunchConfig(training="ray")`` uses a Ray cluster (plain configuration).

Importing this module does not import Ray.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast

FAILURE_POLICIES = ("stop", "restart")
"""The values ``RayConfig.on_failure`` takes."""


@dataclass(frozen=True)
class RayGroup:
    """Where and how one training group runs on the cluster.

    Attributes:
        options: Ray actor options for the group's actor(s), as for
            ``ActorClass.options(...)``: ``num_cpus`` (default 1), ``num_gpus``,
            ``resources`` (a custom resource such as ``{"gpu_box": 1}`` places the
            group on the node started with it), ``memory``, ``runtime_env``,
            ``scheduling_strategy``...
        replicas: Data-parallel replicas: N actors hold the same models, train
            on disjoint shares of the collected data and average their gradients
            with torch's ``DistributedDataParallel``; the first one syncs to the
            agent. Trainers must be :class:`~pamiq_core.torch.TorchTrainer` s
            that call their training models (``self.model(x)``).
    """

    options: Mapping[str, Any] = field(default_factory=lambda: {})
    replicas: int = 1

    def __post_init__(self) -> None:
        """Check the values.

        Raises:
            ValueError: If ``replicas`` is not a positive int or ``options`` is
                not a mapping with string keys.
        """
        replicas = cast(object, self.replicas)
        if not (isinstance(replicas, int) and replicas >= 1):
            raise ValueError(
                f"RayGroup.replicas must be a positive int, got {replicas!r}."
            )
        options = cast(object, self.options)
        if not isinstance(options, Mapping) or not all(
            isinstance(k, str) for k in cast(Mapping[object, object], options)
        ):
            raise ValueError(
                "RayGroup.options must be a mapping of Ray actor option names to "
                f"values, got {options!r}."
            )


@dataclass(frozen=True)
class RayConfig:
    """The Ray cluster a system trains on, and what happens when a group fails.

    Attributes:
        address: The cluster to connect to (``"ray://host:10001"``,
            ``"host:6379"`` or ``"auto"``). None: Ray's ``RAY_ADDRESS``
            environment variable if set, else a cluster started by ``ray start``
            on this machine, else a local cluster for this run. Ignored if Ray
            is already initialized in this process.
        groups: Per training group (in the order of ``training_groups``), where
            and how it runs; groups beyond the list run with ``RayGroup()``.
        on_failure: ``"stop"``: a failed or lost group stops the system (a final
            save keeps what can be saved) and ``launch()`` raises its error.
            ``"restart"``: the group is started again from the newest snapshot
            that holds its parts (or from the launch state), while the agent
            goes on acting with the last parameters it got; the metrics show the
            group as down until it is back. An error raised by a trainer stops
            the system in both cases.
        init_options: More keyword arguments for ``ray.init`` (for example
            ``namespace`` or ``runtime_env``), used only if this run connects.
        max_batches_in_flight: Data batches sent to an actor and not yet
            received there, at most; beyond that the agent's items wait, and the
            oldest are dropped (and counted) once as many wait as the buffer's
            collector holds.
        max_restarts: With ``"restart"``, how many restarts a group gets before
            its failure stops the system.
    """

    address: str | None = None
    groups: Sequence[RayGroup] = ()
    on_failure: Literal["stop", "restart"] = "stop"
    init_options: Mapping[str, Any] = field(default_factory=lambda: {})
    max_batches_in_flight: int = 4
    max_restarts: int | float = math.inf

    def __post_init__(self) -> None:
        """Check the values.

        Raises:
            ValueError: Naming the field and the value that is out of range.
        """
        policy = cast(object, self.on_failure)
        if policy not in FAILURE_POLICIES:
            raise ValueError(
                f"RayConfig.on_failure must be one of {list(FAILURE_POLICIES)}, "
                f"got {policy!r}."
            )
        groups = cast(object, self.groups)
        if isinstance(groups, str | RayGroup) or not isinstance(groups, Sequence):
            raise ValueError(
                f"RayConfig.groups must be a list of RayGroup, got {groups!r}."
            )
        for index, group in enumerate(cast(Sequence[object], groups)):
            if not isinstance(group, RayGroup):
                raise ValueError(
                    f"RayConfig.groups[{index}] must be a RayGroup, got {group!r}."
                )
        in_flight = cast(object, self.max_batches_in_flight)
        if not (isinstance(in_flight, int) and in_flight >= 1):
            raise ValueError(
                "RayConfig.max_batches_in_flight must be a positive int, got "
                f"{in_flight!r}."
            )
        if not self.max_restarts >= 0:
            raise ValueError(
                f"RayConfig.max_restarts must be non-negative, got {self.max_restarts!r}."
            )

    def group(self, index: int) -> RayGroup:
        """The settings of training group ``index``."""
        return self.groups[index] if index < len(self.groups) else RayGroup()
