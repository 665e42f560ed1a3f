import subprocess
import sys
from importlib import metadata

import pamiq_core


def test_version_comes_from_the_installed_distribution() -> None:
    assert pamiq_core.__version__ == metadata.version("pamiq-core")


def test_model_names_are_exported_at_top_level() -> None:
    from pamiq_core import model

    assert pamiq_core.InferenceModel is model.InferenceModel
    assert pamiq_core.TrainingModel is model.TrainingModel
    assert {"model", "InferenceModel", "TrainingModel"} <= set(pamiq_core.__all__)
    assert model.__all__ == [
        "InferenceModel",
        "TrainingModel",
        "InferenceModelsDict",
        "TrainingModelsDict",
    ]


def test_importing_the_package_does_not_import_optional_extras() -> None:
    code = (
        "import sys, pamiq_core;"
        "loaded = [m for m in ('torch', 'gymnasium', 'pamiq_core.torch',"
        " 'pamiq_core.gym', 'pamiq_core.testing') if m in sys.modules];"
        "print(','.join(loaded))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_state_persistence_is_loaded_with_the_package() -> None:
    code = "import pamiq_core; print(pamiq_core.state_persistence.__name__)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "pamiq_core.state_persistence"
