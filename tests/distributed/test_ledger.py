"""The batch ledger: chunks in dispatch order, losses retried alone, a second loss a verdict."""

from __future__ import annotations

import pytest

from codeeval_rl.distributed.ledger import Chunk, Ledger
from codeeval_rl.errors import SandboxError
from codeeval_rl.types import ExecutionResult, Status


def ok(i: int) -> ExecutionResult:
    return ExecutionResult(status=Status.OK, exit_code=0, stdout=str(i))


def drain(ledger: Ledger) -> list[Chunk]:
    out = []
    while (chunk := ledger.take()) is not None:
        out.append(chunk)
    return out


def test_chunks_cover_the_batch_in_order():
    ledger = Ledger(7, 3)
    assert [c.indices for c in drain(ledger)] == [(0, 1, 2), (3, 4, 5), (6,)]
    assert Ledger(0, 3).finished and Ledger(0, 3).results() == []


def test_results_come_back_in_input_order_whatever_the_answer_order():
    ledger = Ledger(5, 2)
    chunks = drain(ledger)
    for chunk in reversed(chunks):
        pairs = ledger.settle(chunk, [ok(i) for i in chunk.indices])
        assert [i for i, _ in pairs] == list(chunk.indices)
    assert ledger.finished
    assert [r.stdout for r in ledger.results()] == ["0", "1", "2", "3", "4"]


def test_a_lost_chunk_comes_back_as_single_runs_first_and_a_second_loss_is_a_verdict():
    ledger = Ledger(6, 3, max_losses=2)
    first, second = ledger.take(), ledger.take()
    assert ledger.lose(first, "actor died") == []  # nothing final after one loss
    assert ledger.peek() == Chunk((0,), retry=True) and ledger.losses(0) == 1 and ledger.losses(3) == 0
    retries = [ledger.take() for _ in range(3)]
    assert [c.indices for c in retries] == [(0,), (1,), (2,)]  # alone, before the untouched chunk
    assert all(c.retry for c in retries) and not first.retry and not second.retry
    assert ledger.take() is None
    ledger.settle(second, [ok(i) for i in second.indices])
    ledger.settle(retries[0], [ok(0)])
    ledger.settle(retries[2], [ok(2)])
    final = ledger.lose(retries[1], "actor died again")
    assert [i for i, _ in final] == [1]
    verdict = final[0][1]
    assert verdict.status is Status.SANDBOX_ERROR and "2 times" in verdict.reason and "again" in verdict.reason
    assert ledger.finished and ledger.take() is None
    assert [r.status for r in ledger.results()] == [Status.OK, Status.SANDBOX_ERROR] + [Status.OK] * 4


def test_one_loss_is_enough_when_max_losses_is_one():
    ledger = Ledger(2, 2, max_losses=1)
    final = ledger.lose(ledger.take(), "gone")
    assert [r.status for _, r in final] == [Status.SANDBOX_ERROR] * 2 and ledger.finished


def test_wrong_answers_are_our_fault_not_silence():
    ledger = Ledger(3, 3)
    chunk = ledger.take()
    with pytest.raises(SandboxError, match="2 results for 3 runs"):
        ledger.settle(chunk, [ok(0), ok(1)])
    with pytest.raises(SandboxError, match="no result yet"):
        ledger.results()
    with pytest.raises(ValueError):
        Ledger(3, 0)
