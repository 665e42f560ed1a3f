from tensorboardX.proto.summary_pb2 import Summary

class Event:
    wall_time: float
    step: int
    summary: Summary
    def __init__(
        self, *, wall_time: float = 0.0, step: int = 0, summary: Summary | None = None
    ) -> None: ...
