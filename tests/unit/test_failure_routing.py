"""Where Lambda's on-failure records go: by the name of the function that failed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.failure_routing import FailureRouter, failed_function

ARN = "arn:aws:lambda:us-east-2:123456789012:function:{}"


def record(function_arn: str | None) -> dict[str, Any]:
    context = (
        {"requestId": "r1"}
        if function_arn is None
        else {"requestId": "r1", "functionArn": function_arn}
    )
    return {"requestContext": context, "requestPayload": {}, "responsePayload": {}}


@dataclass
class Side:
    """A worker (``record_failure``) or a daily job (``failures.record``): keeps what it got."""

    got: list[dict[str, Any]] = field(default_factory=list)

    def record_failure(self, failed: dict[str, Any]) -> dict[str, Any]:
        self.got.append(failed)
        return {"side": "worker"}

    @property
    def failures(self) -> Any:
        return self

    def record(self, failed: dict[str, Any]) -> dict[str, Any]:
        self.got.append(failed)
        return {"side": "daily"}


def test_the_failed_function_is_read_from_the_records_arn() -> None:
    assert failed_function(record(ARN.format("my-function") + ":$LATEST")) == "my-function"
    assert failed_function(record(ARN.format("my-function"))) == "my-function"
    assert failed_function(record(None)) is None
    assert failed_function(record("arn:aws:sqs:us-east-2:123456789012:queue")) is None
    assert failed_function({"requestContext": "nonsense"}) is None


def test_each_record_goes_to_its_side_which_is_built_once_when_first_needed() -> None:
    # Given a router whose sides count how often they are built
    built: list[str] = []
    worker, daily = Side(), Side()

    def make(name: str, side: Side) -> Any:
        return lambda: built.append(name) or side

    router = FailureRouter(
        worker_function="w", worker=make("worker", worker), daily=make("daily", daily)
    )
    # When records of the worker and of another function arrive, twice each
    answers = [router.handle(record(ARN.format(name))) for name in ("w", "d", "w", "d")]
    # Then each went to its side, and each side was built once
    assert [a["side"] for a in answers] == ["worker", "daily", "worker", "daily"]
    assert (len(worker.got), len(daily.got)) == (2, 2)
    assert built == ["worker", "daily"]


def test_a_record_that_names_no_function_is_refused_without_building_anything() -> None:
    built: list[str] = []
    router = FailureRouter(
        worker_function="w",
        worker=lambda: built.append("worker") or Side(),
        daily=lambda: built.append("daily") or Side(),
    )
    assert router.handle(record(None)) == {"ok": False, "refused": "not an on-failure record"}
    assert built == []
