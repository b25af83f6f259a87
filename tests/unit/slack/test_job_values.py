"""The jobs are @dataclass(repr=False, eq=False) with ``__eq__`` and ``__repr__`` written once
(bot.slack.protocol._Job, for the endpoint's cold start): they must behave as @dataclass's."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bot.slack.protocol import ContinueJob, ReplyJob, ReportButtonJob


@dataclass
class _ReplyLike:  # what @dataclass writes, for comparison
    response_url: str
    text: str


def _report(**changed: str | None) -> ReportButtonJob:
    fields: dict[str, str | None] = {
        "action": "redrive",
        "queue": "orders-dlq",
        "date": "2026-12-01",
        "time_field": None,
        "user": "U_ALICE",
        "channel": "C_OPS",
        "team": "T_LOCAL",
        "response_url": "https://hooks.example/1",
        "received_at": "2026-12-01T10:00:00+00:00",
        "delivery": "d",
    }
    return ReportButtonJob(**{**fields, **changed})  # type: ignore[arg-type]


def test_jobs_are_equal_field_by_field_and_only_to_jobs_of_their_class() -> None:
    assert _report() == _report()
    assert _report(error="#0123456789ab") != _report()
    assert _report(delivery="another") != _report()
    assert ReplyJob("u", "t") == ReplyJob("u", "t")
    assert ReplyJob("u", "t") != ReplyJob("u", "x")
    # Another class with the same values, or a tuple of them, is not the job.
    assert ReplyJob("u", "t") != _ReplyLike("u", "t")
    assert ReplyJob("u", "t") != ("u", "t")
    assert ContinueJob("run", 2) != ContinueJob("run", 3)


def test_a_job_prints_as_a_dataclass_does() -> None:
    assert repr(ReplyJob("u", "it's")) == repr(_ReplyLike("u", "it's")).replace(
        "_ReplyLike", "ReplyJob"
    )
    assert repr(_report()).startswith("ReportButtonJob(action='redrive', queue='orders-dlq', ")
    assert repr(_report()).endswith("delivery='d', error=None, until=None)")


def test_a_job_is_not_hashable_as_a_dataclass_with_eq_is_not() -> None:
    with pytest.raises(TypeError):
        hash(ReplyJob("u", "t"))
