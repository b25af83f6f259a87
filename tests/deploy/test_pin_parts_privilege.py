"""A pin stored in parts (bot.state_model) stays within the roles, as the template grants them:
the worker writes the parts and the request under the request's own partition key (REQUEST#*,
its dynamodb:LeadingKeys) and reads them with one Query; the on-failure function, which reads
the request to update its card, may read them too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.selection import pin_digest
from bot.state import StateStore
from bot.state_model import ApprovalRequest
from tests.deploy.test_issue11_privilege_attacks import RoleTable
from tests.deploy.test_template import Template
from tests.unit.fake_state_table import FakeStateTable

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
REQUEST_ID = "20261201-115900-abcdef"


def test_the_worker_stores_and_reads_a_pin_in_parts_and_failed_reads_it(
    template: Template,
) -> None:
    # Given the worker's role storing a request pinned to 7 ids, 2 an item (3 parts)
    fake = FakeStateTable()
    worker_table = RoleTable.of(template, "handlers/worker.handler", fake)
    worker = StateStore(worker_table, pin_part_digests=2)  # type: ignore[arg-type]
    digests = frozenset(pin_digest(f"m-{i}") for i in range(7))
    worker.put_request(
        ApprovalRequest(
            request_id=REQUEST_ID,
            dlq="orders-dlq",
            selection={},
            selection_text="all messages",
            matched=7,
            requester="U_ALICE",
            channel="C_OPS",
            requested_at=NOW,
            approval_expires_at=NOW + timedelta(hours=1),
            pin_sent_before=NOW,
            pin_digests=digests,
        )
    )
    assert len([k for k in fake.items if k[1].startswith("PIN#")]) == 3

    # Then the worker reads it whole, and so does the on-failure function, nothing denied
    stored = worker.get_request(REQUEST_ID)
    assert stored is not None and stored.pin_digests == digests
    failed_table = RoleTable.of(template, "handlers/failed.handler", fake)
    failed = StateStore(failed_table)  # type: ignore[arg-type]
    read = failed.get_request(REQUEST_ID)
    assert read is not None and read.pin_digests == digests
    assert worker_table.denied == [] and failed_table.denied == []
