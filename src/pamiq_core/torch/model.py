"""The torch model pair: a module trained in one thread, run by the agent in another.

:class:`TorchTrainingModel` owns the module the trainer updates
(``training_model.model``); its :class:`TorchInferenceModel` runs separate copies for
the agent. ``sync()`` copies every parameter and buffer of the training module into
the inference side and never replaces the training module or its parameters, so
optimizers built once stay valid and syncing is invisible to training.

CUDA note: the copy is queued on the training thread's current stream. Both threads
use the device's default stream unless user code switches streams, and work on one
stream runs in order, so a sync never races with queued inference kernels. Code that
runs training or inference on other streams must synchronize them itself.
"""

import copy
from pathlib import Path
from typing import Any, Generic, TypeVar, cast

import torch
from torch import nn
from typing_extensions import override

from pamiq_core.model import TrainingModel
from pamiq_core.utils.checks import require_instance

from ._copy import ModuleCopier
from ._inference import TorchInferenceModel, UnwrappedContextManager
from ._procedure import (
    InferenceProcedureCallable,
    default_infer_procedure,
    get_device,
)
from ._remote import ParameterBytes, export_parameters, import_parameters
from ._shared import SharedSlots

__all__ = [
    "InferenceProcedureCallable",
    "get_device",
    "default_infer_procedure",
    "UnwrappedContextManager",
    "TorchInferenceModel",
    "TorchTrainingModel",
]

_ModuleT = TypeVar("_ModuleT", bound=nn.Module)


