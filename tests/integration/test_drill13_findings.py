"""What issue 13's drill (``infra/local/incident_drill_kinds.py``, LocalStack at full size) found,
at small scale on moto and the local Lambda server.

A dry run looks up each destination queue, so a subscription whose queue is gone shows its
messages as failed (QueueDoesNotExist), never as "would move". The same dry run counted every
message of a function's subscription as "would move" though the function did not exist; the
real run then failed each with ResourceNotFoundException. A dry run now asks Lambda once per
function (Invoke DryRun) and counts what the real run would meet.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest

from bot.catalog import DlqCatalog
from bot.composition import delivery_targets, feeder_directory
from bot.config import EngineSettings
from bot.engine import RedriveEngine
from bot.redrive_model import RedriveReport, RedriveRequest
from bot.sqs_gateway import SqsGateway
from infra.local.kinds_scene import KindsBuilder
from infra.local.lambda_server import LambdaServer, function_arn
from tests.unit.fake_ledger import MemoryLedger
from tests.unit.kind_messages import sns_envelope

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

    from infra.local.moto_server import LocalAws


class Scene(KindsBuilder):
    """Topic ``orders``: function ``notifier`` (registered) and function ``ghost`` (never
    deployed) subscribed, each dead-lettering into its own DLQ, three messages in each."""

    def __init__(self, sqs: SQSClient, lambdas: LambdaServer) -> None:
        super().__init__(sqs, lambdas)
        self.queues("notifier-dlq", "ghost-dlq")
        self.topic = self.create_topic("orders")
        self.subscribe_to(self.topic, "lambda", function_arn("notifier"), "notifier-dlq")
        self.subscribe_to(self.topic, "lambda", function_arn("ghost"), "ghost-dlq")
        self.function("notifier")
        for dlq in ("notifier-dlq", "ghost-dlq"):
            self.seed(
                dlq,
                *(sns_envelope(json.dumps({"n": n}), topic_arn=self.topic) for n in range(3)),
            )
        self.settings = EngineSettings.from_env({"DLQ_QUEUES": "*", "TIMEZONE": "UTC"})

    def redrive(self, name: str, **options: Any) -> RedriveReport:
        engine = RedriveEngine(
            SqsGateway(),
            max_redrives=3,
            timezone=ZoneInfo("UTC"),
            ledger=MemoryLedger(),
            targets=delivery_targets(self.settings),
        )
        catalog = DlqCatalog(SqsGateway(), self.settings, feeder_directory(self.settings))
        request = RedriveRequest(**{"confirm_empty_wait_s": 0, "workers": 2, **options})
        report = engine.run(catalog.get(name), request)
        self.lambdas.wait_idle()
        return report


@pytest.fixture
def scene(aws: LocalAws, sqs: SQSClient, lambdas: LambdaServer) -> Scene:
    return Scene(sqs, lambdas)


def test_a_dry_run_does_not_count_copies_for_a_function_that_does_not_exist(
    scene: Scene,
) -> None:
    # When the engineer dry-runs the DLQ of a subscription whose function was never deployed
    dry = scene.redrive("ghost-dlq", dry_run=True)

    # Then nothing would move: each message fails as the real run's invoke would
    assert dry.destined == 0
    assert dict(dry.failure_reasons) == {"ResourceNotFoundException": 3}
    # and the real run agrees with it
    real = scene.redrive("ghost-dlq")
    assert real.moved == 0
    assert dict(real.failure_reasons) == dict(dry.failure_reasons)
    assert scene.left("ghost-dlq") == 3


def test_a_dry_run_to_a_function_that_exists_runs_nothing(scene: Scene) -> None:
    # When the engineer dry-runs the DLQ of a subscription whose function exists
    dry = scene.redrive("notifier-dlq", dry_run=True)

    # Then all three would move, and the function was asked about, never run
    assert dry.destined == 3
    assert dry.failed == 0
    assert scene.lambdas.calls_to("notifier") == []
    assert scene.left("notifier-dlq") == 3
