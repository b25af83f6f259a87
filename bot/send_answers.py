"""What SQS's answer to a SendMessageBatch says of each entry: pure, no I/O.

An entry listed in ``Successful`` and not in ``Failed`` was stored. One in ``Failed`` was not: a
sender fault will fail again as it is, anything else may pass on a retry. One the answer does not
settle (in neither list, or in both) may or may not have been stored, so it must be neither
counted sent nor sent again. The entries' ids are their indexes in the batch
(``bot.planner.batch_entries``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from bot.sqs_model import SendFailure

T = TypeVar("T")


@dataclass
class SortedAnswer(Generic[T]):
    """The batch's items by what the answer said of them."""

    stored: list[T] = field(default_factory=list)
    retry: list[tuple[T, SendFailure]] = field(default_factory=list)  # failed on SQS's side
    refused: list[tuple[T, SendFailure]] = field(default_factory=list)  # sender fault
    unsettled: list[T] = field(default_factory=list)


def sort_answer(
    items: Sequence[T], ok: Sequence[str], failed: Sequence[SendFailure]
) -> SortedAnswer[T]:
    """Each of ``items`` (sent as entries ``"0"``, ``"1"``, ...) by SQS's answer."""
    ok_ids = set(ok)
    failures = {failure.entry_id: failure for failure in failed}
    answer: SortedAnswer[T] = SortedAnswer()
    for index, item in enumerate(items):
        failure = failures.get(str(index))
        listed_ok = str(index) in ok_ids
        if listed_ok and failure is None:
            answer.stored.append(item)
        elif failure is None or listed_ok:
            answer.unsettled.append(item)
        elif failure.sender_fault:
            answer.refused.append((item, failure))
        else:
            answer.retry.append((item, failure))
    return answer
