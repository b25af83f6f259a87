"""The App Home tab played through the real endpoint, as Slack plays it: ``app_home_opened``
delivered by the Events API (its retries signed anew, with Slack's retry headers), clicks in the
tab, and the tab the local Slack server keeps, checked as Slack checks it. Shared by the Home
tab's integration, fault and hostile tests."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.views import View

from bot.slack.home_view import MAX_HOME_BLOCKS
from bot.slack.ids import ActionId
from infra.local.slack_events import (
    event_callback_body,
    home_opened,
    http_event,
    view_action_body,
)
from tests.integration.slack.slack_harness import REQUESTER, SECRET, SlackHarness

JSON = "application/json"  # the Events API's content type (interactivity posts a form)
HOME_VIEW = {"id": "VHOME1", "type": "home", "blocks": []}  # the tab the click was made in


def retry_headers(retry: int | None) -> dict[str, str] | None:
    """The headers of Slack's ``retry``th redelivery of an event (None: the first delivery)."""
    if retry is None:
        return None
    return {"x-slack-retry-num": str(retry), "x-slack-retry-reason": "http_timeout"}


def open_home(
    harness: SlackHarness,
    user: str = REQUESTER,
    *,
    event_id: str = "Ev0001",
    tab: str = "home",
    team: str | None = None,
    retry: int | None = None,
    **signing: Any,
) -> dict[str, Any]:
    """Deliver ``app_home_opened`` as the Events API does (``retry``: Slack's retry number)."""
    extra = {} if team is None else {"team": team}
    body = event_callback_body(home_opened(user, tab=tab), event_id=event_id, **extra)
    # Each retry is signed anew (its own timestamp), as Slack does.
    headers = retry_headers(retry)
    return harness.send(http_event(body, SECRET, content_type=JSON, headers=headers, **signing))


def home_click(
    harness: SlackHarness, action: ActionId, value: str = "", *, user: str = REQUESTER
) -> tuple[dict[str, Any], str]:
    """Click ``action`` in the Home tab with a trigger Slack handed out; the ack and the trigger."""
    trigger = harness.slack.state.modals.new_trigger()
    body = view_action_body(str(action), value, user=user, view=HOME_VIEW, trigger_id=trigger)
    return harness.send(http_event(body, SECRET)), trigger


def published(harness: SlackHarness, user: str = REQUESTER) -> dict[str, Any]:
    """``user``'s Home tab as the local Slack server keeps it, checked as Slack checks it."""
    view = harness.slack.state.home.views[user]
    View(type="home", blocks=view["blocks"]).validate_json()
    assert len(view["blocks"]) <= MAX_HOME_BLOCKS
    return view
