"""One contract for Slack, run against ``SlackGateway`` on the local Slack server
(infra/local/slack_api.py) and against ``FakeSlackGateway``: posting, updating, answering,
looking up people and groups, and refusing what Slack refuses behave the same in both, so the fake
cannot drift."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from bot.slack.web import SlackGateway, build_web_client
from bot.slack.web_api import SlackApi, SlackError
from infra.local.slack_api import TRIGGER_TTL_S, HomeTabs, SlackApiServer, ViewStore
from infra.local.slack_events import LOCAL_TEAM
from tests.unit.fake_slack import FakeSlackGateway


@dataclass
class Scene:
    """A Slack gateway, a ``response_url`` it may answer, and set-up of people and groups."""

    slack: SlackApi
    response_url: str
    add_user: Callable[..., Any]
    add_group: Callable[[str, list[str]], None]
    modals: ViewStore  # the open modals, and the triggers Slack handed out
    home: HomeTabs  # each person's Home tab as last published


@pytest.fixture(params=["slack", "fake"])
def scene(request: pytest.FixtureRequest) -> Iterator[Scene]:
    if request.param == "fake":
        fake = FakeSlackGateway()
        yield Scene(
            fake,
            "https://hooks.slack.test/response/r1",
            fake.add_user,
            fake.usergroups.__setitem__,
            fake.modals,
            fake.home,
        )
        return
    with SlackApiServer() as server:
        gateway = SlackGateway(build_web_client("xoxb-test", server.api_url))
        yield Scene(
            gateway,
            server.response_url(),
            server.state.add_user,
            server.state.usergroups.__setitem__,
            server.state.modals,
            server.state.home,
        )
        # Every refusal here was provoked on purpose; take them so none is left unnoticed.
        server.state.take_refusals()


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def test_a_posted_message_can_be_updated_by_its_ts(scene: Scene) -> None:
    ts = scene.slack.post("C1", {"text": "Redrive?", "blocks": [section("*Redrive?*")]})
    other = scene.slack.post("C1", {"text": "another"})
    assert ts and other and ts != other
    scene.slack.update("C1", ts, {"text": "Approved", "blocks": [section("*Approved*")]})


def test_more_than_50_blocks_are_refused_as_invalid_blocks(scene: Scene) -> None:
    with pytest.raises(SlackError) as refused:
        scene.slack.post("C1", {"text": "many", "blocks": [section("x")] * 51})
    assert "invalid_blocks" in str(refused.value)


def test_a_section_text_over_3000_characters_is_refused(scene: Scene) -> None:
    with pytest.raises(SlackError) as refused:
        scene.slack.update("C1", "1.000001", {"text": "t", "blocks": [section("x" * 3001)]})
    assert "invalid_blocks" in str(refused.value)


def test_too_much_block_text_in_one_message_is_refused(scene: Scene) -> None:
    blocks = [section("x" * 2_900) for _ in range(5)]  # each within limits, 14,500 together
    with pytest.raises(SlackError) as refused:
        scene.slack.post("C1", {"text": "long", "blocks": blocks})
    assert "msg_blocks_too_long" in str(refused.value)


def test_an_answer_through_the_response_url_is_sent_or_refused_like_a_webhook(
    scene: Scene,
) -> None:
    scene.slack.respond(scene.response_url, {"text": "Counting…", "blocks": [section("ok")]})
    with pytest.raises(SlackError) as refused:
        scene.slack.respond(scene.response_url, {"text": "x", "blocks": [section("")]})
    assert "HTTP 400" in str(refused.value)


def test_people_and_groups_are_looked_up_and_unknown_ones_are_refused(scene: Scene) -> None:
    scene.add_user("U_ALICE")
    scene.add_user("U_GUEST", is_restricted=True)
    scene.add_group("S_OPS", ["U_ALICE", "U_BOB"])
    alice = scene.slack.user_info("U_ALICE")
    assert (alice["id"], alice["team_id"], alice["is_restricted"]) == ("U_ALICE", LOCAL_TEAM, False)
    assert scene.slack.user_info("U_GUEST")["is_restricted"] is True
    assert scene.slack.usergroup_members("S_OPS") == ["U_ALICE", "U_BOB"]
    with pytest.raises(SlackError) as unknown:
        scene.slack.user_info("U_NOBODY")
    assert "user_not_found" in str(unknown.value)
    with pytest.raises(SlackError) as no_group:
        scene.slack.usergroup_members("S_NONE")
    assert "no_such_subteam" in str(no_group.value)


def test_history_reads_messages_with_metadata_and_a_thread_its_replies(scene: Scene) -> None:
    # Given a message with metadata, a reply in its thread, and a second message
    metadata = {"event_type": "dlq_redrive_report", "event_payload": {"run": "r", "part": "p"}}
    first = scene.slack.post("C9", {"text": "report", "metadata": metadata})
    reply = scene.slack.post("C9", {"text": "detail", "thread_ts": first})
    second = scene.slack.post("C9", {"text": "other"})

    # When the channel and the thread are read
    channel = scene.slack.history("C9", oldest="0")
    thread = scene.slack.history("C9", oldest="0", thread_ts=first)

    # Then the channel holds the top-level messages, newest first, with their metadata; the
    # thread its parent, then the reply
    assert [m["ts"] for m in channel.messages] == [second, first]
    assert channel.messages[1]["metadata"] == metadata and channel.next_cursor is None
    assert [m["ts"] for m in thread.messages] == [first, reply]
    # And messages from before ``oldest`` are left out
    assert scene.slack.history("C9", oldest=second).messages == []


def test_history_pages_with_a_cursor(scene: Scene) -> None:
    posted = [scene.slack.post("C8", {"text": f"m{n}"}) for n in range(3)]
    first = scene.slack.history("C8", oldest="0", limit=2)
    assert first.next_cursor and len(first.messages) == 2
    rest = scene.slack.history("C8", oldest="0", limit=2, cursor=first.next_cursor)
    assert [m["ts"] for m in [*first.messages, *rest.messages]] == posted[::-1]
    assert rest.next_cursor is None


def test_a_refusal_carries_slacks_error_code(scene: Scene) -> None:
    with pytest.raises(SlackError) as unknown:
        scene.slack.history("C_NONE", oldest="0")
    assert unknown.value.code == "channel_not_found"
    with pytest.raises(SlackError) as refused:
        scene.slack.post("C1", {"text": "many", "blocks": [section("x")] * 51})
    assert refused.value.code == "invalid_blocks"


# --- modals (views.open, views.update) --------------------------------------------------------


def modal(text: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Edit"},
        **extra,
        "blocks": [section(text)],
    }


def test_a_trigger_opens_one_modal_once_and_its_view_updates_by_id_and_hash(
    scene: Scene,
) -> None:
    trigger = scene.modals.new_trigger()
    opened = scene.slack.open_view(trigger, modal("Loading…"))
    assert opened.id and opened.hash
    with pytest.raises(SlackError) as again:
        scene.slack.open_view(trigger, modal("Loading…"))
    assert again.value.code == "exchanged_trigger_id"
    updated = scene.slack.update_view(opened.id, modal("Ready"), view_hash=opened.hash)
    assert updated.id == opened.id and updated.hash != opened.hash
    assert scene.modals.views[opened.id]["blocks"] == [section("Ready")]


def test_a_trigger_older_than_three_seconds_or_unknown_is_refused(scene: Scene) -> None:
    late = scene.modals.new_trigger()
    scene.modals.triggers[late] = (scene.modals.triggers[late] or 0.0) - TRIGGER_TTL_S - 0.5
    with pytest.raises(SlackError) as expired:
        scene.slack.open_view(late, modal("Loading…"))
    assert expired.value.code == "expired_trigger_id"
    with pytest.raises(SlackError) as unknown:
        scene.slack.open_view("1.2.3", modal("Loading…"))
    assert unknown.value.code == "invalid_trigger_id"


def test_an_update_with_a_stale_hash_or_of_no_view_is_refused(scene: Scene) -> None:
    opened = scene.slack.open_view(scene.modals.new_trigger(), modal("Loading…"))
    scene.slack.update_view(opened.id, modal("First"), view_hash=opened.hash)
    with pytest.raises(SlackError) as stale:
        scene.slack.update_view(opened.id, modal("Second"), view_hash=opened.hash)
    assert stale.value.code == "hash_conflict"
    with pytest.raises(SlackError) as missing:
        scene.slack.update_view("V0NOPE", modal("Third"))
    assert missing.value.code == "not_found"


def test_a_view_over_slack_s_limits_is_refused(scene: Scene) -> None:
    trigger = scene.modals.new_trigger()
    with pytest.raises(SlackError) as long_title:
        scene.slack.open_view(
            trigger, {**modal("x"), "title": {"type": "plain_text", "text": "x" * 25}}
        )
    assert long_title.value.code == "invalid_arguments"
    with pytest.raises(SlackError) as big_metadata:
        scene.slack.open_view(trigger, modal("x", private_metadata="m" * 3_001))
    assert big_metadata.value.code == "invalid_arguments"


# --- the Home tab (views.publish) --------------------------------------------------------------


def home(*texts: str) -> dict[str, Any]:
    return {"type": "home", "blocks": [section(t) for t in texts]}


def test_a_published_home_view_is_each_persons_own_and_replaced_by_the_next(
    scene: Scene,
) -> None:
    scene.slack.publish_view("U_ALICE", home("first"))
    scene.slack.publish_view("U_BOB", home("bob's"))
    scene.slack.publish_view("U_ALICE", home("second"))
    assert scene.home.views["U_ALICE"]["blocks"] == [section("second")]
    assert scene.home.views["U_BOB"]["blocks"] == [section("bob's")]
    assert scene.home.views["U_ALICE"]["type"] == "home"


def test_a_home_view_over_slacks_limits_or_not_a_home_view_is_refused(scene: Scene) -> None:
    for view in (home(*["x"] * 101), modal("a modal is opened, not published")):
        with pytest.raises(SlackError) as refused:
            scene.slack.publish_view("U_ALICE", view)
        assert refused.value.code == "invalid_arguments"
    # 100 sections within their 3,000 characters each, but over 250 kB in all
    with pytest.raises(SlackError) as too_large:
        scene.slack.publish_view("U_ALICE", home(*["y" * 2_600] * 100))
    assert too_large.value.code == "view_too_large"
    assert "U_ALICE" not in scene.home.views


def test_a_home_view_is_refused_when_the_app_has_no_home_tab(scene: Scene) -> None:
    scene.home.enabled = False
    with pytest.raises(SlackError) as refused:
        scene.slack.publish_view("U_ALICE", home("hello"))
    assert refused.value.code == "not_enabled"
