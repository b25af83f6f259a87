"""What a ``dlq-redrive`` command needs: settings, the SQS gateway, output streams and the clock.
Built by ``bot.composition.build_cli_context`` (the one place that makes clients)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TextIO

from bot.catalog import DlqCatalog
from bot.config import EngineSettings
from bot.sqs_gateway import SqsGateway
from bot.sqs_move_tasks import MoveTasks


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
    ) -> None:
        self.env = env
        self.settings = settings
        self._make_gateway = make_gateway
        self._gateway: SqsGateway | None = None
        self.out, self.err, self.now = out, err, now

    @property
    def gateway(self) -> SqsGateway:
        if self._gateway is None:
            self._gateway = self._make_gateway()
        return self._gateway

    @property
    def catalog(self) -> DlqCatalog:
        return DlqCatalog(self.gateway, self.settings)

    @property
    def move_tasks(self) -> MoveTasks:
        return MoveTasks(self.gateway.client)
