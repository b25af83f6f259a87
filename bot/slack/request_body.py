"""The body of a request Slack sends, parsed as Slack documents it (pure, no I/O).

Slack sends three kinds of body: Events API JSON, a slash command as a form (its fields are the
command's), and interactivity (buttons, modals) as a form whose one ``payload`` field holds JSON
("The body of that request will contain a payload parameter. Your app should parse this
payload parameter as JSON", Slack's interactivity docs).

We do not use Bolt's parser for this. ``slack_bolt.request.internals.parse_body`` (1.30.0, and
the same in bolt-python's repository at commit 1034ce3) tests ``"payload" in body`` on the raw
text, so any form body merely containing the substring "payload" (``/dlq-redrive peek
payload-dlq``) is taken for an interactivity payload and, having no ``payload`` field, parsed as
``{}``: the command reached our listeners with no team, user or text and was refused as "from
another workspace". A body whose ``payload`` is not JSON made it raise before the signature was
even checked (a 500). We found no bolt-python issue about it (searched December 2026), so the
endpoint (``bot.slack.runtime``) builds Bolt's request with this parser instead.

Slack never repeats a form field. A form that does is refused rather than resolved: Python's
``dict(parse_qsl(...))`` keeps the last copy, so ``team_id=T_OTHER&...&team_id=T_LOCAL`` would
pass the installed-workspace check as ours.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from bot.errors import UsageError

INTERACTIVITY_FIELD = "payload"
JSON_CONTENT_TYPE = "application/json"


class MalformedRequestError(UsageError):
    """A body that is not one Slack sends; nothing was done with it."""


def parse_request_body(raw: str, content_type: str | None) -> dict[str, Any]:
    """The request's fields: a JSON body's object; an interactivity form's ``payload`` object
    (only when the form has a ``payload`` field); otherwise the form's own fields.

    ``content_type`` is the header's media type (no parameters). A body is JSON exactly when
    Bolt takes it for JSON (that content type, or a body starting with ``{``), so Bolt's
    listeners see the kind of body they expect. MalformedRequestError if a field is repeated
    or JSON that must be an object is not one."""
    if not raw:
        return {}
    if content_type == JSON_CONTENT_TYPE or raw.startswith("{"):
        return _json_object(raw, "the body")
    fields: dict[str, str] = {}
    for name, value in parse_qsl(raw, keep_blank_values=True):
        if name in fields:
            raise MalformedRequestError(f"the form field {name!r} is repeated")
        fields[name] = value
    if INTERACTIVITY_FIELD in fields:
        return _json_object(fields[INTERACTIVITY_FIELD], f"the form field {INTERACTIVITY_FIELD!r}")
    return fields


def _json_object(text: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise MalformedRequestError(f"{what} is not a JSON object") from exc
    if not isinstance(value, dict):
        raise MalformedRequestError(f"{what} is not a JSON object")
    return value
