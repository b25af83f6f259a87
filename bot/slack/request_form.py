"""The request modal, the pure part: the form a person fills in (``RequestForm``), read from the
view's state, checked into the same ``SelectionArgs`` the slash command's flags give, and the
views the modal shows (loading, the form with its live count, submitted, the outcome).

The flow (bot/slack/request_endpoint.py, bot/slack/request_modal_jobs.py): ``/dlq-redrive`` with
no text, ``/dlq-redrive redrive`` with no queue or the Home tab's Redrive…/Export… open
``loading_view`` at once (the trigger_id lives three seconds); the worker replaces it with
``form_view``. A change of an input that dispatches (the DLQ, the action, the selection, a picked
day or time) or the Count button sends the form to the worker, which counts and shows the
``count_line`` with the fields of the chosen selection. Submission is checked on the ack path by
``read_form`` and ``check_form``: a problem is answered on its field (``response_action:
errors``, keyed by the block ids below).

One mechanism for the rules: every field is checked by building the ``SelectionArgs`` of that
field alone (bot.selection_options, the flags' own parser functions), so the modal accepts,
refuses and words exactly what ``--date``, ``--since``, ``--where``... do, and the args it gives
select the same messages as the typed flags.

No I/O and no SDK. The endpoint loads this module on the first modal request, not at cold start,
and the selection rules only when a form is checked (tests/deploy/test_handler_imports.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.errors import UsageError
from bot.slack.mrkdwn import text_length

if TYPE_CHECKING:
    from bot.selection_options import SelectionArgs

# The block id of each input, also its element's action id (one name for both: the errors of
# ``response_action: errors`` are keyed by block id, the dispatched actions by action id). All
# start with REQUEST_FIELD_PREFIX, so the endpoint routes every input of the modal with one rule.
REQUEST_FIELD_PREFIX = "dlq_redrive.request_"
REQUEST_FIELD_QUEUE = "dlq_redrive.request_queue"  # the DLQ (a select, or a text field)
REQUEST_FIELD_ACTION = "dlq_redrive.request_action"  # redrive | export (radio)
REQUEST_FIELD_SELECTION = "dlq_redrive.request_selection"  # which messages (radio)
REQUEST_FIELD_DAY = "dlq_redrive.request_day"  # --date (datepicker)
REQUEST_FIELD_SINCE = "dlq_redrive.request_since"  # --since (datetimepicker)
REQUEST_FIELD_UNTIL = "dlq_redrive.request_until"  # --until (datetimepicker)
REQUEST_FIELD_ERROR = "dlq_redrive.request_error"  # --error: a known group (select)
REQUEST_FIELD_ERROR_LABEL = "dlq_redrive.request_error_label"  # --error: a label typed
REQUEST_FIELD_WHERE = "dlq_redrive.request_where"  # --where, one PATH=VALUE a line
REQUEST_FIELD_TIME_FIELD = "dlq_redrive.request_time_field"  # --time-field
REQUEST_FIELD_LIMIT = "dlq_redrive.request_limit"  # --limit (number input)
REQUEST_FIELD_NOTE = "dlq_redrive.request_note"  # shown on the approval card
REQUEST_FIELD_CHANNEL = "dlq_redrive.request_channel"  # where the card is posted
REQUEST_FIELDS = (
    REQUEST_FIELD_QUEUE,
    REQUEST_FIELD_ACTION,
    REQUEST_FIELD_SELECTION,
    REQUEST_FIELD_DAY,
    REQUEST_FIELD_SINCE,
    REQUEST_FIELD_UNTIL,
    REQUEST_FIELD_ERROR,
    REQUEST_FIELD_ERROR_LABEL,
    REQUEST_FIELD_WHERE,
    REQUEST_FIELD_TIME_FIELD,
    REQUEST_FIELD_LIMIT,
    REQUEST_FIELD_NOTE,
    REQUEST_FIELD_CHANNEL,
)

ACTIONS = ("redrive", "export")
SELECTIONS = ("all", "yesterday", "day", "range", "error", "field")
MAX_NOTE = 500  # characters of the optional note (the card shows it whole)


@dataclass(frozen=True)
class RequestForm:
    """What the person filled in, as read from the modal's state: texts as typed or picked
    (``since``/``until`` as a picker gives them: epoch seconds, or ISO 8601 text), nothing
    checked yet (``check_form`` does)."""

    queue: str | None
    action: str  # "redrive" | "export"
    selection: str  # "all" | "yesterday" | "day" | "range" | "error" | "field"
    day: str | None
    since: str | None
    until: str | None
    error: str | None  # the group picked in the select: its #digest (or a label)
    where: tuple[str, ...]  # "PATH=VALUE" lines, as --where takes them
    time_field: str | None
    limit: str | None
    note: str | None
    channel: str | None
    error_label: str | None = None  # an error group's label (or #digest) typed instead

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> RequestForm:
        """The form ``to_json`` wrote; ValueError when ``text`` is not one."""
        raw = json.loads(text)
        if not isinstance(raw, dict):
            raise ValueError("a request form is a JSON object")
        values: dict[str, Any] = {}
        for f in fields(cls):
            value = raw.get(f.name)
            if f.name == "where":
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise ValueError("a request form's where is a list of texts")
                values["where"] = tuple(value)
            elif f.name in ("action", "selection"):
                if not isinstance(value, str):
                    raise ValueError(f"a request form's {f.name} is a text")
                values[f.name] = value
            elif value is not None and not isinstance(value, str):
                raise ValueError(f"a request form's {f.name} is a text or null")
            else:
                values[f.name] = value
        return cls(**values)


def _picked(values: dict[str, Any], field: str) -> str | None:
    """The value of the input ``field`` in a view's ``state.values``, whatever its element
    (select, radio, pickers, text, number, conversation), as text; None when absent or empty."""
    block = values.get(field)
    element = block.get(field) if isinstance(block, dict) else None
    if not isinstance(element, dict):
        return None
    option = element.get("selected_option")
    if isinstance(option, dict):
        value: Any = option.get("value")
    else:
        value = next(
            (
                element[key]
                for key in (
                    "value",
                    "selected_date",
                    "selected_date_time",
                    "selected_conversation",
                )
                if element.get(key) is not None
            ),
            None,
        )
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = str(value)
    return text if text.strip() else None


def read_form(view_state: dict[str, Any]) -> RequestForm:
    """The form in a view's ``state`` (``{"values": {block_id: {action_id: {...}}}}``), as a
    view_submission or block_actions payload carries it. Tolerant: a missing or malformed value
    reads as not given (the action as a redrive, the selection as every message), and
    ``check_form`` says what is missing."""
    raw = view_state.get("values") if isinstance(view_state, dict) else None
    values: dict[str, Any] = raw if isinstance(raw, dict) else {}
    action = _picked(values, REQUEST_FIELD_ACTION)
    selection = _picked(values, REQUEST_FIELD_SELECTION)
    where = _picked(values, REQUEST_FIELD_WHERE) or ""
    return RequestForm(
        queue=_picked(values, REQUEST_FIELD_QUEUE),
        action=action if action in ACTIONS else "redrive",
        selection=selection if selection in SELECTIONS else "all",
        day=_picked(values, REQUEST_FIELD_DAY),
        since=_picked(values, REQUEST_FIELD_SINCE),
        until=_picked(values, REQUEST_FIELD_UNTIL),
        error=_picked(values, REQUEST_FIELD_ERROR),
        error_label=_picked(values, REQUEST_FIELD_ERROR_LABEL),
        # One condition a line, each as one --where (all must match); blank lines are none.
        where=tuple(line for line in where.split("\n") if line.strip()),
        time_field=_picked(values, REQUEST_FIELD_TIME_FIELD),
        limit=_picked(values, REQUEST_FIELD_LIMIT),
        note=_picked(values, REQUEST_FIELD_NOTE),
        channel=_picked(values, REQUEST_FIELD_CHANNEL),
    )


# Checks one field's SelectionArgs, noting its problem on the block: True when it is good.
_Check = Callable[[str, "SelectionArgs"], bool]

# Slack shows a field's error as plain text under it; a long one is cut (it may quote input).
MAX_PROBLEM = 300


def _instant(text: str, tz: ZoneInfo) -> str:
    """A picked time as --since/--until take it: a datetimepicker's epoch seconds as ISO 8601
    with TIMEZONE's offset (the instant the person picked, shown in the team's zone); other
    text as it came (parse_instant reads it, or says why not)."""
    if text.isdigit():
        try:
            return datetime.fromtimestamp(int(text), tz).isoformat()
        except (OverflowError, OSError, ValueError):
            return text  # parse_instant refuses it with the flag's words
    return text


def check_form(
    form: RequestForm,
    *,
    tz: ZoneInfo,
    now: datetime,
    error_attribute: str | None,
) -> tuple[SelectionArgs | None, dict[str, str]]:
    """``(args, {})`` when the form is valid: the SelectionArgs the equivalent typed flags give;
    else ``(None, {block_id: problem})``, each problem worded for its field."""
    from argparse import ArgumentTypeError

    from bot.selection_options import SelectionArgs, positive_int

    problems: dict[str, str] = {}

    def check(block: str, args: SelectionArgs) -> bool:
        # The field alone, built as its flag would be: UsageError says what is wrong with it.
        try:
            args.build(tz=tz, now=now, error_attribute=error_attribute)
        except UsageError as exc:
            problems.setdefault(block, _cut(str(exc)))
            return False
        return True

    if form.queue is None or not form.queue.strip():
        problems[REQUEST_FIELD_QUEUE] = "Choose a DLQ."
    if form.action not in ACTIONS:
        problems[REQUEST_FIELD_ACTION] = "Choose Redrive or Export."
    time_field = _given(form.time_field)
    timed = form.selection in ("yesterday", "day", "range")
    if timed and time_field is not None:
        check(REQUEST_FIELD_TIME_FIELD, SelectionArgs(yesterday=True, time_field=time_field))
    if not timed:
        time_field = None  # not shown with this selection: an old value means nothing
    args: SelectionArgs | None = None
    if form.selection == "all":
        args = SelectionArgs()
    elif form.selection == "yesterday":
        args = SelectionArgs(yesterday=True, time_field=time_field)
    elif form.selection == "day":
        day = _given(form.day)
        if day is None:
            problems[REQUEST_FIELD_DAY] = "Pick a day."
        elif check(REQUEST_FIELD_DAY, SelectionArgs(date=day)):
            args = SelectionArgs(date=day, time_field=time_field)
    elif form.selection == "range":
        args = _range(form, tz, time_field, problems, check)
    elif form.selection == "error":
        args = _error(form, problems, check)
    elif form.selection == "field":
        if not form.where:
            problems[REQUEST_FIELD_WHERE] = (
                "Write at least one condition, PATH=VALUE (e.g. meta.status=500), one a line."
            )
        elif all(check(REQUEST_FIELD_WHERE, SelectionArgs(where=(w,))) for w in form.where):
            args = SelectionArgs(where=form.where)
    else:
        problems[REQUEST_FIELD_SELECTION] = "Choose which messages to take."
    limit: int | None = None
    if _given(form.limit) is not None:
        try:
            limit = positive_int(str(form.limit).strip())
        except ArgumentTypeError as exc:  # --limit's own words
            problems[REQUEST_FIELD_LIMIT] = _cut(f"--limit {exc}")
    if form.note is not None and text_length(form.note) > MAX_NOTE:
        problems[REQUEST_FIELD_NOTE] = (
            f"At most {MAX_NOTE} characters ({text_length(form.note)} given)."
        )
    if problems or args is None:
        return None, problems
    whole = replace(args, limit=limit)
    # Every field passed alone; the whole is checked as the command checks it, as a last word.
    if not check(_main_block(form.selection), whole):
        return None, problems
    return whole, {}


def _range(
    form: RequestForm,
    tz: ZoneInfo,
    time_field: str | None,
    problems: dict[str, str],
    check: _Check,
) -> SelectionArgs | None:
    """--since/--until from the two pickers; either may be left empty, as either flag may be
    left out (an end alone takes everything sent before it), but not both."""
    from bot.selection_options import SelectionArgs

    since = _given(form.since)
    until = _given(form.until)
    if since is None and until is None:
        problems[REQUEST_FIELD_SINCE] = "Pick a start, an end, or both."
        return None
    since = None if since is None else _instant(since, tz)
    until = None if until is None else _instant(until, tz)
    good = since is None or check(REQUEST_FIELD_SINCE, SelectionArgs(since=since))
    good = (until is None or check(REQUEST_FIELD_UNTIL, SelectionArgs(until=until))) and good
    if good and since is not None and until is not None:
        good = check(REQUEST_FIELD_UNTIL, SelectionArgs(since=since, until=until))
    return SelectionArgs(since=since, until=until, time_field=time_field) if good else None


def _error(form: RequestForm, problems: dict[str, str], check: _Check) -> SelectionArgs | None:
    """--error from the group picked or the label typed: one of the two."""
    from bot.selection_options import SelectionArgs

    picked, typed = _given(form.error), _given(form.error_label)
    if picked is None and typed is None:
        problems[REQUEST_FIELD_ERROR] = "Pick an error group, or type its label below."
        return None
    if picked is not None and typed is not None:
        problems[REQUEST_FIELD_ERROR_LABEL] = (
            "Pick a group above or type a label here, not both: clear one."
        )
        return None
    block, label = (
        (REQUEST_FIELD_ERROR, picked) if picked is not None else (REQUEST_FIELD_ERROR_LABEL, typed)
    )
    assert label is not None
    return SelectionArgs(error=label) if check(block, SelectionArgs(error=label)) else None


def _main_block(selection: str) -> str:
    """The field a problem of the whole selection is shown on."""
    return {
        "day": REQUEST_FIELD_DAY,
        "range": REQUEST_FIELD_SINCE,
        "error": REQUEST_FIELD_ERROR,
        "field": REQUEST_FIELD_WHERE,
    }.get(selection, REQUEST_FIELD_SELECTION)


def _given(text: str | None) -> str | None:
    return text if text is not None and text.strip() else None


def _cut(text: str) -> str:
    return text if len(text) <= MAX_PROBLEM else text[: MAX_PROBLEM - 1] + "…"
