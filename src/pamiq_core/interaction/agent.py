"""The decision maker of an interaction, possibly built from child agents."""

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar, cast

from typing_extensions import override

from pamiq_core.data import DataCollector, DataCollectorsDict
from pamiq_core.model import InferenceModel, InferenceModelsDict
from pamiq_core.state_persistence import PersistentStateMixin
from pamiq_core.thread import ThreadEventMixin
from pamiq_core.tracking import SystemEventMixin, TrackingMixin
from pamiq_core.utils.checks import describe, require_instance
from pamiq_core.utils.errors import call_each
from pamiq_core.utils.init_check import InitChecked, check_initialised
from pamiq_core.utils.naming import UnknownNameError, unknown_name_message
from pamiq_core.utils.reflection import get_class_module_path

from .event_mixin import InteractionEventMixin

ObsType = TypeVar("ObsType")
ActType = TypeVar("ActType")


class Agent(
    ABC,
    InteractionEventMixin,
    PersistentStateMixin,
    ThreadEventMixin,
    TrackingMixin,
    SystemEventMixin,
    InitChecked,
    Generic[ObsType, ActType],
):
    """Turns observations into actions; may delegate to named child agents.

    Subclasses implement :meth:`step`. Subclasses that override ``__init__`` must
    call ``super().__init__(...)``.

    Lifecycle hooks (``setup``, ``teardown``, ``on_paused``, ``on_resumed``), the
    state methods and the attach methods run on the agent itself first, then on each
    child in insertion order. Children receive the very same models and collectors
    dicts as their parent. :meth:`log_scalar` logs under ``agent/`` (a child under
    ``agent/<child name>/``) at the system's inference step count; each child gets
    its own ``on_system_start`` / ``on_system_stop`` call, after its parent.

    Thread safety: ``step`` and the lifecycle hooks run in the inference thread;
    ``save_state`` runs while that thread is paused or not running, ``load_state``
    before it starts, and the attach methods in the main thread before it starts.
    """

    _init_marker: ClassVar[str | None] = "_agents"

    def __init__(self, agents: Mapping[str, "Agent[Any, Any]"] | None = None) -> None:
        """Create an agent with the given child agents.

        Args:
            agents: Child agents by name. The mapping is copied; its order is the
                order in which hooks and state reach the children.

        Raises:
            TypeError: If ``agents`` is not a mapping of names to agents.
            ValueError: If a child is this agent, or the same child appears twice.
        """
        self._agents: dict[str, Agent[Any, Any]] = _checked_children(self, agents)
        self._inference_models: InferenceModelsDict | None = None
        self._data_collectors: DataCollectorsDict | None = None

    @abstractmethod
    def step(self, observation: ObsType) -> ActType:
        """Decide the action for ``observation``."""

    @override
    def _system_parts(self) -> Iterable[tuple[str, SystemEventMixin]]:
        return self._agents.items()

    def attach_inference_models(self, inference_models: InferenceModelsDict) -> None:
        """Give this agent and its children the inference models.

        Stores the dict, calls :meth:`on_inference_models_attached`, then attaches
        the same dict to each child.

        Raises:
            MissingSuperInitError: If ``Agent.__init__`` never ran.
        """
        check_initialised(self)
        self._inference_models = inference_models
        self.on_inference_models_attached()
        for agent in self._agents.values():
            agent.attach_inference_models(inference_models)

    def on_inference_models_attached(self) -> None:
        """Called after the inference models are attached; fetch models here."""

    def attach_data_collectors(self, data_collectors: DataCollectorsDict) -> None:
        """Give this agent and its children the data collectors.

        Stores the dict, calls :meth:`on_data_collectors_attached`, then attaches
        the same dict to each child.

        Raises:
            MissingSuperInitError: If ``Agent.__init__`` never ran.
        """
        check_initialised(self)
        self._data_collectors = data_collectors
        self.on_data_collectors_attached()
        for agent in self._agents.values():
            agent.attach_data_collectors(data_collectors)

    def on_data_collectors_attached(self) -> None:
        """Called after the data collectors are attached; acquire collectors here."""

    def get_inference_model(self, name: str) -> InferenceModel:
        """Return the inference model named ``name``.

        Raises:
            KeyError: If there is no such model.
            AttributeError: If no inference models have been attached yet.
        """
        models = self._inference_models
        if models is None:
            raise AttributeError(
                f"{type(self).__name__}.get_inference_model({name!r}) was called "
                "before the inference models were attached (for example in "
                "__init__). Fetch models in on_inference_models_attached(), which "
                "launch() calls once they are attached."
            )
        try:
            return models[name]
        except KeyError:
            pass
        context = f"{type(self).__name__}.get_inference_model"
        if isinstance(cast(object, models), InferenceModelsDict):  # or a plain dict
            message = models._missing_message(name, context)  # pyright: ignore[reportPrivateUsage]
        else:
            message = unknown_name_message(name, models, "inference model", context)
        collectors = self._data_collectors
        if collectors is not None and name in collectors:
            message += (
                f" {name!r} is a data collector: use get_data_collector({name!r})."
            )
        raise UnknownNameError(message)

    def get_data_collector(self, name: str) -> DataCollector[Any]:
        """Acquire the data collector named ``name`` for this agent.

        A collector can be acquired once per collectors dict and is never released,
        so within one agent tree (children share their parent's dict) exactly one
        agent may acquire each name.

        Raises:
            KeyError: If there is no such collector, or if it was already acquired;
                in that case the message names the agent class that holds it.
            AttributeError: If no data collectors have been attached yet.
        """
        collectors = self._data_collectors
        if collectors is None:
            raise AttributeError(
                f"{type(self).__name__}.get_data_collector({name!r}) was called "
                "before the data collectors were attached (for example in "
                "__init__). Acquire collectors in on_data_collectors_attached(), "
                "which launch() calls once they are attached."
            )
        try:
            return collectors.acquire(
                name, owner=f"agent {get_class_module_path(type(self))}"
            )
        except KeyError as error:
            models = self._inference_models
            if name not in collectors and models is not None and name in models:
                raise UnknownNameError(
                    f"{error} {name!r} is a model: use get_inference_model({name!r})."
                ) from None
            raise

    @override
    def setup(self) -> None:
        """Set up this agent, then each child."""
        super().setup()
        for agent in self._agents.values():
            agent.setup()

    @override
    def teardown(self) -> None:
        """Tear down this agent, then each child, reaching every one of them.

        A child that raises does not keep the next ones from being torn down;
        their errors are raised together.
        """
        call_each(
            [super().teardown, *(agent.teardown for agent in self._agents.values())],
            "teardowns",
        )

    @override
    def on_paused(self) -> None:
        """React to a pause, then let each child react."""
        super().on_paused()
        for agent in self._agents.values():
            agent.on_paused()

    @override
    def on_resumed(self) -> None:
        """React to a resume, then let each child react."""
        super().on_resumed()
        for agent in self._agents.values():
            agent.on_resumed()

    @override
    def save_state(self, path: Path) -> None:
        """Save this agent's state, then each child's to ``path / <child name>``.

        A childless agent leaves ``path`` alone (the base agent writes nothing);
        with children, ``path`` becomes a directory holding one entry per child.
        """
        super().save_state(path)
        if not self._agents:
            return
        path.mkdir(exist_ok=True)
        for name, agent in self._agents.items():
            agent.save_state(path / name)

    @override
    def load_state(self, path: Path) -> None:
        """Load this agent's state, then each child's from ``path / <child name>``."""
        super().load_state(path)
        for name, agent in self._agents.items():
            agent.load_state(path / name)


