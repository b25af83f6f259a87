"""``make demo``'s request form (infra/local/demo_modal.py) on moto: what it prints is what Slack
got from the real handlers (the modal opened, filled, counted, refused, submitted; the card and
its approval), every figure is the seeded one, and each view's Block Kit Builder link holds a
view Slack accepts."""

from __future__ import annotations

import json
import re
import urllib.parse
from typing import Any

import pytest
from slack_sdk.models.views import View

from infra.local.demo_modal import CHOSEN, NOTE, TENANTS, run_modal_demo
from infra.local.moto_server import LocalAws
from infra.local.scene import count


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
