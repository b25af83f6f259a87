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
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.errors import UsageError
from bot.printable import visible
from bot.slack.ids import ActionId
from bot.slack.mrkdwn import MAX_SECTION_TEXT, code, cut, escape, number, text_length

if TYPE_CHECKING:
    from bot.redrive_model import RedriveReport
    from bot.selection_options import SelectionArgs

Message = dict[str, Any]  # a Block Kit message (bot.slack.blocks.Message)

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

    @classmethod
    def blank(
        cls, *, queue: str | None = None, action: str = "redrive", channel: str | None = None
    ) -> RequestForm:
        """The form as the modal first shows it: every message of ``queue`` (None: not chosen),
        nothing typed."""
        return cls(
            queue=queue,
            action=action,
            selection="all",
            day=None,
            since=None,
            until=None,
            error=None,
            where=(),
            time_field=None,
            limit=None,
            note=None,
            channel=channel,
        )

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
        # Not given: the radio's initial option. A value the radio never offered is kept, for
        # check_form to refuse on its field: read as a redrive or as every message, a made-up
        # value would ask for more than anyone chose.
        action=action or "redrive",
        selection=selection or "all",
        day=_picked(values, REQUEST_FIELD_DAY),
        since=_picked(values, REQUEST_FIELD_SINCE),
        until=_picked(values, REQUEST_FIELD_UNTIL),
        error=_picked(values, REQUEST_FIELD_ERROR),
        error_label=_picked(values, REQUEST_FIELD_ERROR_LABEL),
        # One condition a line, each as one --where (all must match); blank lines are none. Only
        # line ends split (not str.splitlines' other separators, which a value may hold).
        where=tuple(line for line in where.replace("\r\n", "\n").split("\n") if line.strip()),
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
    if text.isascii() and text.isdigit():
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
        where_length = text_length("\n".join(form.where))
        if not form.where:
            problems[REQUEST_FIELD_WHERE] = (
                "Write at least one condition, PATH=VALUE (e.g. meta.status=500), one a line."
            )
        elif where_length > MAX_TEXT_INPUT:  # the field's max_length: only a forged state
            problems[REQUEST_FIELD_WHERE] = (
                f"At most {MAX_TEXT_INPUT} characters ({where_length} given)."
            )
        elif all(check(REQUEST_FIELD_WHERE, SelectionArgs(where=(w,))) for w in form.where):
            args = SelectionArgs(where=form.where)
    else:
        problems[REQUEST_FIELD_SELECTION] = "Choose which messages to take."
    limit: int | None = None
    if _given(form.limit) is not None:
        try:
            limit = positive_int(str(form.limit))
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
    if picked is not None and typed is not None:
        problems[REQUEST_FIELD_ERROR_LABEL] = (
            "Pick a group above or type a label here, not both: clear one."
        )
        return None
    if picked is not None:
        block, label = REQUEST_FIELD_ERROR, picked
    elif typed is not None:
        block, label = REQUEST_FIELD_ERROR_LABEL, typed
    else:
        # On the typed label: that field is there even when no group is known to pick from.
        problems[REQUEST_FIELD_ERROR_LABEL] = "Pick an error group, or type its label here."
        return None
    return SelectionArgs(error=label) if check(block, SelectionArgs(error=label)) else None


def _main_block(selection: str) -> str:
    """The field a problem of the whole selection is shown on."""
    return {
        "day": REQUEST_FIELD_DAY,
        "range": REQUEST_FIELD_SINCE,
        "error": REQUEST_FIELD_ERROR_LABEL,  # always in the form (the select may not be)
        "field": REQUEST_FIELD_WHERE,
    }.get(selection, REQUEST_FIELD_SELECTION)


def _given(text: str | None) -> str | None:
    return text if text is not None and text.strip() else None


def _cut(text: str) -> str:
    return text if len(text) <= MAX_PROBLEM else text[: MAX_PROBLEM - 1] + "…"


# --- the views ----------------------------------------------------------------------------------

