"""The Slack app manifest (infra/slack-manifest.yml) matches what the stack serves."""

from __future__ import annotations

from typing import Any

import yaml

from tests.deploy.test_template import Template, resources
from tests.deploy.tooling import ROOT

PLACEHOLDER = "https://REQUEST_URL.execute-api.REGION.amazonaws.com/slack/events"


def manifest() -> dict[str, Any]:
    text = (ROOT / "infra" / "slack-manifest.yml").read_text(encoding="utf-8")
    loaded: dict[str, Any] = yaml.safe_load(text)
    return loaded


def test_the_slash_command_and_interactivity_share_the_one_request_url() -> None:
    data = manifest()
    (command,) = data["features"]["slash_commands"]
    assert command["command"] == "/dlq-redrive"
    assert data["settings"]["interactivity"]["is_enabled"] is True
    # The single thing to fill in: the same URL in both places, and nothing else to edit.
    assert command["url"] == data["settings"]["interactivity"]["request_url"] == PLACEHOLDER
    text = (ROOT / "infra" / "slack-manifest.yml").read_text(encoding="utf-8")
    assert text.count("REQUEST_URL") == 3  # the two URLs and the comment explaining them


def test_the_bot_asks_only_for_the_scopes_it_uses() -> None:
    assert sorted(manifest()["oauth_config"]["scopes"]["bot"]) == [
        "channels:history",  # the daily report finds its own parts (docs/daily-report.md)
        "chat:write",
        "commands",
        "groups:history",
        "usergroups:read",
        "users:read",  # who may read message bodies: guests, strangers (bot/slack/viewers.py)
    ]
    assert "user" not in manifest()["oauth_config"]["scopes"]


def test_the_manifest_points_at_the_route_the_stack_serves(template: Template) -> None:
    # Given the httpApi route in the packaged template
    (route,) = resources(template, "AWS::ApiGatewayV2::Route").values()
    method, path = route["Properties"]["RouteKey"].split(" ")
    # Then Slack posts (HTTP, not socket mode) to that path
    assert method == "POST"
    assert PLACEHOLDER.endswith(path)
    assert manifest()["settings"]["socket_mode_enabled"] is False
