"""``make demo``'s Slack surfaces beyond the channel: the request form that ``/dlq-redrive`` with no
arguments opens, and the App Home tab once the 06:00 report ran. Played through the real Lambda
handlers against the local Slack server and moto, printed as Slack shows them, each view with a
Block Kit Builder link.

``run_modal_demo(aws_env)`` expects moto to be running (``aws_env`` points boto3 at it). It adds an
``invoices`` queue whose DLQ holds invoices of two tenants, then Alice types ``/dlq-redrive``: the
loading modal opens at once (views.open on the ack path), the worker fills the form in
(views.update); she picks the DLQ (the live count), switches to selecting by a body field,
submits a condition without its ``=`` (refused on that field: ``response_action: errors``),
corrects it and counts again, and submits with a note: the approval card is posted in #ops with
it, Bob approves, and exactly the counted invoices go back to their queue. What moved is read
back from SQS and checked against what was seeded.

``run_home_after_report(aws_env)``, after infra/local/demo_daily.py: Bob opens his Home tab again,
now with each DLQ's trend (the report's snapshots) and the figures and top error groups of the
report's scan, and clicks Redrive… of invoices-dlq: the request form opens with it chosen and
counted. (The Home tab before any report is in infra/local/demo_slack.py.)

Run alone: ``python -m infra.local.demo_surfaces`` (the request form) on a fresh moto.
"""

from __future__ import annotations

import json
import time
from typing import Any

from bot.slack.ids import ActionId
from bot.slack.request_form import (
    COUNT_BLOCK,
    REQUEST_FIELD_NOTE,
    REQUEST_FIELD_QUEUE,
    REQUEST_FIELD_SELECTION,
    REQUEST_FIELD_WHERE,
)
from infra.local.demo_slack import (
    ALICE,
    BOB,
    BOLD,
    DIM,
    NAMES,
    RESET,
    Conversation,
    slack_session,
    view_lines,
)
from infra.local.moto_server import client_for
from infra.local.scene import QueuePair, count, create_pair, drain, put_in_dlq
from infra.local.slack_events import (
    view_action_body,
    view_input_body,
    view_state,
    view_submission_body,
)

# What the demo seeds in invoices-dlq: the invoices of each tenant whose consumer failed them.
TENANTS = {"acme": 4, "globex": 3}
CHOSEN = "acme"  # the tenant whose invoices Alice sends back
NOTE = "tax-api 4.2 fixed the VAT lookup for acme (INC-2211)"


def seed_invoices(sqs: Any) -> QueuePair:
    """``invoices`` and its DLQ with TENANTS' invoices in it, as a failing consumer leaves them."""
    pair = create_pair(sqs, "invoices")
    number = 1000
    for tenant, how_many in TENANTS.items():
        bodies = []
        for _ in range(how_many):
            number += 1
            bodies.append(json.dumps({"invoice": f"inv-{number}", "tenant": tenant}))
        put_in_dlq(sqs, pair, bodies)
    return pair


class ModalConversation:
    """Alice's request modal: what she changes in it, as Slack sends it to the app."""

    def __init__(self, talk: Conversation) -> None:
        self.talk = talk

    def modal(self) -> dict[str, Any]:
        """The one modal open, as Slack keeps it now (with its id and hash)."""
        (view,) = self.talk.slack.state.modals.views.values()
        return dict(view)

    def change(self, what: str, block_id: str, value: str) -> None:
        """Alice changes an input that dispatches (a select, a radio button)."""
        print(f"\n{BOLD}{NAMES[ALICE]} {what} in the modal{RESET}")
        view = self.modal()
        view["state"] = view_state(view, {block_id: value})
        self._ack(self.talk.send(view_input_body(view, block_id, user=ALICE)))

    def count(self, what: str, changes: dict[str, str]) -> None:
        """Alice fills in ``changes`` and clicks Count."""
        view = self.modal()
        (button,) = [b["accessory"] for b in view["blocks"] if b.get("block_id") == COUNT_BLOCK]
        print(f"\n{BOLD}{NAMES[ALICE]} {what} and clicks [{button['text']['text']}]{RESET}")
        view["state"] = view_state(view, changes)
        click = {**button, "block_id": COUNT_BLOCK, "action_ts": f"{time.time():.6f}"}
        body = view_action_body(button["action_id"], "", user=ALICE, view=view, action=click)
        self._ack(self.talk.send(body))

    def submit(self, what: str, changes: dict[str, str]) -> dict[str, Any]:
        """Alice fills in ``changes`` and submits; the answer Slack got (response_action)."""
        view = self.modal()
        print(f"\n{BOLD}{NAMES[ALICE]} {what} and clicks [{view['submit']['text']}]{RESET}")
        values = view_state(view, changes)["values"]
        response = self.talk.send(view_submission_body(view, values, user=ALICE))
        answer: dict[str, Any] = json.loads(response["body"]) if response.get("body") else {}
        print(f"{DIM}    HTTP {response['statusCode']} (the ack){RESET}")
        labels = {b.get("block_id"): b.get("label", {}).get("text") for b in view["blocks"]}
        if answer.get("response_action") == "errors":
            print(f"    {BOLD}[response_action: errors → the modal stays open]{RESET}")
            for block_id, problem in answer["errors"].items():
                print(f"    under “{labels.get(block_id, block_id)}”: {problem}")
        elif answer.get("response_action") == "update":
            print(f"    {BOLD}[response_action: update → the modal shows]{RESET}")
            print("\n".join("    " + line for line in view_lines(answer["view"])))
        self.talk.show()
        return answer

    def _ack(self, response: dict[str, Any]) -> None:
        print(f"{DIM}    HTTP {response['statusCode']} (the ack){RESET}")
        self.talk.show()