class TorchTrainingModel(
    TrainingModel[TorchInferenceModel[_ModuleT]], Generic[_ModuleT]
):
    """A torch module trained in the training thread, with an inference copy.

    Sync semantics:

    - ``model`` and its ``Parameter`` objects are never replaced, and a sync leaves
      their values, gradients and train/eval mode untouched. Training with a sync
      after every step is bit-identical to training without syncs.
    - The inference side holds its own copies of the module, created in eval mode,
      with ``requires_grad=False`` and no gradients. A sync copies all parameters and
      buffers (running statistics and counters included) into them. Inside
      ``inference_model.unwrap(inference_mode=False)`` the copy's parameters take
      gradients like the training module's, until the block ends (see
      :meth:`TorchInferenceModel.unwrap`).
    - Default (double-buffered): the inference model keeps a front module, which
      inference uses, and a back module. A sync writes into the back module while
      inference goes on, then swaps the two under the inference lock, so inference
      waits at most for a pointer swap. If inference holds the lock at that moment,
      the sync returns at once and the next ``infer`` or ``unwrap`` makes the swap,
      so training does not wait for inference either (except when a second sync
      comes before inference took up the first: it waits for the running call).
      Costs two copies of the module besides the training one (created at the
      first sync).
    - ``in_place=True``: a single inference copy, written while holding the inference
      lock, so inference waits for the whole copy (time proportional to the model's
      size). Costs one copy; for models too large to hold three.
    - ``inference_thread_only=True``: the inference model runs this very module
      (put in eval mode); there is no copy and nothing to sync, and gradient blocks
      leave its ``requires_grad`` flags and gradients alone.
    """

    def __init__(
        self,
        model: _ModuleT,
        has_inference_model: bool = True,
        inference_thread_only: bool = False,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
        inference_procedure: InferenceProcedureCallable[_ModuleT]
        | str = default_infer_procedure,
        pretrained_parameter_file: str | Path | None = None,
        compile: bool = False,
        *,
        in_place: bool = False,
    ) -> None:
        """Wrap ``model`` for training.

        Args:
            model: The module to train.
            has_inference_model: Whether to create an inference model.
            inference_thread_only: Whether only the inference thread uses the module
                (no copy, no sync, hidden from trainers).
            device: Where to move the module. None keeps it where it is.
            dtype: If given, every parameter and buffer is cast to it first.
            inference_procedure: How :meth:`TorchInferenceModel.infer` calls the
                module, or the name of a method of the module's class to use as
                such (it then gets the module as ``self``, and tensors are not
                moved to the device).
            pretrained_parameter_file: A state dict file to load (onto ``device``)
                before any inference copy is made.
            compile: Compile the training and inference modules in place with
                ``nn.Module.compile()``. Creates the inference model at once.
            in_place: Sync into a single inference copy under the inference lock
                instead of double-buffering (see the class description).

        Raises:
            ValueError: If ``has_inference_model`` is False and
                ``inference_thread_only`` is True, or if ``inference_procedure``
                names a class attribute that is not callable.
            AttributeError: If ``inference_procedure`` names no attribute of the
                module's class.
        """
        require_instance(model, nn.Module, "TorchTrainingModel(model=...)")
        super().__init__(has_inference_model, inference_thread_only)
        if dtype is not None:
            model = model.type(dtype)
        self.model = model
        if device is None:
            device = get_device(model)
        if isinstance(inference_procedure, str):
            inference_procedure = _method_procedure(type(model), inference_procedure)
        self._inference_procedure = inference_procedure
        self._in_place = in_place
        self._compile = compile
        self._copier = ModuleCopier()
        self._sync_version = 0
        # Ray mode with replicas: the DistributedDataParallel wrapper of ``model``
        # that forward() calls, so that gradients are averaged across replicas.
        self._data_parallel: nn.Module | None = None
        model.to(device)
        if pretrained_parameter_file is not None:
            model.load_state_dict(
                torch.load(pretrained_parameter_file, map_location=device)
            )
        if compile:
            if has_inference_model:
                self.inference_model  # noqa: B018  (creates and compiles the copy)
            if not inference_thread_only:
                _compile_in_place(model)

    @property
    def in_place(self) -> bool:
        """Whether syncs write into a single inference copy under the lock."""
        return self._in_place

    @property
    def sync_version(self) -> int:
        """How many syncs this model has completed.

        Compare with :attr:`TorchInferenceModel.sync_version` to see which sync the
        inference model runs.
        """
        return self._sync_version

    @override
    def forward(self, *args: Any, **kwds: Any) -> Any:
        """Call the training module with the same arguments.

        In a data-parallel Ray group the call goes through the module's
        ``DistributedDataParallel`` wrapper, which averages the gradients.
        """
        wrapper = self._data_parallel
        if wrapper is not None:
            return wrapper(*args, **kwds)
        return self.model(*args, **kwds)

    @override
    def _create_inference_model(self) -> TorchInferenceModel[_ModuleT]:
        if self.inference_thread_only:
            module = self.model.eval()
            if self._compile:
                _compile_in_place(module)
            return TorchInferenceModel(module, self._inference_procedure)
        inference = TorchInferenceModel(
            self._new_inference_copy(), self._inference_procedure
        )
        inference._hold_copies(self._trainable_names)  # pyright: ignore[reportPrivateUsage]  # the pair's package-internal doorway
        return inference

    def _trainable_names(self) -> set[str]:
        """Names of the training module's parameters that require grad.

        Read by the inference thread when it opens a gradient block: only flags
        are read, and nothing of the training module is changed.
        """
        return {
            name
            for name, parameter in self.model.named_parameters()
            if parameter.requires_grad
        }

    def _new_inference_copy(self) -> _ModuleT:
        """A deep copy of the training module, prepared for inference."""
        module = copy.deepcopy(self.model)  # deepcopy drops any compiled forward
        module.eval()
        for parameter in module.parameters():
            parameter.requires_grad_(False)
            parameter.grad = None
        if self._compile:
            _compile_in_place(module)
        return module

    @override
    def sync_impl(self, inference_model: TorchInferenceModel[_ModuleT]) -> None:
        """Copy every parameter and buffer of ``model`` into ``inference_model``.

        Double-buffered unless ``in_place``: see the class description.

        Raises:
            ValueError: If the inference module no longer has the training module's
                structure (names, shapes and dtypes of parameters and buffers).
        """
        source = self.model
        version = self._sync_version + 1
        inference_model._update_parameters(  # pyright: ignore[reportPrivateUsage]  # the pair's package-internal doorway
            lambda target: self._copier.copy(source, target),
            version,
            None if self._in_place else self._new_inference_copy,
        )
        self._sync_version = version

    @override
    def __getstate__(self) -> dict[str, Any]:
        """The model to send to a process; its copy plans are made anew there."""
        state = super().__getstate__()
        state["_copier"] = ModuleCopier()
        state["_data_parallel"] = None
        return state

    def _share_with_process(self, lock: Any) -> SharedSlots:
        """Process mode, the agent's side: take syncs from shared-memory slots.

        The agent's copy and a second copy move into shared memory; a training
        process given the slots (:meth:`_publish_through`) writes its syncs there.
        Call before any thread uses the inference model.
        """
        inference = self.inference_model
        front = inference._raw_model  # pyright: ignore[reportPrivateUsage]
        slots = SharedSlots.create(front, self._new_inference_copy(), lock)
        inference._raw_model = cast(_ModuleT, slots.modules[0])  # pyright: ignore[reportPrivateUsage]
        inference._take_from = slots  # pyright: ignore[reportPrivateUsage]
        return slots

    def _publish_through(self, slots: SharedSlots) -> None:
        """Process mode, the training side: write syncs into the shared ``slots``."""
        inference = TorchInferenceModel(
            cast(_ModuleT, slots.modules[0]), self._inference_procedure
        )
        inference._publish_to = slots  # pyright: ignore[reportPrivateUsage]
        self._inference_model = inference

    def _export_parameters(self) -> ParameterBytes:
        """Ray mode, the training side: this sync's tensors as bytes (views)."""
        self._sync_version += 1
        return export_parameters(self.model)

    def _import_parameters(self, parameters: ParameterBytes, version: int) -> None:
        """Ray mode, the agent's side: make ``parameters`` the inference model's.

        Double-buffered unless ``in_place``, as a sync in this process.
        """
        self.inference_model._update_parameters(  # pyright: ignore[reportPrivateUsage]  # the pair's package-internal doorway
            lambda target: import_parameters(parameters, target),
            version,
            None if self._in_place else self._new_inference_copy,
        )

    @override
    def save_state(self, path: Path) -> None:
        """Save the training module's state dict to ``f"{path}.pt"``."""
        torch.save(self.model.state_dict(), f"{path}.pt")

    @override
    def load_state(self, path: Path) -> None:
        """Load ``f"{path}.pt"`` into the training module, onto its device.

        Does not sync; the caller does (``TrainingModelsDict.load_state`` does).
        """
        state = torch.load(f"{path}.pt", map_location=get_device(self.model))
        self.model.load_state_dict(state)


def _method_procedure(
    model_class: type[_ModuleT], name: str
) -> InferenceProcedureCallable[_ModuleT]:
    """The function ``model_class.<name>``, to be called with the module first."""
    if not hasattr(model_class, name):
        raise AttributeError(
            f"The model class {model_class.__name__} does not have a method named "
            f"'{name}'"
        )
    method = getattr(model_class, name)
    if not callable(method):
        raise ValueError(
            f"The specified inference_procedure '{name}' is not a callable method on "
            f"{model_class.__name__}"
        )
    return cast(InferenceProcedureCallable[_ModuleT], method)


def _compile_in_place(module: nn.Module) -> None:
    """Compile ``module``'s forward with ``torch.compile``, keeping the object."""
    module.compile()  # pyright: ignore[reportUnknownMemberType]  # untyped in torch
