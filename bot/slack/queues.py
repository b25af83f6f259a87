"""The worker's way to the DLQs: its options, the catalog, an engine, and its time budget."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.catalog import DlqCatalog
from bot.config import EngineSettings
from bot.engine import RedriveEngine
from bot.pacing import Deadline

if TYPE_CHECKING:  # a type only: the worker's rules load no boto3 (tests/unit/test_layering.py)
    from bot.feeders import FeederDirectory
    from bot.sqs_gateway import SqsGateway

DEADLINE_RESERVE_S = 20.0  # kept back from the time budget to release messages and report


@dataclass(frozen=True)
class WorkerOptions:
    progress_interval_s: float = 3.0  # how often the card and the checkpoint are refreshed
    peek_default: int = 3
    max_held: int | None = None  # unselected messages held at once (default: under SQS's quota)


class Queues:
    """The catalog of watched DLQs over one SQS gateway, and the engine that redrives from them
    (built by ``bot.composition.redrive_engine``, as the daily job's: with its redrive ledger).
    ``feeders``: what finds the DLQs' SNS subscriptions, EventBridge targets and Lambda
    functions (each catalog reads them once)."""

    def __init__(
        self,
        gateway: SqsGateway,
        settings: EngineSettings,
        engine: RedriveEngine,
        feeders: FeederDirectory | None = None,
    ) -> None:
        self.gateway = gateway
        self.settings = settings
        self.tz = settings.timezone
        self._engine = engine
        self.feeders = feeders

    def catalog(self) -> DlqCatalog:
        return DlqCatalog(self.gateway, self.settings, self.feeders)

    def engine(self) -> RedriveEngine:
        return self._engine


def deadline_of(context: Any) -> Deadline:
    """The invocation's time budget, less a reserve (none outside Lambda)."""
    if context is None:  # called outside Lambda (a direct call in a test or a script)
        return Deadline(None)
    remaining = context.get_remaining_time_in_millis() / 1000
    # Small budgets (tests, short timeouts) keep a proportional reserve instead.
    return Deadline.from_lambda_context(
        context, reserve_s=min(DEADLINE_RESERVE_S, remaining * 0.25)
    )
