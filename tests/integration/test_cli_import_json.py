"""``dlq-redrive --json import --dry-run`` on moto: the JSON says nothing was sent and how many
would be, as redrive's dry run reports ``moved`` 0 and the count that would move."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from infra.local.scene import count
from tests.integration.cli_helpers import run_cli

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


def _archive(path: Path, bodies: list[str]) -> Path:
    lines = [
        json.dumps({"format": "dlq-redrive/1", "message_id": f"m{n}", "body": body, "dlq": "d"})
        for n, body in enumerate(bodies)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_dry_run_import_reports_sent_0_and_would_send_n(
    sqs: SQSClient, engine_env: dict[str, str], tmp_path: Path
) -> None:
    # Given an archive of 4 records and an empty queue
    archive = _archive(tmp_path / "a.jsonl", [json.dumps({"n": n}) for n in range(4)])
    replay = sqs.create_queue(QueueName="replay")["QueueUrl"]

    # When it is imported as a dry run with --json
    dry = run_cli(["--json", "import", str(archive), "--to", "replay", "--dry-run"], engine_env)

    # Then nothing was sent and the JSON says so; the count is what would be sent
    assert dry.code == 0, dry.err
    assert count(sqs, replay) == 0
    assert dry.json["dry_run"] is True
    assert (dry.json["read"], dry.json["sent"], dry.json["would_send"]) == (4, 0, 4)


def test_a_real_import_reports_sent_n_and_would_send_0(
    sqs: SQSClient, engine_env: dict[str, str], tmp_path: Path
) -> None:
    archive = _archive(tmp_path / "a.jsonl", ["x", "y"])
    replay = sqs.create_queue(QueueName="replay")["QueueUrl"]

    real = run_cli(["--json", "import", str(archive), "--to", "replay"], engine_env)

    assert real.code == 0, real.err
    assert count(sqs, replay) == 2
    assert real.json["dry_run"] is False
    assert (real.json["sent"], real.json["would_send"]) == (2, 0)
