"""Names of classes, for loggers and messages."""


def get_class_module_path(cls: type) -> str:
    """Return ``"<module>.<ClassName>"`` for ``cls``."""
    return f"{cls.__module__}.{cls.__name__}"