# Block Kit's documented limits for what these views hold (Reference: views; block elements;
# composition objects). slack_sdk's View checks some of them; the tests check every one.
MAX_TITLE = 24  # a view's title, submit and close: "Max length of 24 characters"
MAX_VIEW_BLOCKS = 100  # "A maximum of 100 blocks" in a modal
MAX_OPTIONS = 100  # a static select's options, or an option group's: "Maximum number ... 100"
MAX_OPTION_GROUPS = 100  # a static select's option_groups: "Maximum number of option groups is 100"
MAX_OPTION_TEXT = 75  # an option's text and description, an option group's label
MAX_OPTION_VALUE = 150  # an option's value
MAX_PLACEHOLDER = 150  # an element's placeholder
MAX_PRIVATE_METADATA = 3_000  # a view's private_metadata
# The DLQ select lists at most this many (10 option groups of 100); past it, the DLQ is typed:
# a modal of thousands of options would be slow to open and no easier to pick from.
MAX_LISTED_DLQS = 1_000
MAX_QUEUE_NAME = 80  # SQS: "A queue name can have up to 80 characters"
MAX_LABEL_INPUT = 1_000  # an error group's label typed (labels are at most ~220 characters)
MAX_TEXT_INPUT = 3_000  # plain_text_input's max_length: "Maximum value is 3000"

TITLES = {"redrive": "Redrive from a DLQ", "export": "Export from a DLQ"}
_SUBMIT = {"redrive": "Ask for approval", "export": "Export"}
_ACTION_OPTIONS = (
    ("redrive", "Redrive", "Copies go back to their source once an approver approves"),
    ("export", "Export", "Copies go to S3 as JSON; the messages stay in the DLQ"),
)
_SELECTION_OPTIONS = (
    ("all", "Every message", None),
    ("yesterday", "Yesterday", "The calendar day before today (--yesterday)"),
    ("day", "One day", "A calendar day (--date)"),
    ("range", "A time range", "From a start, until an end, or both (--since, --until)"),
    ("error", "An error group", "As the daily report groups them (--error)"),
    ("field", "Body fields or attributes", "Messages whose fields equal values (--where)"),
)


def _plain(text: str, *, untrusted: bool = False, limit: int = 3_000) -> dict[str, Any]:
    """A plain_text object of at most ``limit`` characters. Plain text renders no links or
    mentions, only emoji codes: text we did not write shows them as typed (emoji off) and its
    control characters as escapes (``bot.printable``)."""
    if untrusted:
        return {"type": "plain_text", "text": cut(visible(text), limit) or " ", "emoji": False}
    return {"type": "plain_text", "text": cut(text, limit)}


def _section(text: str, block_id: str | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {
        "type": "section",
        "text": {"type": "mrkdwn", "text": cut(text, MAX_SECTION_TEXT)},
    }
    if block_id is not None:
        block["block_id"] = block_id
    return block


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": cut(text, 3_000)}]}


def _modal(title: str, blocks: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": ActionId.REQUEST_MODAL.value,
        "title": _plain(cut(title, MAX_TITLE)),
        "close": _plain("Close"),
        "blocks": blocks[:MAX_VIEW_BLOCKS],
        **extra,
    }


def _option(value: str, text: str, description: str | None = None) -> dict[str, Any]:
    option: dict[str, Any] = {
        "text": _plain(text, untrusted=True, limit=MAX_OPTION_TEXT),
        "value": value,
    }
    if description:
        option["description"] = _plain(description, limit=MAX_OPTION_TEXT)
    return option


def _input(
    field: str,
    label: str,
    element: dict[str, Any],
    *,
    hint: str | None = None,
    optional: bool = False,
    dispatch: bool = False,
) -> dict[str, Any]:
    block: dict[str, Any] = {
        "type": "input",
        "block_id": field,
        "label": _plain(label),
        "element": {**element, "action_id": field},
        "optional": optional,
    }
    if hint:
        block["hint"] = _plain(hint)
    if dispatch:
        # The change is sent at once (block_actions): the worker counts and shows this choice's
        # fields. Elements without dispatch_action only reach the app on Count or Submit.
        block["dispatch_action"] = True
    return block


def _text_input(
    *,
    value: str | None,
    max_length: int,
    placeholder: str | None = None,
    multiline: bool = False,
) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "plain_text_input", "max_length": max_length}
    if multiline:
        element["multiline"] = True
    if placeholder:
        element["placeholder"] = _plain(cut(placeholder, MAX_PLACEHOLDER))
    if value and text_length(value) <= max_length:  # a longer one could never be submitted
        element["initial_value"] = value
    return element


def loading_view(title: str) -> dict[str, Any]:
    """Opened by the endpoint at once (a trigger_id lives three seconds): the worker replaces it
    with ``form_view``. ``title``: ``TITLES[action]``."""
    return _modal(title, [_section(":hourglass_flowing_sand: Reading the watched DLQs…")])


