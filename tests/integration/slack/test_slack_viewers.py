"""Who may read message bodies, through the real handlers: signed requests into the endpoint,
the worker on the local Lambda endpoint, users.info and user groups on the local Slack server.

Everyone here is in the allowed channel. Bodies hold personal data, so only approvers and
VIEWERS who are full members of the installed workspace see them: not a guest, not a Slack
Connect user of another organisation (a member who is neither: test_slack_peek_viewers.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from bot.slack import viewers
from bot.slack.ids import ActionId
from infra.local.moto_server import LocalAws
from infra.local.scene import count, create_pair, put_in_dlq
from tests.integration.slack.slack_harness import APPROVER, SlackHarness, make_harness

GUEST = "U_GUEST"
CONNECT = "U_CONNECT"  # a Slack Connect user: another organisation's account
STRANGER = "U_STRANGER"
VERA = "U_VERA"  # a viewer through the user group S_READERS
BODY = "PERSONAL-DATA-4711"


@pytest.fixture
def viewers_harness(
    aws: LocalAws, slack_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[SlackHarness]:
    env = {**slack_env, "VIEWERS": f"{GUEST},{CONNECT},{STRANGER},S_READERS"}
    for harness in make_harness(aws, env, monkeypatch):
        harness.slack.state.add_user(GUEST, is_restricted=True)
        harness.slack.state.add_user(CONNECT, team="T_PARTNER")
        harness.slack.state.add_user(STRANGER, team="T_PARTNER", is_stranger=True)
        harness.slack.state.add_user(VERA)
        harness.slack.state.usergroups["S_READERS"] = [VERA]
        yield harness


def _seed(harness: SlackHarness) -> str:
    pair = create_pair(harness.sqs, "orders")
    put_in_dlq(harness.sqs, pair, [json.dumps({"customer": f"{BODY}-{i}"}) for i in range(3)])
    return pair.dlq_url


def _slack_saw_a_body(harness: SlackHarness) -> bool:
    return BODY in json.dumps([call.body for call in harness.slack.state.calls])


@pytest.mark.parametrize(
    ("user", "refusal"),
    [
        (GUEST, viewers.GUEST),
        (CONNECT, viewers.OTHER_WORKSPACE),
        (STRANGER, viewers.OTHER_WORKSPACE),
    ],
)
def test_a_peek_by_someone_who_may_not_read_bodies_shows_none(
    viewers_harness: SlackHarness, user: str, refusal: str
) -> None:
    # Given a DLQ whose messages hold personal data
    dlq = _seed(viewers_harness)

    # When they peek with the slash command and with the daily report's Peek button, in the
    # allowed channel and (as far as the request says) from the installed workspace
    viewers_harness.command("peek orders-dlq 3", user=user)
    viewers_harness.click(
        ActionId.REPORT_PEEK, '{"queue": "orders-dlq"}', user=user, message_ts="1.1"
    )
    viewers_harness.settle()

    # Then each is refused with the reason, and no body reached Slack in any call
    answers = viewers_harness.responses()
    assert len(answers) == 2 and all(refusal in answer for answer in answers)
    assert not _slack_saw_a_body(viewers_harness)
    assert count(viewers_harness.sqs, dlq) == 3


@pytest.mark.parametrize("user", [APPROVER, VERA])
def test_an_approver_or_a_viewer_of_the_workspace_reads_bodies(
    viewers_harness: SlackHarness, user: str
) -> None:
    _seed(viewers_harness)

    viewers_harness.command("peek orders-dlq 3", user=user)
    viewers_harness.settle()

    assert _slack_saw_a_body(viewers_harness)
    looked_up = [c.body.get("user") for c in viewers_harness.calls("users.info")]
    assert looked_up == [user]


def test_when_slack_cannot_say_who_someone_is_no_body_is_shown(
    viewers_harness: SlackHarness,
) -> None:
    # Given users.info failing (Slack down for this call)
    _seed(viewers_harness)
    viewers_harness.slack.state.refuse("users.info", "internal_error")

    viewers_harness.command("peek orders-dlq 3", user=APPROVER)
    viewers_harness.settle()

    assert viewers.UNCHECKED in viewers_harness.responses()[-1]
    assert not _slack_saw_a_body(viewers_harness)
