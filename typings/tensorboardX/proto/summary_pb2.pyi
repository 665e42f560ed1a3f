from collections.abc import Iterable

class Summary:
    class Value:
        tag: str
        simple_value: float
        def __init__(self, *, tag: str = "", simple_value: float = 0.0) -> None: ...

    value: list[Summary.Value]
    def __init__(self, *, value: Iterable[Summary.Value] = ()) -> None: ...