def _queue_block(dlqs: list[tuple[str, int]], queue: str | None) -> list[dict[str, Any]]:
    """The DLQ: a select of the watched DLQs with SQS's approximate depth (grouped by 100 past
    100 of them), or past MAX_LISTED_DLQS a text field for the name."""
    if len(dlqs) > MAX_LISTED_DLQS:
        typed = _text_input(
            value=queue, max_length=MAX_QUEUE_NAME, placeholder="the DLQ's name, e.g. orders-dlq"
        )
        hint = (
            f"{number(len(dlqs))} DLQs are watched, too many to list here: type the name "
            "(/dlq-redrive list shows them)."
        )
        return [_input(REQUEST_FIELD_QUEUE, "DLQ", typed, hint=hint)]
    options = [
        # SQS's ApproximateNumberOfMessages: "about" (bot.slack.mrkdwn's words for a count).
        _option(name, f"{name} (about {number(depth)})")
        for name, depth in dlqs
        if len(name) <= MAX_OPTION_VALUE
    ]
    element: dict[str, Any] = {
        "type": "static_select",
        "placeholder": _plain("Choose a DLQ"),
    }
    if len(options) <= MAX_OPTIONS:
        element["options"] = options
    else:
        element["option_groups"] = [
            {
                "label": _plain(
                    cut(
                        f"{number(start + 1)}–{number(start + len(chunk))}: {dlqs[start][0]} …",
                        MAX_OPTION_TEXT,
                    )
                ),
                "options": chunk,
            }
            for start in range(0, len(options), MAX_OPTIONS)
            for chunk in [options[start : start + MAX_OPTIONS]]
        ]
    chosen = next((option for option in options if option["value"] == queue), None)
    if chosen is not None:
        element["initial_option"] = chosen
    blocks = [_input(REQUEST_FIELD_QUEUE, "DLQ", element, dispatch=True)]
    if queue and chosen is None:
        blocks.append(
            _context(f":warning: {code(queue, limit=200)} is not a watched DLQ: choose one.")
        )
    if not options:
        blocks[0] = _section(
            "No DLQ is watched: there is nothing to redrive or export.", REQUEST_FIELD_QUEUE
        )
    return blocks


def _radio(
    field: str,
    label: str,
    choices: tuple[tuple[str, str, str | None], ...],
    chosen: str,
) -> dict[str, Any]:
    options = [_option(value, text, description) for value, text, description in choices]
    element: dict[str, Any] = {"type": "radio_buttons", "options": options}
    initial = next((o for o in options if o["value"] == chosen), None)
    if initial is not None:
        element["initial_option"] = initial
    return _input(field, label, element, dispatch=True)


def _instant_value(text: str | None) -> int | None:
    """A datetimepicker's initial_date_time: only a picked value, epoch seconds "in the format
    of 10 digits" (Block Kit reference: datetime picker element)."""
    good = text is not None and text.isascii() and text.isdigit() and len(text) == 10
    return int(text) if good and text is not None else None


def _iso_day(text: str | None) -> str | None:
    """A datepicker's initial_date, "YYYY-MM-DD", only when ``text`` is one."""
    if text is None:
        return None
    try:
        return date.fromisoformat(text).isoformat() if len(text) == 10 else None
    except ValueError:
        return None


