"""An agent with typed access to torch inference models."""

from typing import Any, Generic, TypeVar, cast, overload

from torch import nn

from pamiq_core.interaction import Agent
from pamiq_core.utils.checks import article

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
            raise ValueError(
                f"Model {name} is not an instance of TorchInferenceModel. It is "
                f"{article(type(inference_model).__name__)}; fetch it with "
                f"get_inference_model({name!r}), or wrap the module in "
                "TorchTrainingModel(module) where it is passed to launch(models=...)."
            )
        inference_model = cast(TorchInferenceModel[Any], inference_model)
        module = inference_model._raw_model  # pyright: ignore[reportPrivateUsage]  # a type check, as the spec says
        if not isinstance(module, module_cls):
            raise TypeError(
                f"Internal model is not an instance of {module_cls.__name__}. Model "
                f"{name!r} wraps {article(type(module).__name__)}, not "
                f"{article(module_cls.__name__)} as {type(self).__name__} asked."
            )
        return inference_model
