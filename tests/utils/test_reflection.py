from pamiq_core.utils.reflection import get_class_module_path


class Example:
    pass


def test_joins_module_and_class_name() -> None:
    assert get_class_module_path(Example) == f"{__name__}.Example"
    assert get_class_module_path(dict) == "builtins.dict"