def _selection_fields(
    form: RequestForm, error_groups: list[tuple[str, str]]
) -> list[dict[str, Any]]:
    """The inputs the chosen selection needs (none for every message)."""
    blocks: list[dict[str, Any]] = []
    if form.selection == "day":
        picker: dict[str, Any] = {"type": "datepicker", "placeholder": _plain("Pick a day")}
        if _iso_day(form.day):
            picker["initial_date"] = _iso_day(form.day)
        blocks.append(
            _input(
                REQUEST_FIELD_DAY,
                "Day",
                picker,
                hint="A calendar day in the team's time zone.",
                dispatch=True,
            )
        )
    elif form.selection == "range":
        for field, label, value in (
            (REQUEST_FIELD_SINCE, "From (inclusive)", form.since),
            (REQUEST_FIELD_UNTIL, "Until (exclusive)", form.until),
        ):
            picker = {"type": "datetimepicker"}
            if _instant_value(value) is not None:
                picker["initial_date_time"] = _instant_value(value)
            blocks.append(_input(field, label, picker, optional=True, dispatch=True))
    elif form.selection == "error":
        groups = [
            _option(value, label)
            for value, label in error_groups[:MAX_OPTIONS]
            if 0 < len(value) <= MAX_OPTION_VALUE
        ]
        if groups:
            select: dict[str, Any] = {
                "type": "static_select",
                "placeholder": _plain("Choose a group"),
                "options": groups,
            }
            initial = next((o for o in groups if o["value"] == form.error), None)
            if initial is not None:
                select["initial_option"] = initial
            blocks.append(
                _input(
                    REQUEST_FIELD_ERROR,
                    "Error group",
                    select,
                    hint="The largest groups of the last daily report.",
                    optional=True,
                    dispatch=True,
                )
            )
        blocks.append(
            _input(
                REQUEST_FIELD_ERROR_LABEL,
                "Or its label" if groups else "Error group",
                _text_input(
                    value=form.error_label,
                    max_length=MAX_LABEL_INPUT,
                    placeholder="a label as the daily report shows it, or its #digest",
                ),
                optional=bool(groups),
            )
        )
    elif form.selection == "field":
        blocks.append(
            _input(
                REQUEST_FIELD_WHERE,
                "Conditions, one a line (all must hold)",
                _text_input(
                    value="\n".join(form.where) or None,
                    max_length=MAX_TEXT_INPUT,
                    placeholder="meta.status=500",
                    multiline=True,
                ),
                hint=(
                    "PATH=VALUE: a JSON body field such as meta.status, or attr.NAME for a "
                    "message attribute; the value as text (as --where takes it)."
                ),
            )
        )
    if form.selection in ("yesterday", "day", "range"):
        blocks.append(
            _input(
                REQUEST_FIELD_TIME_FIELD,
                "Time from a body field",
                _text_input(
                    value=form.time_field,
                    max_length=MAX_TEXT_INPUT,
                    placeholder="occurredAt, or meta.date",
                ),
                hint="Empty: the time SQS received the message (--time-field).",
                optional=True,
            )
        )
    return blocks


def form_view(
    *,
    dlqs: list[tuple[str, int]],
    form: RequestForm,
    error_groups: list[tuple[str, str]],
    count_line: str | None,
    default_channel: str | None,
    private_metadata: str,
) -> dict[str, Any]:
    """The request form, showing ``form`` (what was filled in so far) with the fields its
    selection needs, and the count line (mrkdwn we wrote; None: not counted yet).

    ``dlqs``: the watched DLQs, (name, SQS's approximate depth), in the order to list them;
    ``error_groups``: known groups, (what --error takes: the label or its #digest, the label
    shown), largest first; ``default_channel``: the channel id the card goes to unless another
    is chosen (None: the conversation the modal was opened from)."""
    action = form.action if form.action in ACTIONS else "redrive"
    blocks = [
        *_queue_block(dlqs, form.queue),
        _radio(REQUEST_FIELD_ACTION, "Action", _ACTION_OPTIONS, action),
        _radio(REQUEST_FIELD_SELECTION, "Messages", _SELECTION_OPTIONS, form.selection),
        *_selection_fields(form, error_groups),
        _input(
            REQUEST_FIELD_LIMIT,
            "At most",
            {
                "type": "number_input",
                "is_decimal_allowed": False,
                "min_value": "1",
                **({"initial_value": form.limit} if _positive(form.limit) else {}),
            },
            hint="Empty: every message selected (--limit).",
            optional=True,
        ),
        _count_section(count_line),
    ]
    if action == "redrive":
        blocks.append(
            _input(
                REQUEST_FIELD_NOTE,
                "Note for the approvers",
                _text_input(
                    value=form.note,
                    max_length=MAX_NOTE,
                    placeholder="why, a ticket",
                    multiline=True,
                ),
                optional=True,
            )
        )
        channel: dict[str, Any] = {
            "type": "conversations_select",
            "filter": {"include": ["public", "private"], "exclude_bot_users": True},
        }
        initial = form.channel or default_channel
        if initial:
            channel["initial_conversation"] = initial
        else:
            channel["default_to_current_conversation"] = True
        blocks.append(
            _input(
                REQUEST_FIELD_CHANNEL,
                "Post the approval card in",
                channel,
                hint="A channel the app may post approval cards in.",
            )
        )
    return _modal(
        TITLES[action],
        blocks,
        submit=_plain(_SUBMIT[action]),
        private_metadata=private_metadata,
    )


def _positive(text: str | None) -> bool:
    return text is not None and text.isdigit() and int(text) >= 1


COUNT_BLOCK = "dlq_redrive.request_count_line"


