"""The local Slack server refuses what real Slack refuses, so every test that posts through it
checks Block Kit's limits. Driven with slack_sdk's own clients over HTTP, as the app does."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from bot.slack.web import SlackGateway
from bot.slack.web_api import SlackError
from infra.local.slack_api import MAX_MESSAGE_BLOCK_TEXT, SlackApiServer, block_text_length
from infra.local.slack_events import LOCAL_TEAM


@pytest.fixture
def server() -> Iterator[SlackApiServer]:
    with SlackApiServer() as running:
        yield running


@pytest.fixture
def client(server: SlackApiServer) -> WebClient:
    return WebClient(token="xoxb-test", base_url=server.api_url)


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _refused(client: WebClient, **message: Any) -> str:
    with pytest.raises(SlackApiError) as refused:
        client.chat_postMessage(channel="C1", text="fallback", **message)
    return str(refused.value.response["error"])


def test_a_message_within_the_limits_is_posted_and_nothing_is_refused(
    server: SlackApiServer, client: WebClient
) -> None:
    # Given a message of 50 blocks, each within its limits
    blocks = [_section("x" * 200) for _ in range(50)]

    # When it is posted
    response = client.chat_postMessage(channel="C1", text="fallback", blocks=blocks)

    # Then Slack accepts it
    assert response["ok"] is True
    assert server.state.take_refusals() == []


@pytest.mark.parametrize(
    ("block", "why"),
    [
        (_section("x" * 3_001), "cannot exceed 3000"),
        ({"type": "no_such_block"}, "unknown type"),
        (_section(""), "must not be empty"),
        (
            {"type": "section", "fields": [{"type": "mrkdwn", "text": "x" * 2_001}]},
            "exceeds 2000",
        ),
        (
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "a",
                        "text": {"type": "plain_text", "text": "Go"},
                        "value": "v" * 2_001,
                    }
                ],
            },
            "value attribute cannot exceed 2000",
        ),
        ({"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}, "150"),
    ],
)
def test_a_block_slack_would_refuse_is_refused_as_invalid_blocks(
    server: SlackApiServer, client: WebClient, block: dict[str, Any], why: str
) -> None:
    # Given a message with one block beyond a documented limit (nested ones too)
    # When it is posted
    error = _refused(client, blocks=[_section("fine"), block])

    # Then Slack's error comes back, and the refusal is recorded with the reason
    assert error == "invalid_blocks"
    (refusal,) = server.state.take_refusals()
    assert refusal.method == "chat.postMessage" and refusal.refused == "invalid_blocks"
    assert refusal.problem is not None and why in refusal.problem


def test_more_than_fifty_blocks_are_refused(server: SlackApiServer, client: WebClient) -> None:
    assert _refused(client, blocks=[_section("x")] * 51) == "invalid_blocks"
    (refusal,) = server.state.take_refusals()
    assert refusal.problem == "51 blocks, at most 50 allowed"


def test_a_message_over_the_total_block_text_is_refused_as_too_long(
    server: SlackApiServer, client: WebClient
) -> None:
    # Given sections each within 3,000 characters, together exactly at the fake's total
    at_limit = [_section("x" * 2_750)] * 4
    assert block_text_length(at_limit) == MAX_MESSAGE_BLOCK_TEXT

    # When that message and one with a button label more are posted
    client.chat_postMessage(channel="C1", text="fallback", blocks=at_limit)
    button = {
        "type": "actions",
        "elements": [
            {"type": "button", "action_id": "a", "text": {"type": "plain_text", "text": "Go"}}
        ],
    }
    error = _refused(client, blocks=[*at_limit, button])

    # Then the first is posted and the second refused: button labels count as block text too
    assert error == "msg_blocks_too_long"
    (refusal,) = server.state.take_refusals()
    assert refusal.problem == "11,002 characters of block text, this fake allows 11,000"


def test_chat_update_and_ephemeral_messages_are_checked_too(
    server: SlackApiServer, client: WebClient
) -> None:
    with pytest.raises(SlackApiError, match="invalid_blocks"):
        client.chat_update(channel="C1", ts="1.2", text="t", blocks=[_section("x" * 3_001)])
    with pytest.raises(SlackApiError, match="invalid_blocks"):
        client.chat_postEphemeral(channel="C1", user="U1", text="t", blocks=[{"type": "bogus"}])
    assert [c.method for c in server.state.take_refusals()] == [
        "chat.update",
        "chat.postEphemeral",
    ]


def test_a_response_url_answer_slack_would_refuse_gets_http_400(server: SlackApiServer) -> None:
    # Given an answer through a response_url with a section over 3,000 characters
    webhook = WebhookClient(server.response_url("r1"))

    # When it is sent
    response = webhook.send(text="t", blocks=[_section("x" * 3_001)])

    # Then Slack answers like an incoming webhook: HTTP 400 and the error as plain text
    assert (response.status_code, response.body) == (400, "invalid_blocks")
    assert [c.method for c in server.state.take_refusals()] == ["response_url"]


def test_a_view_slack_would_refuse_is_refused(server: SlackApiServer, client: WebClient) -> None:
    # Given a modal with 101 blocks (Slack allows 100 in a modal)
    view = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Peek"},
        "blocks": [_section("x")] * 101,
    }

    # When it is opened
    with pytest.raises(SlackApiError) as refused:
        client.views_open(trigger_id="t1", view=view)

    # Then Slack's error for views comes back
    assert refused.value.response["error"] == "invalid_arguments"
    assert [c.method for c in server.state.take_refusals()] == ["views.open"]


def test_a_form_encoded_post_is_checked_like_a_json_one(
    server: SlackApiServer, client: WebClient
) -> None:
    # Given blocks sent form-encoded (as older clients and curl do)
    with pytest.raises(SlackApiError, match="invalid_blocks"):
        client.api_call(
            "chat.postMessage",
            data={"channel": "C1", "text": "t", "blocks": '[{"type": "bogus"}]'},
        )
    assert len(server.state.take_refusals()) == 1


# --- message metadata and reading a channel back ---------------------------------------------


def _tagged(part: str) -> dict[str, Any]:
    return {"event_type": "dlq_redrive_report", "event_payload": {"run": "r1", "part": part}}


def test_history_returns_top_level_messages_newest_first_with_metadata_only_when_asked(
    client: WebClient,
) -> None:
    # Given two tagged messages in a channel, and a reply in the first one's thread
    first = client.chat_postMessage(channel="C1", text="one", metadata=_tagged("report"))["ts"]
    second = client.chat_postMessage(channel="C1", text="two", metadata=_tagged("other"))["ts"]
    client.chat_postMessage(channel="C1", text="reply", thread_ts=first, metadata=_tagged("r.1"))

    # When the channel's history is read, with and without include_all_metadata
    plain = client.conversations_history(channel="C1")["messages"]
    full = client.conversations_history(channel="C1", include_all_metadata=True)["messages"]

    # Then both hold the two top-level messages, newest first (not the reply); only the second
    # carries the metadata
    assert [m["ts"] for m in plain] == [m["ts"] for m in full] == [second, first]
    assert all("metadata" not in m for m in plain)
    assert [m["metadata"] for m in full] == [_tagged("other"), _tagged("report")]


def test_history_takes_only_messages_after_oldest_and_pages_with_a_cursor(
    client: WebClient,
) -> None:
    # Given three messages
    stamps = [client.chat_postMessage(channel="C1", text=f"m{n}")["ts"] for n in range(3)]

    # When reading after the first one ("oldest" is exclusive unless "inclusive"), a page of one
    page = client.conversations_history(channel="C1", oldest=stamps[0], limit=1)
    rest = client.conversations_history(
        channel="C1", oldest=stamps[0], limit=1, cursor=page["response_metadata"]["next_cursor"]
    )
    inclusive = client.conversations_history(channel="C1", oldest=stamps[0], inclusive=True)

    # Then the newest comes first, the cursor gives the next, and the first is left out
    assert [m["ts"] for m in page["messages"]] == [stamps[2]] and page["has_more"] is True
    assert [m["ts"] for m in rest["messages"]] == [stamps[1]] and rest["has_more"] is False
    assert [m["ts"] for m in inclusive["messages"]] == stamps[::-1]


def test_replies_return_the_parent_then_its_replies_and_an_unknown_thread_is_refused(
    client: WebClient,
) -> None:
    parent = client.chat_postMessage(channel="C1", text="parent")["ts"]
    reply = client.chat_postMessage(channel="C1", text="r", thread_ts=parent, metadata=_tagged("a"))

    thread = client.conversations_replies(channel="C1", ts=parent, include_all_metadata=True)

    assert [m["ts"] for m in thread["messages"]] == [parent, reply["ts"]]
    assert thread["messages"][1]["metadata"] == _tagged("a")
    with pytest.raises(SlackApiError, match="thread_not_found"):
        client.conversations_replies(channel="C1", ts="1.000001")


def test_an_update_changes_the_text_and_keeps_metadata_it_does_not_replace(
    client: WebClient,
) -> None:
    ts = client.chat_postMessage(channel="C1", text="before", metadata=_tagged("report"))["ts"]

    client.chat_update(channel="C1", ts=ts, text="after")

    [message] = client.conversations_history(channel="C1", include_all_metadata=True)["messages"]
    assert (message["text"], message["metadata"]) == ("after", _tagged("report"))


def test_metadata_without_an_event_type_and_payload_is_refused(client: WebClient) -> None:
    with pytest.raises(SlackApiError, match="invalid_metadata_format"):
        client.chat_postMessage(channel="C1", text="t", metadata={"event_type": "x"})


def test_users_info_answers_as_slack_documents(server: SlackApiServer, client: WebClient) -> None:
    # Given a member, a guest and a Slack Connect user known to the workspace
    server.state.add_user("U_BOB")
    server.state.add_user("U_GUEST", is_restricted=True)
    server.state.add_user("U_EXT", team="T_OTHER")

    # When the app's gateway asks users.info about each, and about an unknown id
    gateway = SlackGateway(client)
    bob, guest, ext = (gateway.user_info(u) for u in ("U_BOB", "U_GUEST", "U_EXT"))

    # Then each comes back as Slack's user object, and an unknown id is user_not_found
    assert (bob["id"], bob["team_id"], bob["is_restricted"]) == ("U_BOB", LOCAL_TEAM, False)
    assert guest["is_restricted"] is True and ext["team_id"] == "T_OTHER"
    with pytest.raises(SlackError, match="user_not_found"):
        gateway.user_info("U_NOBODY")


def test_auth_test_names_the_local_workspace(client: WebClient) -> None:
    assert client.auth_test()["team_id"] == LOCAL_TEAM


def test_a_home_tab_is_published_with_its_hash_and_a_stale_hash_is_refused(
    server: SlackApiServer, client: WebClient
) -> None:
    # Given Alice's Home tab, published (views.publish answers the view, with id and hash)
    home = {"type": "home", "blocks": [_section("first")]}
    first = client.views_publish(user_id="U_ALICE", view=home)["view"]
    assert first["id"] and first["hash"] and first["type"] == "home"
    # When it is published again with that hash, it is replaced (same view, a new hash)
    second = client.views_publish(user_id="U_ALICE", view=home, hash=first["hash"])["view"]
    assert second["id"] == first["id"] and second["hash"] != first["hash"]
    # But a publish with the old hash is refused: the tab changed since
    with pytest.raises(SlackApiError) as stale:
        client.views_publish(user_id="U_ALICE", view=home, hash=first["hash"])
    assert stale.value.response["error"] == "hash_conflict"
    assert server.state.home.views["U_ALICE"]["hash"] == second["hash"]
