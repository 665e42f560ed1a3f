import subprocess
import sys

import pamiq_core.tracking as tracking


def test_importing_pamiq_core_does_not_import_the_tracker_libraries() -> None:
    code = (
        "import sys, pamiq_core, pamiq_core.tracking;"
        "print(','.join(m for m in ('tensorboardX', 'tensorboard', 'mlflow') "
        "if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_the_public_names_are_exported() -> None:
    for name in tracking.__all__:
        assert getattr(tracking, name) is not None, name
    assert {"log_scalar", "Tracker", "CSVLogger", "TrackingLogger"} <= set(
        tracking.__all__
    )
