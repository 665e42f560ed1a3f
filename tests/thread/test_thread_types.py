from pamiq_core.thread import ThreadTypes


def test_members_and_names() -> None:
    assert [t.value for t in ThreadTypes] == [1, 2, 3]
    assert [t.thread_name for t in ThreadTypes] == ["control", "inference", "training"]
