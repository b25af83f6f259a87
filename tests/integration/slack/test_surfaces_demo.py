"""``make demo``'s Slack surfaces (infra/local/demo_surfaces.py) on moto: what they print is what
Slack got from the real handlers (the request form opened, filled, counted, refused, submitted;
the card and its approval; the Home tab after the daily report), every figure is the seeded one,
and each view's Block Kit Builder link holds a view Slack accepts."""

from __future__ import annotations

import io
import json
import re
import urllib.parse
from datetime import date
from typing import Any

import pytest
from slack_sdk.models.views import View

from bot.daily.snapshots import SnapshotStore
from bot.state_table import StateTable
from infra.local.demo_daily import run_daily_demo
from infra.local.demo_slack import TABLE
from infra.local.demo_surfaces import (
    CHOSEN,
    NOTE,
    TENANTS,
    run_home_after_report,
    run_modal_demo,
    seed_invoices,
)
from infra.local.moto_server import LocalAws, client_for
from infra.local.scene import count, create_pair, put_in_dlq


def _builder_views(text: str) -> list[dict[str, Any]]:
    """The JSON of every Block Kit Builder link printed, in order."""
    links = re.findall(r"See it rendered \(Block Kit Builder\): (\S+)", text)
    return [json.loads(urllib.parse.unquote(link.split("#", 1)[1])) for link in links]


def test_the_modal_demo_shows_the_form_through_to_what_moved(
    aws: LocalAws, sqs: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a fresh moto, and the invoices the demo seeds (two tenants)
    total, chosen = sum(TENANTS.values()), TENANTS[CHOSEN]

    # When the request form's part of the demo plays
    run_modal_demo(dict(aws.env))
    text = capsys.readouterr().out

    # Then /dlq-redrive with no arguments opened the loading modal, which the worker filled
    opened = text.split("[Slack views.open → a modal opened]", 1)[1]
    assert opened.index("Reading the watched DLQs") < opened.index("[Slack views.update")
    assert "Post the approval card in: [ #ops ▾ ]" in opened
    # And the live counts are the seeded figures: every invoice, then the chosen tenant's
    assert f"`all messages`: *{total}* message(s) match; *{total}* would move." in text
    assert f"*{chosen}* message(s) match; *{chosen}* would move." in text
    assert f"Of {total} checked, {chosen} match; {total - chosen} are outside" in text
    # And the condition without its = was refused on its own field, the modal kept open
    refused = text.split("[response_action: errors → the modal stays open]", 1)[1]
    assert refused.lstrip().startswith("under “Conditions, one a line")
    assert f"'tenant {CHOSEN}' is not PATH=VALUE" in refused.splitlines()[1]
    # And the valid one posted the card in #ops with the note, which Bob approved
    assert "[response_action: update → the modal shows]" in text
    card = text.split("[Slack chat.postMessage → #ops]", 1)[1]
    assert f"— {chosen} message(s) from `invoices-dlq`" in card.splitlines()[1]
    assert f":memo: *Note* from @alice: {NOTE}" in card
    assert "is posted in #ops." in card
    assert f"Done: moved *{chosen}*, failed *0*, skipped {total - chosen}" in text
    # And what it says moved, moved: only the chosen tenant's invoices left the DLQ
    assert f"receives {chosen} invoice(s): {chosen} of tenant {CHOSEN}" in text
    assert f"invoices-dlq keeps {total - chosen} " in text
    dlq = sqs.get_queue_url(QueueName="invoices-dlq")["QueueUrl"]
    assert count(sqs, dlq) == total - chosen
    # And every view printed has a Builder link holding a modal Slack's view model accepts:
    # loading, form, two counts, the selection's fields, the submitted one, the outcome
    views = _builder_views(text)
    assert len(views) == 7
    for view in views:
        assert view["type"] == "modal"
        View(**view).validate_json()
    assert "worker error" not in text


def test_the_home_tab_after_the_report_shows_its_snapshots_and_its_scan(
    aws: LocalAws, sqs: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given orders-dlq with 3 failed orders (error PaymentTimeout), and the 06:00 report's
    # step run on it (its made-up week of snapshots, its scan, its auto-redrive of orders-dlq)
    orders = create_pair(sqs, "orders")
    error = {"error": {"DataType": "String", "StringValue": "PaymentTimeout"}}
    put_in_dlq(sqs, orders, [json.dumps({"order": n}) for n in range(3)], attributes=error)
    # and invoices-dlq with the invoices the request form's step seeds
    seed_invoices(sqs)
    run_daily_demo(dict(aws.env), out=io.StringIO())

    # When Bob opens his Home tab
    run_home_after_report(dict(aws.env, TIMEZONE="UTC"))
    text = capsys.readouterr().out

    # Then orders-dlq's trend is the snapshots stored, day by day (a week at most)
    home = text.split("[Slack views.publish → Home tab of @bob]", 1)[1]
    section = home.split("*`orders-dlq`* (sqs)", 1)[1].split("[ Peek ]", 1)[0]
    trend = next(line for line in section.splitlines() if "`" in line and " · " in line)
    shown = re.findall(r"(\d{1,2} [A-Z][a-z]{2}) (?:about )?(\d+)", trend)
    table = StateTable(TABLE, client_for("dynamodb", aws.env))
    stored = SnapshotStore(table).history("orders-dlq", date(2000, 1, 1), date(2100, 1, 1))
    truth = {f"{day.day} {day:%b}": str(s.depth) for day, s in stored.items()}
    assert 5 <= len(shown) <= 7
    assert all(truth[day] == depth for day, depth in shown)
    # And the scan's figures are the 3 seeded, read in full, with their error group
    assert "scan (read all 3): 3 message(s)" in section
    assert "Top errors: `PaymentTimeout` ×3" in section
    # And after the auto-redrive SQS counts none left
    assert "Depth *about 0*" in section and count(sqs, orders.dlq_url) == 0
    # And Redrive… of invoices-dlq opened the request form with it chosen, counted exactly
    total = sum(TENANTS.values())
    form = text.split("clicks [Redrive…] for invoices-dlq on the Home tab", 1)[1]
    assert "[Slack views.open → a modal opened]" in form
    assert f"DLQ: [ invoices-dlq (about {total}) ▾ ]" in form
    assert "Post the approval card in: [ #ops ▾ ]" in form  # REPORT_CHANNEL: no channel here
    assert f"`all messages`: *{total}* message(s) match; *{total}* would move." in form
    # And each view printed (the tab, the modal loading, counting, counted) is one Slack takes
    views = _builder_views(home)
    assert [view["type"] for view in views] == ["home", "modal", "modal", "modal"]
    for view in views:
        View(**view).validate_json()