def _count_section(line: str | None) -> dict[str, Any]:
    """The count line with the Count button beside it."""
    block = _section(line or "Press *Count* to see how many messages this would take.", COUNT_BLOCK)
    block["accessory"] = {
        "type": "button",
        "action_id": ActionId.REQUEST_COUNT.value,
        "text": _plain("Count again" if line else "Count"),
        "value": "count",
    }
    return block


def counting_line(queue: str) -> str:
    """The count line while the worker counts."""
    return f":hourglass_flowing_sand: Counting what this selects in {code(queue, limit=200)}…"


def count_line(dry: RedriveReport, action: str) -> str:
    """What the form would take, from a dry run: exact when the count saw every message, "at
    least" when it could not (stopped early, SQS held some back, FIFO groups it could not see
    past); how many match and how many their destinations can take (an export: every match),
    then why the rest stay, as the approval card says it (``blocks.dry_run_note``)."""
    from bot.slack.blocks import dry_run_note

    complete = dry.finished and not dry.unseen and not dry.blocked_groups
    bound = "" if complete else "at least "
    matched = f"*{bound}{number(dry.matched)}* message(s) match"
    if action == "export":
        head = f"{matched} and would be exported (they stay in the DLQ)"
    else:
        head = f"{matched}; *{bound}{number(dry.destined)}* would move"
    where = f"In {code(dry.dlq, limit=200)}, {code(dry.selection, limit=600)}:"
    note = dry_run_note(dry, action)
    return cut(f":mag: {where} {head}.{' ' + note if note else ''}", MAX_SECTION_TEXT)


def problems_line(problems: dict[str, str]) -> str:
    """The count line when the form cannot be counted yet (what check_form found)."""
    said = "; ".join(escape(problem, limit=300) for problem in problems.values())
    return f":warning: Not counted: {said}"


# The conversations a card may go to: a public or private channel's id (C..., or G... for older
# private channels), as the form's channel select offers them (filter: public, private). Not a DM
# (D...) nor a person (U.../W...: chat.postMessage would post the card in their DM with the app,
# where no other approver sees it), nor text that is no id at all.
_CARD_CHANNEL = re.compile(r"[CG][A-Za-z0-9_]{1,79}")


def card_channel_problem(channel: str | None) -> str | None:
    """Why the approval card may not be posted in ``channel`` (a field's error), or None."""
    if not channel:
        return "Choose a channel for the card."
    if not _CARD_CHANNEL.fullmatch(channel):
        return "Choose a public or private channel for the card (not a DM or a person)."
    return None


def response_errors(problems: dict[str, str], view: dict[str, Any]) -> dict[str, str]:
    """``problems`` as ``response_action: errors`` takes them: each on its block when the view
    has that input, else on the selection (the person switched the selection and submitted
    before the form showed the new one's fields), so Slack never gets a block id it lacks."""
    present = {
        block.get("block_id")
        for block in view.get("blocks") or []
        if isinstance(block, dict) and block.get("type") == "input"
    }
    errors: dict[str, str] = {}
    for block_id, problem in problems.items():
        target = block_id if block_id in present else REQUEST_FIELD_SELECTION
        errors[target] = f"{errors[target]} {problem}" if target in errors else problem
    return {block_id: _cut(problem) for block_id, problem in errors.items()}


def submitted_view(channel: str, *, action: str = "redrive") -> dict[str, Any]:
    """What the modal shows once the submission went to the worker, until its outcome."""
    if action == "export":
        text = ":hourglass_flowing_sand: Exporting… the result will show here."
    else:
        text = (
            ":hourglass_flowing_sand: Counting… the approval card will be posted in "
            f"{_channel(channel)}."
        )
    return _modal(TITLES.get(action, TITLES["redrive"]), [_section(text)])


def result_view(message: Message, *, action: str = "redrive") -> dict[str, Any]:
    """The outcome (a Block Kit message of bot.slack.blocks: already escaped) in the modal."""
    blocks = [b for b in message.get("blocks") or [] if isinstance(b, dict)]
    if not blocks:
        blocks = [_section(str(message.get("text") or "Done."))]
    return _modal(TITLES.get(action, TITLES["redrive"]), blocks)


def _channel(channel: str) -> str:
    """A channel mention, only for an id of letters, digits and ``_`` (a forged one, which
    could close the mention and open another, is shown inert)."""
    if re.fullmatch(r"\w+", channel, flags=re.ASCII):
        return f"<#{channel}>"
    return code(channel or "the configured channel", limit=100)
