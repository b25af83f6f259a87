"""What a ``dlq-redrive`` command needs: settings, the SQS gateway, the feeders of other kinds and
where their messages go back, output streams and the clock. Built by
``bot.composition.build_cli_context`` (the one place that makes clients)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, TextIO

from bot.catalog import DlqCatalog
from bot.config import EngineSettings
from bot.sqs_gateway import SqsGateway
from bot.sqs_move_tasks import MoveTasks

if TYPE_CHECKING:
    from bot.delivery_api import TargetApi
    from bot.engine_ledger import RedriveLedger
    from bot.feeders import FeederDirectory


class CliContext:
    """One command's context; the SQS gateway is made on first use (``--help`` needs none)."""

    def __init__(
        self,
        *,
        env: Mapping[str, str] | None,
        settings: EngineSettings,
        make_gateway: Callable[[], SqsGateway],
        out: TextIO,
        err: TextIO,
        now: Callable[[], datetime],
        make_feeders: Callable[[], FeederDirectory | None] = lambda: None,
        make_targets: Callable[[], TargetApi | None] = lambda: None,
        make_ledger: Callable[[], RedriveLedger | None] = lambda: None,
    ) -> None:
        self.env = env
        self.settings = settings
        self._make_gateway = make_gateway
        self._gateway: SqsGateway | None = None
        self.out, self.err, self.now = out, err, now
        self._make_feeders = make_feeders
        self._make_targets = make_targets
        self._make_ledger = make_ledger

    @property
    def gateway(self) -> SqsGateway:
        if self._gateway is None:
            self._gateway = self._make_gateway()
        return self._gateway

    @property
    def catalog(self) -> DlqCatalog:
        return DlqCatalog(self.gateway, self.settings, self._make_feeders())

    @property
    def targets(self) -> TargetApi | None:
        """Where messages of SNS subscriptions, EventBridge targets and Lambda functions go
        back (``bot.composition.delivery_targets``); None: SQS only."""
        return self._make_targets()

    @property
    def ledger(self) -> RedriveLedger | None:
        """The state table's redrive ledger when ``STATE_TABLE`` names one, so that MAX_REDRIVES
        holds for what travels without the counter (a function's payload, a message with no
        room for it) as in the Slack worker and the daily job; None: the counter, and what the run
        itself sent (``bot.engine_ledger.InRunLedger``)."""
        return self._make_ledger()

    @property
    def move_tasks(self) -> MoveTasks:
        return MoveTasks(self.gateway.client)