def _tenants(messages: list[dict[str, Any]]) -> dict[str, int]:
    found: dict[str, int] = {}
    for message in messages:
        tenant = json.loads(message["Body"])["tenant"]
        found[tenant] = found.get(tenant, 0) + 1
    return found


def run_modal_demo(aws_env: dict[str, str]) -> None:
    """Play the request form on an ``invoices`` DLQ; print what Slack got and what moved.
    RuntimeError when what moved is not what was counted (the demo then fails)."""
    print(f"\n{BOLD}== The request form: /dlq-redrive with no arguments =={RESET}")
    sqs = client_for("sqs", aws_env)
    invoices = seed_invoices(sqs)
    total, chosen = sum(TENANTS.values()), TENANTS[CHOSEN]
    seeded = ", ".join(f"{n} of tenant {tenant}" for tenant, n in TENANTS.items())
    print(f"Scene: invoices -> invoices-dlq ({total} failed: {seeded}).")
    with slack_session(aws_env) as talk:
        alice = ModalConversation(talk)
        talk.command(ALICE, "")
        alice.change("picks invoices-dlq", REQUEST_FIELD_QUEUE, invoices.dlq_name)
        alice.change("chooses “Body fields or attributes”", REQUEST_FIELD_SELECTION, "field")
        typo = f"tenant {CHOSEN}"
        alice.submit(f"types the condition “{typo}” (no =)", {REQUEST_FIELD_WHERE: typo})
        condition = f"tenant={CHOSEN}"
        alice.count(f"corrects it to “{condition}”", {REQUEST_FIELD_WHERE: condition})
        alice.submit("adds a note", {REQUEST_FIELD_WHERE: condition, REQUEST_FIELD_NOTE: NOTE})
        request_id, ts = talk.card()
        talk.click(BOB, ActionId.APPROVE, request_id, ts)
    print(f"\n{BOLD}What moved{RESET}")
    left = count(sqs, invoices.dlq_url)
    back = _tenants(drain(sqs, invoices.source_url))
    print(
        f"    invoices' consumer (fixed) receives {sum(back.values())} invoice(s): "
        + ", ".join(f"{n} of tenant {tenant}" for tenant, n in sorted(back.items()))
    )
    print(f"    invoices-dlq keeps {left} (seeded {total}, less the {chosen} of {CHOSEN}).")
    if back != {CHOSEN: chosen} or left != total - chosen:
        raise RuntimeError(f"the request form moved {back}, left {left}: not what was counted")


def run_home_after_report(aws_env: dict[str, str]) -> None:
    """Bob's Home tab once the daily report ran (its snapshots and scan facts are in the state
    table the Slack app reads)."""
    print(
        f"\n{BOLD}== The App Home tab after the 06:00 report: trends, the scan's figures =={RESET}"
    )
    with slack_session(aws_env) as talk:
        talk.open_home(BOB)
        # Redrive… opens the request form with that DLQ chosen and counted at once.
        talk.home_click(BOB, "Redrive…", ActionId.HOME_REDRIVE, "invoices-dlq")


def main() -> None:
    """A fresh moto, then the demo."""
    from infra.local.moto_server import local_aws

    with local_aws() as aws:
        run_modal_demo(dict(aws.env))


if __name__ == "__main__":
    main()
