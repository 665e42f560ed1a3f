"""An agent with typed access to torch inference models."""

from typing import Any, Generic, TypeVar, cast, overload

from torch import nn

from pamiq_core.interaction import Agent

from .model import TorchInferenceModel

__all__ = ["TorchAgent"]

ObsType = TypeVar("ObsType")
ActType = TypeVar("ActType")
_ModuleT = TypeVar("_ModuleT", bound=nn.Module)


class TorchAgent(Agent[ObsType, ActType], Generic[ObsType, ActType]):
    """An :class:`~pamiq_core.interaction.Agent` that fetches torch inference models.

    Subclasses implement ``step`` and usually fetch their models in
    ``on_inference_models_attached`` with :meth:`get_torch_inference_model`.
    """

    @overload
    def get_torch_inference_model(
        self, name: str
    ) -> TorchInferenceModel[nn.Module]: ...
    @overload
    def get_torch_inference_model(
        self, name: str, module_cls: type[_ModuleT]
    ) -> TorchInferenceModel[_ModuleT]: ...
    def get_torch_inference_model(
        self, name: str, module_cls: type[nn.Module] = nn.Module
    ) -> TorchInferenceModel[Any]:
        """Return the torch inference model ``name``.

        Args:
            name: The model's name in the inference models dict.
            module_cls: The class the wrapped module must be an instance of.

        Raises:
            KeyError: If there is no such model.
            ValueError: If the model is not a :class:`TorchInferenceModel`.
            TypeError: If its module is not a ``module_cls``.
        """
        inference_model = self.get_inference_model(name)
        if not isinstance(inference_model, TorchInferenceModel):
            raise ValueError(f"Model {name} is not an instance of TorchInferenceModel")
        inference_model = cast(TorchInferenceModel[Any], inference_model)
        if not isinstance(
            inference_model._raw_model,  # pyright: ignore[reportPrivateUsage]  # a type check, as the spec says
            module_cls,
        ):
            raise TypeError(
                f"Internal model is not an instance of {module_cls.__name__}"
            )
        return inference_model