def _checked_children(
    parent: Agent[Any, Any], agents: object
) -> "dict[str, Agent[Any, Any]]":
    """``agents`` as a new dict, after checking it is a mapping of distinct agents."""
    if agents is None:
        return {}
    if not isinstance(agents, Mapping):
        hint = ""
        if isinstance(agents, list | tuple):
            hint = " Name each child: agents={'name': child, ...}."
        raise TypeError(
            f"{type(parent).__name__}(agents=...) takes a mapping of names to child "
            f"agents; got {describe(cast(object, agents))}.{hint}"
        )
    children = dict(cast(Mapping[object, object], agents))
    seen: dict[int, str] = {}
    for name, child in children.items():
        if not isinstance(name, str):
            raise TypeError(
                f"{type(parent).__name__}(agents=...): child agent names must be "
                f"strings; got {name!r}."
            )
        require_instance(child, Agent, f"{type(parent).__name__}(agents=...)[{name!r}]")
        if child is parent:
            raise ValueError(
                f"{type(parent).__name__}(agents=...)[{name!r}] is the agent itself; "
                "an agent cannot be its own child."
            )
        if id(child) in seen:
            raise ValueError(
                f"{type(parent).__name__}(agents=...) holds the same "
                f"{type(child).__name__} object as {seen[id(child)]!r} and "
                f"{name!r}; each child needs its own object (create one per name)."
            )
        seen[id(child)] = name
    return cast("dict[str, Agent[Any, Any]]", children)


def agent_tree(root: Agent[Any, Any]) -> Iterator[tuple[str, Agent[Any, Any]]]:
    """Every agent under ``root`` (itself included), depth first, with its place.

    Places read like ``"the agent's child 'policy'"``. Children that are not
    :class:`Agent` objects (duck-typed ones) are left out.

    Raises:
        ValueError: If one agent object has two places in the tree.
        pamiq_core.utils.init_check.MissingSuperInitError: If an agent's
            ``Agent.__init__`` never ran.
    """
    seen: dict[int, str] = {}
    stack: list[tuple[str, Agent[Any, Any]]] = [("the agent", root)]
    while stack:
        place, agent = stack.pop()
        if id(agent) in seen:
            raise ValueError(
                f"The same {type(agent).__name__} object is {seen[id(agent)]} and "
                f"{place}. An agent has one place in the agent tree; create one "
                "object per place."
            )
        seen[id(agent)] = place
        check_initialised(agent)
        yield place, agent
        for name, child in reversed(agent._agents.items()):  # pyright: ignore[reportPrivateUsage]
            if isinstance(cast(object, child), Agent):  # not a duck-typed child
                stack.append((f"{place}'s child {name!r}", child))
