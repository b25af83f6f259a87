"""The Slack app manifest (infra/slack-manifest.yml) matches what the stack serves, asks only for
the scopes the code's Slack calls need, and follows the rules of Slack's app manifest schema.

Slack's schema (slackapi/manifest-schema) is published in a repository only, in no package: its
rules for the keys this manifest uses are written out in slack_manifest_rules.json beside this
file, each citing the definition it comes from, and checked with jsonschema (Draft 7, as Slack's).
"""

from __future__ import annotations

import ast
import copy
import json
from typing import Any

import jsonschema
import pytest
import yaml

from tests.deploy.test_template import Template, resources
from tests.deploy.tooling import ROOT

PLACEHOLDER = "https://REQUEST_URL.execute-api.REGION.amazonaws.com/slack/events"
MANIFEST = ROOT / "infra" / "slack-manifest.yml"
RULES = ROOT / "tests" / "deploy" / "slack_manifest_rules.json"


def manifest() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    return loaded


def manifest_rules() -> jsonschema.Draft7Validator:
    rules = json.loads(RULES.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(rules)
    return jsonschema.Draft7Validator(rules)


def test_the_slash_command_interactivity_and_events_share_the_one_request_url() -> None:
    data = manifest()
    (command,) = data["features"]["slash_commands"]
    assert command["command"] == "/dlq-redrive"
    assert data["settings"]["interactivity"]["is_enabled"] is True
    # The single thing to fill in: the same URL in the three places, and nothing else to edit.
    assert (
        command["url"]
        == data["settings"]["interactivity"]["request_url"]
        == data["settings"]["event_subscriptions"]["request_url"]
        == PLACEHOLDER
    )
    text = MANIFEST.read_text(encoding="utf-8")
    assert text.count("REQUEST_URL") == 4  # the three URLs and the comment explaining them


def test_the_home_tab_is_on_and_opening_it_is_the_one_event() -> None:
    data = manifest()
    # The dashboard is the Home tab (views.publish); a closed modal's answer goes to the
    # Messages tab (chat.postMessage to the user's id), where nobody is asked to write
    assert data["features"]["app_home"] == {
        "home_tab_enabled": True,
        "messages_tab_enabled": True,
        "messages_tab_read_only_enabled": True,
    }
    # The Events API sends app_home_opened alone ("Your Slack app must have a bot user
    # configured and installed to use this event": Slack's app_home_opened reference)
    assert data["settings"]["event_subscriptions"]["bot_events"] == ["app_home_opened"]
    assert "user_events" not in data["settings"]["event_subscriptions"]
    assert data["features"]["bot_user"]["display_name"]


# The bot token scopes each Slack Web API method the code calls requires, from each method's
# reference page (docs.slack.dev/reference/methods/<method>, "Scopes: Bot token"). A new call
# fails the test below until it is placed here. conversations.* read the report and alert
# channels, public or private (channels:history, groups:history; not DMs: im/mpim:history).
# views.open, views.update and views.publish: "No scopes required". chat.postMessage to a user
# id posts in the app's Messages tab with chat:write alone.
SLACK_METHOD_SCOPES = {
    "chat_postMessage": {"chat:write"},
    "chat_update": {"chat:write"},
    "conversations_history": {"channels:history", "groups:history"},
    "conversations_replies": {"channels:history", "groups:history"},
    "usergroups_users_list": {"usergroups:read"},
    "users_info": {"users:read"},
    "views_open": set(),
    "views_update": set(),
    "views_publish": set(),
}
# The method families of slack_sdk's WebClient (its methods are the API's, dots as underscores).
SLACK_FAMILIES = (
    "admin_", "api_", "apps_", "assistant_", "auth_", "bookmarks_", "bots_", "calls_",
    "canvases_", "chat_", "conversations_", "dialog_", "dnd_", "emoji_", "files_", "functions_",
    "migration_", "oauth_", "openid_", "pins_", "reactions_", "reminders_", "rtm_", "search_",
    "stars_", "team_", "usergroups_", "users_", "views_", "workflows_",
)  # fmt: skip


def slack_calls() -> set[str]:
    """Every WebClient method the bot's code calls (``….client.<method>(…)``)."""
    found = set()
    for path in [*ROOT.glob("bot/**/*.py"), *ROOT.glob("handlers/*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            receiver = node.func.value
            name = receiver.attr if isinstance(receiver, ast.Attribute) else None
            name = receiver.id if isinstance(receiver, ast.Name) else name
            if name == "client" and node.func.attr.startswith(SLACK_FAMILIES):
                found.add(node.func.attr)
    return found


def test_the_bot_asks_only_for_the_scopes_its_slack_calls_need() -> None:
    # Given every Slack Web API method the code calls
    called = slack_calls()
    assert {"chat_postMessage", "views_open", "views_publish"} <= called
    assert not called - SLACK_METHOD_SCOPES.keys(), "place each new call in SLACK_METHOD_SCOPES"
    # Then the bot asks for exactly their scopes, and `commands` for the slash command
    needed = {"commands"}.union(*(SLACK_METHOD_SCOPES[method] for method in called))
    scopes = manifest()["oauth_config"]["scopes"]
    assert (
        sorted(scopes["bot"])
        == sorted(needed)
        == [
            "channels:history",  # the daily report and alerts find their own parts (metadata)
            "chat:write",
            "commands",
            "groups:history",
            "usergroups:read",
            "users:read",  # who may read message bodies: guests, strangers (bot/slack/viewers.py)
        ]
    )
    assert "user" not in scopes


def test_the_manifest_points_at_the_route_the_stack_serves(template: Template) -> None:
    # Given the httpApi route in the packaged template
    (route,) = resources(template, "AWS::ApiGatewayV2::Route").values()
    method, path = route["Properties"]["RouteKey"].split(" ")
    # Then Slack posts (HTTP, not socket mode) to that path
    assert method == "POST"
    assert PLACEHOLDER.endswith(path)
    assert manifest()["settings"]["socket_mode_enabled"] is False
    # And Slack delivers the Events API's requests there too (no socket mode: a request URL)
    assert manifest()["settings"]["event_subscriptions"]["request_url"] == PLACEHOLDER


def test_the_manifest_follows_the_rules_of_slack_s_manifest_schema() -> None:
    errors = [
        f"{'/'.join(map(str, e.path))}: {e.message}"
        for e in manifest_rules().iter_errors(manifest())
    ]
    assert errors == []


def changed(path: str, value: Any) -> dict[str, Any]:
    """The manifest with the value at ``path`` ("a/b/0/c") replaced by ``value``."""
    data = copy.deepcopy(manifest())
    *parents, last = [int(p) if p.isdigit() else p for p in path.split("/")]
    node: Any = data
    for part in parents:
        node = node[part]
    node[last] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "refused_at"),
    [
        ("display_information/name", "D" * 36, "display_information/name"),
        ("display_information/background_color", "#23f3e", "display_information/background_color"),
        ("features/app_hom", {"home_tab_enabled": True}, "features"),
        ("features/app_home/home_tab_enabled", "yes", "features/app_home/home_tab_enabled"),
        ("features/slash_commands/0/command", "dlq-redrive", "features/slash_commands/0/command"),
        (
            "settings/event_subscriptions/bot_events",
            ["app_home_opened", "app_home_opened"],
            "settings/event_subscriptions/bot_events",
        ),
        (
            "settings/event_subscriptions/request_url",
            "REQUEST_URL",
            "settings/event_subscriptions/request_url",
        ),
        ("settings/interactivity", {"request_url": PLACEHOLDER}, "settings/interactivity"),
        ("oauth_config/scopes/bot/0", "x" * 51, "oauth_config/scopes/bot/0"),
    ],
)
def test_the_schema_rules_refuse_what_slack_s_schema_refuses(
    path: str, value: Any, refused_at: str
) -> None:
    # Given the manifest with one thing Slack's schema does not allow
    data = changed(path, value)
    # Then the rules refuse it, there and nowhere else
    errors = manifest_rules().iter_errors(data)
    assert ["/".join(map(str, error.absolute_path)) for error in errors] == [refused_at]
