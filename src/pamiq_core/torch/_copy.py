"""Copying every parameter and buffer of one module into a module of the same shape.

A sync copies all tensors of the training module into an inference module, often
after every training step. The copy itself is one fused multi-tensor call
(``torch._foreach_copy_``) per group of tensors the fused kernel can take together;
what this module adds is the bookkeeping around it, done once instead of per sync:

- the two modules are walked once, their tensors paired by name and checked for equal
  shapes and dtypes;
- later syncs only check that the training module's structure did not change since,
  by comparing the identities of the entries of every submodule's parameter, buffer
  and submodule registries with the ones seen at the walk (a flat identity comparison
  run in C: no walk, no Python call per tensor); if anything was added, removed or
  reassigned, the plan is rebuilt. The targets, inference copies that only syncs
  write to, are not re-checked.
"""

# pyright: reportPrivateUsage=false
# The staleness check reads nn.Module's registries (_parameters, _buffers, _modules)
# directly: that is what makes it cheap, and they are what nn.Module itself uses.

import operator
from collections.abc import Iterable, Mapping
from itertools import chain

import torch
from torch import nn

_MAX_CACHED_PLANS = 2  # the front and the back module of a double-buffered model


class ModuleTensors:
    """A module's parameters and buffers, flattened once.

    Shared tensors appear once (as in ``named_parameters()``); registry entries that
    are None (e.g. a layer built with ``bias=False``) are skipped.
    """

    def __init__(self, module: nn.Module) -> None:
        self.module = module
        registries: list[Mapping[str, object]] = [
            registry
            for submodule in module.modules()
            for registry in (
                submodule._parameters,
                submodule._buffers,
                submodule._modules,
            )
        ]
        # Live views of the registries that hold something, and the empty ones:
        # checking an empty registry's length is cheaper than iterating it.
        self._filled = tuple(registry.values() for registry in registries if registry)
        self._empty = tuple(registry for registry in registries if not registry)
        self._fingerprint = self._entries()
        named = [*module.named_parameters(), *module.named_buffers()]
        self.names = [name for name, _ in named]
        self.tensors = [tensor for _, tensor in named]

    def _entries(self) -> list[object]:
        return list(chain.from_iterable(self._filled))

    def is_current(self) -> bool:
        """Whether the module still has exactly the tensors and submodules seen."""
        entries = self._entries()
        return (
            len(entries) == len(self._fingerprint)
            and all(map(operator.is_, entries, self._fingerprint))
            and not any(map(len, self._empty))
        )


class CopyPlan:
    """Copies the tensors of one module into those of a structurally equal module."""

    def __init__(self, source: ModuleTensors, target: ModuleTensors) -> None:
        """Pair the tensors of ``source`` and ``target`` by name.

        Raises:
            ValueError: If the two modules do not have the same parameter and buffer
                names, or a pair differs in shape or dtype.
        """
        _check_same_structure(source, target)
        self.source = source
        self.target = target
        # The fused kernels (CUDA) take lists of one device and dtype. On the CPU,
        # foreach copies tensor by tensor in C++ whatever the lists hold, so one
        # call for all saves a call per dtype.
        groups: dict[tuple[torch.device, torch.device, torch.dtype | None], _Group] = {}
        for src, dst in zip(source.tensors, target.tensors, strict=True):
            on_cpu = dst.device.type == "cpu" and src.device.type == "cpu"
            key = (dst.device, src.device, None if on_cpu else dst.dtype)
            group = groups.setdefault(key, ([], []))
            group[0].append(dst)
            group[1].append(src)
        self._groups = list(groups.values())

    def run(self) -> None:
        """Copy the current source values into the target tensors."""
        # Without autograd, or the targets would join the source's graph. The function
        # form of set_grad_enabled costs a third of the no_grad context manager.
        grad_was_enabled = torch.is_grad_enabled()
        torch.set_grad_enabled(False)
        try:
            for targets, sources in self._groups:
                # Fused multi-tensor copy: private, but in every torch we support.
                torch._foreach_copy_(targets, sources)  # pyright: ignore[reportPrivateImportUsage]
        finally:
            torch.set_grad_enabled(grad_was_enabled)


_Group = tuple[list[torch.Tensor], list[torch.Tensor]]


def _check_same_structure(source: ModuleTensors, target: ModuleTensors) -> None:
    if source.names != target.names:
        source_names, target_names = set(source.names), set(target.names)
        missing = _listing(n for n in source.names if n not in target_names)
        extra = _listing(n for n in target.names if n not in source_names)
        raise ValueError(
            "cannot sync modules of different structure: the target lacks "
            f"[{missing}] and has extra [{extra}] (or the order differs)"
        )
    for name, src, dst in zip(
        source.names, source.tensors, target.tensors, strict=True
    ):
        if src.shape != dst.shape or src.dtype != dst.dtype:
            raise ValueError(
                f"cannot sync '{name}': source is {_describe(src)}, "
                f"target is {_describe(dst)}"
            )


def _listing(names: Iterable[str]) -> str:
    return ", ".join(names)


def _describe(tensor: torch.Tensor) -> str:
    return f"{tuple(tensor.shape)} {tensor.dtype}"


class ModuleCopier:
    """Copies a source module's tensors into target modules, reusing its plans.

    The plan for a (source, target) pair is built on first use and rebuilt when the
    source's structure changed (see :class:`ModuleTensors`) or another source object
    is given. Plans for the last two targets are kept, which covers the front and
    back module of a double-buffered inference model.
    """

    def __init__(self) -> None:
        self._source: ModuleTensors | None = None
        self._plans: list[CopyPlan] = []

    def copy(self, source: nn.Module, target: nn.Module) -> None:
        """Copy every parameter and buffer value of ``source`` into ``target``.

        Raises:
            ValueError: If the modules differ in structure (see :class:`CopyPlan`).
        """
        tensors = self._source
        if tensors is None or tensors.module is not source or not tensors.is_current():
            tensors = self._source = ModuleTensors(source)
            self._plans.clear()
        self._plan_for(tensors, target).run()

    def _plan_for(self, source: ModuleTensors, target: nn.Module) -> CopyPlan:
        # Targets are inference copies that only syncs write to, so their structure
        # is not re-checked; a target replaced by another object gets a new plan.
        plans = self._plans
        for plan in plans:
            if plan.target.module is target:
                return plan
        plan = CopyPlan(source, ModuleTensors(target))
        plans.append(plan)
        if len(plans) > _MAX_CACHED_PLANS:
            del plans[0]
        return plan
