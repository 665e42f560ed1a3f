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


def test_data_and_trainer_names_are_exported_at_top_level() -> None:
    from pamiq_core import data, trainer

    assert pamiq_core.data is data
    assert pamiq_core.trainer is trainer
    assert pamiq_core.DataBuffer is data.DataBuffer
    assert pamiq_core.DataCollector is data.DataCollector
    assert pamiq_core.DataUser is data.DataUser
    assert pamiq_core.Trainer is trainer.Trainer
    assert {
        "data",
        "trainer",
        "DataBuffer",
        "DataCollector",
        "DataUser",
        "Trainer",
    } <= set(pamiq_core.__all__)


def test_data_and_trainer_subpackage_exports() -> None:
    from pamiq_core import data, trainer
    from pamiq_core.data import impls

    assert data.__all__ == [
        "impls",
        "DataBuffer",
        "DataCollector",
        "DataUser",
        "DataCollectorsDict",
        "DataUsersDict",
    ]
    assert data.impls is impls
    assert impls.__all__[:4] == [
        "SequentialBuffer",
        "RandomReplacementBuffer",
        "DictSequentialBuffer",
        "DictRandomReplacementBuffer",
    ]
    assert trainer.__all__ == ["Trainer", "TrainersDict"]
    assert "TrainersDict" not in pamiq_core.__all__


SPEC_TOP_LEVEL_ORDER = [
    *("data", "interaction", "model", "time", "trainer", "utils"),
    *("DataBuffer", "DataCollector", "DataUser"),
    *("Interaction", "Agent", "Environment", "FixedIntervalInteraction"),
    *("IntervalAdjustor", "SleepIntervalAdjustor", "ModularEnvironment", "Sensor"),
    *("Actuator", "SensorsDict", "ActuatorsDict", "Wrapper", "LambdaWrapper"),
    *("SensorWrapper", "ActuatorWrapper", "EnvironmentWrapper"),
    *("TrainingModel", "InferenceModel", "Trainer", "LaunchConfig", "launch"),
]


def test_top_level_names_follow_the_specified_order() -> None:
    exported = [name for name in SPEC_TOP_LEVEL_ORDER if name in pamiq_core.__all__]
    assert pamiq_core.__all__ == exported  # nothing else, and in the spec's order
    for name in pamiq_core.__all__:
        assert getattr(pamiq_core, name) is not None


def test_interaction_names_are_exported_at_top_level() -> None:
    from pamiq_core import interaction

    assert interaction.__all__ == [
        *("Agent", "Environment", "modular_env", "wrappers", "Interaction"),
        *("FixedIntervalInteraction", "IntervalAdjustor", "SleepIntervalAdjustor"),
        *("ModularEnvironment", "Sensor", "Actuator", "SensorsDict", "ActuatorsDict"),
        *("Wrapper", "LambdaWrapper", "SensorWrapper", "ActuatorWrapper"),
        "EnvironmentWrapper",
    ]
    for name in interaction.__all__:
        if name not in ("modular_env", "wrappers"):
            assert getattr(pamiq_core, name) is getattr(interaction, name)
    assert {"interaction", "time", "utils"} <= set(pamiq_core.__all__)


def test_interaction_classes_live_in_their_modules() -> None:
    from pamiq_core.interaction import (
        agent,
        env,
        interactions,
        interval_adjustors,
        modular_env,
        wrappers,
    )

    homes = {
        agent: ["Agent"],
        env: ["Environment"],
        interactions: ["Interaction", "FixedIntervalInteraction"],
        interval_adjustors: ["IntervalAdjustor", "SleepIntervalAdjustor"],
        modular_env: [
            *("Sensor", "Actuator", "ModularEnvironment"),
            *("SensorsDict", "ActuatorsDict"),
        ],
        wrappers: [
            *("Wrapper", "LambdaWrapper", "EnvironmentWrapper"),
            *("SensorWrapper", "ActuatorWrapper"),
        ],
    }
    for module, names in homes.items():
        for name in names:
            assert getattr(module, name).__module__ == module.__name__
