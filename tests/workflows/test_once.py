"""workflows.once.Once: the one memo of doctor's reads and of the cluster view."""

from __future__ import annotations

import threading

import pytest

from sgpctl.workflows.once import ABSENT, DONE, FAILED, READING, Once


def test_an_answer_is_made_once_and_a_caller_asking_meanwhile_waits_for_it():
    once = Once(keep_failures=False)
    started, release, calls, got = threading.Event(), threading.Event(), [], []

    def slow():
        calls.append(1)
        started.set()
        release.wait(5)
        return "answer"

    first = threading.Thread(target=lambda: got.append(once.get("k", slow)))
    first.start()
    started.wait(5)
    assert once.state("k") == READING
    second = threading.Thread(target=lambda: got.append(once.get("k", lambda: calls.append(2) or "other")))
    second.start()
    release.set()
    first.join(5)
    second.join(5)
    assert got == ["answer", "answer"] and calls == [1] and once.state("k") == DONE and once.values == {"k": "answer"}


@pytest.mark.parametrize("keep", [True, False])
def test_a_failure_is_kept_only_when_asked_to(keep):
    once = Once(keep_failures=keep)
    calls = []

    def failing():
        calls.append(1)
        raise RuntimeError("brief 500")

    with pytest.raises(RuntimeError, match="brief 500"):
        once.get("k", failing)
    if keep:  # doctor: the check that owns the read reports it, no read is made twice
        assert once.state("k") == FAILED
        with pytest.raises(RuntimeError, match="brief 500"):
            once.get("k", lambda: "fine now")
        assert calls == [1] and "k" not in once.values
    else:  # the view: a brief error must not fail every later read
        assert once.state("k") == ABSENT
        assert once.get("k", lambda: "fine now") == "fine now" and calls == [1]


def test_clear_forgets_answers_and_kept_failures():
    once = Once(keep_failures=True)
    once.get("a", lambda: 1)
    with pytest.raises(ValueError):
        once.get("b", lambda: (_ for _ in ()).throw(ValueError("x")))
    once.clear()
    assert once.state("a") == ABSENT and once.state("b") == ABSENT
    assert once.get("a", lambda: 2) == 2 and once.get("b", lambda: 3) == 3
