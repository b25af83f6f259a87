"""The Slack endpoint: a Bolt app that verifies, parses, validates, acks and dispatches.

Bolt verifies every request's signature and timestamp (401 otherwise). Listeners only do pure
work before the ack: parse the command, check the channel, check a button's value; anything that
needs AWS or Slack afterwards becomes a typed job (``bot.slack.protocol``) that the dispatcher
seals and hands to the worker Lambda (``bot.slack.jobs``).

No network call happens while the app is built: the client is passed in and authorization is a
local function (no ``auth.test``).

Edit & resend (its form, the checks of a submitted body, the views.open client) is loaded by the
first Edit & resend click or modal submission, not at the cold start: few requests are either,
and each module loaded at import delays every container's first ack
(tests/deploy/test_handler_imports.py).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from slack_bolt import Ack, App, BoltRequest, BoltResponse, Respond
from slack_bolt.authorization import AuthorizeResult
from slack_sdk import WebClient

from bot.config import EngineSettings, SlackSettings
from bot.errors import DlqRedriveError, UsageError
from bot.slack import blocks
from bot.slack.button_values import ButtonValue, parse_button_value
from bot.slack.commands import HelpCommand, RedriveCommand, parse_command
from bot.slack.dispatch import JobDispatcher
from bot.slack.ids import SLASH_COMMAND, ActionId
from bot.slack.mrkdwn import code
from bot.slack.observability import logger
from bot.slack.protocol import (
    CommandJob,
    DecisionJob,
    EditOpenJob,
    EditSubmitJob,
    HomeJob,
    Job,
    MessageButtonJob,
    PeekViewJob,
    ReplyJob,
    ReportAction,
    ReportButtonJob,
    RequestCountJob,
    RequestOpenJob,
    RequestSubmitJob,
    delivery_key,
)
from bot.slack.workspace import InstalledWorkspace, request_enterprises, request_teams

if TYPE_CHECKING:
    from bot.slack.edit_endpoint import EditEndpoint
    from bot.slack.home_endpoint import HomeEndpoint
    from bot.slack.request_endpoint import RequestEndpoint

_REQUEST_ID = re.compile(r"^\d{8}-\d{6}-[0-9a-f]{6}$")
_ANY_ACTION = re.compile(r".*")
# A person's id in an Events API event (Slack's are U…/W… and capitals and digits; the local
# stand-ins' have underscores): the Home tab is published for it, so nothing else is handed on.
_EVENT_USER = re.compile(r"[A-Za-z0-9_]{2,40}")
# The request modal's inputs and Count button (request_form.REQUEST_FIELD_PREFIX and
# ActionId.REQUEST_COUNT share it): one rule routes them all.
_REQUEST_INPUT = re.compile(r"^dlq_redrive\.request_")
BOLT_LOGGER = "dlq_redrive.bolt"
# The daily report's buttons, and the worker's action for each.
_REPORT_ACTIONS: dict[str, ReportAction] = {
    ActionId.REPORT_REDRIVE: "redrive",
    ActionId.REPORT_PEEK: "peek",
    ActionId.REPORT_ERROR_REDRIVE: "error_redrive",
    ActionId.REPORT_ERROR_DISCARD: "error_discard",
    ActionId.REPORT_EXPIRING_REDRIVE: "expiring_redrive",
    ActionId.REPORT_EXPIRING_EXPORT: "expiring_export",
}


def _signature(request: BoltRequest) -> str:
    values = request.headers.get("x-slack-signature") or [""]
    return str(values[0])


def _text(value: Any) -> str:
    """A field of Slack's payload as a job's text (absent or null: empty)."""
    return "" if value is None else str(value)


def _origin(body: dict[str, Any], request: BoltRequest, now: datetime) -> dict[str, str]:
    """Who clicked, where, and this delivery of the click: the fields every button's job
    carries (the worker answers through ``response_url`` and drops a delivery it has seen)."""
    return {
        "user": _text(body.get("user", {}).get("id")),
        "channel": _text(body.get("channel", {}).get("id")),
        "team": _text(body.get("team", {}).get("id")),
        "response_url": _text(body.get("response_url")),
        "received_at": now.isoformat(),
        "delivery": delivery_key(_signature(request)),
    }


def _ack_message(ack: Ack, message: blocks.Message) -> None:
    ack(text=message["text"], blocks=message["blocks"], response_type="ephemeral")


def build_app(
    *,
    slack_settings: SlackSettings,
    engine_settings: EngineSettings,
    signing_secret: str,
    client: WebClient,
    dispatcher: JobDispatcher,
    bot_token: str | None = None,
    edits: Callable[[], EditEndpoint] | None = None,
    home: Callable[[], HomeEndpoint] | None = None,
    requests: Callable[[], RequestEndpoint] | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> App:
    """The Bolt app with every listener registered (once per cold start).

    ``bot_token``: the token Bolt puts in each request's context; None (as deployed): none, as
    no listener calls Slack through Bolt's client. ``edits``: makes Edit & resend, called on its
    first click or submission (None: its button and modal are answered as not set up).
    ``home``: makes the Home tab's Peek modal opener, called on its first click (None: Peek is
    not set up). ``requests``: makes the request modal's opener and checks, called on the first
    ``/dlq-redrive`` with no text (or ``redrive`` with no queue), Home tab Redrive…/Export…
    click, or modal request (None: the command answers with its usage, as before)."""

    def authorize(**_: Any) -> AuthorizeResult:
        # No token resolved for this: the ack path reads the bot token only for Edit & resend.
        return AuthorizeResult(enterprise_id=None, team_id=None, bot_token=bot_token)

    workspace = InstalledWorkspace.from_settings(slack_settings)
    app = App(
        signing_secret=signing_secret,
        client=client,
        authorize=authorize,
        process_before_response=True,
        token_verification_enabled=False,
        ignoring_self_events_enabled=False,
        logger=logging.getLogger(BOLT_LOGGER),
    )

    @app.use
    def only_the_installed_workspace(
        ack: Ack, body: dict[str, Any], respond: Respond, next_: Callable[[], None]
    ) -> BoltResponse | None:
        # Runs after Bolt's signature check and before every listener: a request from another
        # workspace is answered here and reaches no listener, so no work is dispatched (a
        # refused click's answer is a ReplyJob, as for other refused clicks: the ack path makes
        # no call to Slack).
        problem = workspace.refusal(body)
        if problem is None:
            next_()
            return None
        logger.warning(
            "request from another workspace refused",
            extra={"teams": request_teams(body), "enterprises": request_enterprises(body)},
        )
        if "command" in body:  # a slash command: the refusal is the HTTP answer (no network)
            answer = {"response_type": "ephemeral", "text": f":x: {problem}"}
            return BoltResponse(
                status=200, body=json.dumps(answer), headers={"content-type": "application/json"}
            )
        if body.get("response_url"):  # a button's ack carries no message: the worker answers
            _dispatch(
                ack, dispatcher, ReplyJob(_text(body["response_url"]), problem), respond=respond
            )
        return BoltResponse(status=200, body="")

    allowed = frozenset(slack_settings.allowed_channels)

    def channel_refusal(channel: str) -> str | None:
        if allowed and channel not in allowed:
            names = ", ".join(f"<#{c}>" for c in sorted(allowed))
            return f"/dlq-redrive is not enabled in this channel; use it in {names}."
        return None

    def checked_click(channel: str, action_id: str, action: dict[str, Any]) -> ButtonValue:
        """A button click's value, in a channel where the app is enabled; UsageError else."""
        problem = channel_refusal(channel)
        if problem:
            raise UsageError(problem)
        return parse_button_value(action_id, str(action.get("value", "")))

    @app.command(SLASH_COMMAND)
    def on_command(ack: Ack, command: dict[str, Any], request: BoltRequest) -> None:
        text = str(command.get("text") or "")
        problem = channel_refusal(str(command.get("channel_id", "")))
        if problem:  # our text, with channel links (blocks.error would show them as text)
            _ack_message(ack, blocks.notice(f":x: {problem}"))
            return
        if requests is not None and _opens_request_form(text):
            # The modal is the answer: the ack says something only if it could not be opened.
            opened = request_opened(
                _text(command.get("trigger_id")),
                user=_text(command.get("user_id")),
                team=_text(command.get("team_id")),
                channel=_text(command.get("channel_id")),
                queue="",
                action="redrive",
                request=request,
            )
            if isinstance(opened, str):
                _ack_message(ack, blocks.error(opened))
            else:
                ack()
            return
        try:
            parsed = parse_command(text)
            if isinstance(parsed, RedriveCommand):  # validate the selection before the ack
                parsed.selection.build(tz=engine_settings.timezone, now=clock())
        except UsageError as exc:
            _ack_message(ack, blocks.usage(str(exc)))
            return
        if isinstance(parsed, HelpCommand):
            _ack_message(ack, blocks.usage())
            return
        job = CommandJob(
            text=text,
            user=_text(command.get("user_id")),
            channel=_text(command.get("channel_id")),
            team=_text(command.get("team_id")),
            response_url=_text(command.get("response_url")),
            received_at=clock().isoformat(),
            delivery=delivery_key(_signature(request)),
        )
        if not _dispatch(ack, dispatcher, job):
            return
        if isinstance(parsed, RedriveCommand):
            _ack_message(
                ack,
                blocks.notice(
                    f":mag: Counting what would move from {code(parsed.queue)}… the approval card "
                    "will be posted in this channel."
                ),
            )
        else:
            ack()

    def on_decision(ack: Ack, body: dict[str, Any], request: BoltRequest, respond: Respond) -> None:
        ack()
        action = body["actions"][0]
        request_id = str(action.get("value", ""))
        response_url = _text(body.get("response_url"))
        job: Job = DecisionJob(
            decision="approve" if action.get("action_id") == ActionId.APPROVE else "reject",
            request_id=request_id,
            user=_text(body.get("user", {}).get("id")),
            channel=_text(body.get("channel", {}).get("id")),
            message_ts=_text(body.get("container", {}).get("message_ts")),
            team=_text(body.get("team", {}).get("id")),
            response_url=response_url,
            delivery=delivery_key(_signature(request)),
        )
        if not _REQUEST_ID.match(request_id):
            job = ReplyJob(response_url, "this button's value is not valid; nothing was changed")
        _dispatch(ack, dispatcher, job, respond=respond)

    def clicked(
        ack: Ack, body: dict[str, Any], respond: Respond, job_for: Callable[[str, ButtonValue], Job]
    ) -> None:
        # Every button with a value: ack, check the channel and the value (and whatever
        # ``job_for`` checks), then hand the job over; a refusal is answered to the clicker.
        ack()
        action = body["actions"][0]
        action_id = str(action.get("action_id", ""))
        job: Job
        try:
            value = checked_click(_text(body.get("channel", {}).get("id")), action_id, action)
            job = job_for(action_id, value)
        except UsageError as exc:
            job = ReplyJob(_text(body.get("response_url")), str(exc))
        _dispatch(ack, dispatcher, job, respond=respond)

    def on_report_button(
        ack: Ack, body: dict[str, Any], request: BoltRequest, respond: Respond
    ) -> None:
        def job_for(action_id: str, value: ButtonValue) -> Job:
            return ReportButtonJob(
                action=_REPORT_ACTIONS[action_id],
                queue=value.queue,
                date=value.date,
                time_field=value.time_field,
                **_origin(body, request, clock()),
                error=value.error,
                until=value.until,
            )

        clicked(ack, body, respond, job_for)

    def on_message_button(
        ack: Ack, body: dict[str, Any], request: BoltRequest, respond: Respond
    ) -> None:
        # A peeked message's Discard: its queue and id, checked here; the worker counts it
        # (is it still there?) and asks the approvers.
        def job_for(action_id: str, value: ButtonValue) -> Job:
            return MessageButtonJob(
                action="discard",
                queue=value.queue,
                message_id=value.message_id or "",
                **_origin(body, request, clock()),
            )

        clicked(ack, body, respond, job_for)

    def on_peek_edit(
        ack: Ack, body: dict[str, Any], request: BoltRequest, respond: Respond
    ) -> None:
        # Opens the loading modal now (the trigger_id lives three seconds); the worker reads
        # the message, if the clicker may read bodies, and fills the modal in.
        def job_for(action_id: str, value: ButtonValue) -> Job:
            if edits is None:
                raise UsageError("Edit & resend is not set up for this app")
            opened = edits().open_loading(_text(body.get("trigger_id")), value)
            return EditOpenJob(
                queue=value.queue,
                message_id=value.message_id or "",
                view_id=opened.id,
                view_hash=opened.hash,
                **_origin(body, request, clock()),
            )

        clicked(ack, body, respond, job_for)

    def on_edit_submission(ack: Ack, body: dict[str, Any], request: BoltRequest) -> None:
        # Checked before the ack: a refusal is shown on the body's field and nothing is sent.
        # Loaded here, by the first submission (see the module's docstring).
        from bot.slack.edit_endpoint import SubmissionRefusedError
        from bot.slack.edit_modal import submitted_view

        view = body.get("view") or {}
        try:
            if edits is None:
                raise SubmissionRefusedError("Edit & resend is not set up for this app")
            submission = edits().check(view, _text(body.get("user", {}).get("id")), clock())
            job = EditSubmitJob(
                form=submission.sealed,
                body=submission.body,
                view_id=_text(view.get("id")),
                user=_text(body.get("user", {}).get("id")),
                team=_text(body.get("team", {}).get("id")),
                received_at=clock().isoformat(),
                delivery=delivery_key(_signature(request)),
            )
            try:
                dispatcher.dispatch(job)
            except DlqRedriveError as exc:
                logger.error("dispatch failed", extra={"job": job.kind.value, "error": str(exc)})
                raise SubmissionRefusedError(_not_started(exc)) from exc
        except SubmissionRefusedError as exc:
            ack(response_action="errors", errors=exc.errors)
            return
        ack(response_action="update", view=submitted_view(submission.form.channel))

    def on_unknown_action(ack: Ack, body: dict[str, Any]) -> None:
        # Not a button this app renders: acknowledge (so Slack shows no error) and do nothing.
        ack()
        actions = body.get("actions") or [{}]
        logger.warning("unknown action ignored", extra={"action_id": actions[0].get("action_id")})

    app.action(ActionId.APPROVE.value)(on_decision)
    app.action(ActionId.REJECT.value)(on_decision)
    for report_action in _REPORT_ACTIONS:
        app.action(report_action)(on_report_button)
    app.action(ActionId.PEEK_DISCARD.value)(on_message_button)
    app.action(ActionId.PEEK_EDIT.value)(on_peek_edit)
    app.view(ActionId.EDIT_MODAL.value)(on_edit_submission)

    # --- the Home tab: its clicks carry no channel and no response_url ----------------------

    def handed_over(job: Job) -> str | None:
        """Hand ``job`` to the worker; None, or what to tell the person if that failed."""
        try:
            dispatcher.dispatch(job)
        except DlqRedriveError as exc:
            logger.error("dispatch failed", extra={"job": job.kind.value, "error": str(exc)})
            return _not_started(exc)
        return None

    def home_origin(body: dict[str, Any], request: BoltRequest) -> dict[str, str]:
        return {
            "user": _text(body.get("user", {}).get("id")),
            "team": _text(body.get("team", {}).get("id")),
            "received_at": clock().isoformat(),
            "delivery": delivery_key(_signature(request)),
        }

    def on_home_opened(
        event: dict[str, Any], body: dict[str, Any], request: BoltRequest
    ) -> BoltResponse | None:
        if event.get("tab") != "home":  # the Messages tab (the app's DM): nothing to publish
            return None
        user, team = _text(event.get("user")), _text(body.get("team_id"))
        if not _EVENT_USER.fullmatch(user):
            # No person to publish for: acked (a retry would be no better), nothing read.
            logger.warning("app_home_opened without a user id ignored")
            return None
        # Slack retries an event it got no 200 for within 3 s, signed anew each time (the
        # x-slack-retry-num header counts them): the event's id is what every copy shares. With
        # the person and team in the key, a copy naming someone else is never taken for a retry
        # (and that person's tab left unpublished).
        event_id = _text(body.get("event_id"))
        job = HomeJob(
            user=user,
            team=team,
            received_at=clock().isoformat(),
            delivery=delivery_key(
                f"event:{team}:{user}:{event_id}" if event_id else _signature(request)
            ),
            reason="opened",
        )
        if handed_over(job) is not None:
            # Not a 200: Slack delivers the event again (at most three more times).
            return BoltResponse(status=500, body="")
        return None

    def on_home_refresh(ack: Ack, body: dict[str, Any], request: BoltRequest) -> None:
        ack()  # a Home tab click has no response_url: a failure is only logged
        handed_over(HomeJob(**home_origin(body, request), reason="refresh"))

    def on_home_peek(ack: Ack, body: dict[str, Any], request: BoltRequest) -> None:
        # Opens the loading modal now (the trigger_id lives three seconds); the worker checks
        # who may read bodies, peeks and fills it in. Every refusal is said in a modal.
        ack()
        if home is None:
            logger.warning("Home tab peek is not set up")
            return
        trigger_id = _text(body.get("trigger_id"))
        try:
            value = parse_button_value(ActionId.HOME_PEEK, _text(body["actions"][0].get("value")))
        except UsageError as exc:
            home().refuse(trigger_id, str(exc))
            return
        try:
            opened = home().open_peek(trigger_id, value.queue)
        except UsageError:
            # Logged there. A trigger that opened nothing opens nothing else (spent, too old,
            # or Slack slow): a second views.open would only add its wait to the ack.
            return
        origin = home_origin(body, request)
        job = PeekViewJob(queue=value.queue, view_id=opened.id, view_hash=opened.hash, **origin)
        problem = handed_over(job)
        if problem is not None:
            home().show_problem(opened, problem)

    app.event("app_home_opened")(on_home_opened)
    app.action(ActionId.HOME_REFRESH.value)(on_home_refresh)
    app.action(ActionId.HOME_PEEK.value)(on_home_peek)

    # --- the request modal (bot.slack.request_endpoint, loaded on first use) ------------------

    def request_opened(
        trigger_id: str,
        *,
        user: str,
        team: str,
        channel: str,
        queue: str,
        action: Literal["redrive", "export"],
        request: BoltRequest,
    ) -> RequestOpenJob | str:
        """Open the loading request modal and hand the worker the job that fills it: the job,
        or what to tell the person if either failed (a modal that opened says it itself)."""
        assert requests is not None
        try:
            opened = requests().open_loading(trigger_id, action)
        except UsageError as exc:
            return str(exc)
        job = RequestOpenJob(
            view_id=opened.id,
            view_hash=opened.hash,
            user=user,
            team=team,
            channel=channel,
            queue=queue,
            action=action,
            received_at=clock().isoformat(),
            delivery=delivery_key(_signature(request)),
        )
        problem = handed_over(job)
        if problem is not None:
            requests().show_problem(opened, problem)
        return job

    def on_home_request(ack: Ack, body: dict[str, Any], request: BoltRequest) -> None:
        # The Home tab's Redrive… / Export…: the request modal with the DLQ and action preset.
        # The click has no response_url and no channel: a refusal is said in a modal, and the
        # card goes to the channel picked in the form.
        ack()
        if requests is None:
            logger.warning("the request modal is not set up")
            return
        trigger_id = _text(body.get("trigger_id"))
        action_id = _text(body["actions"][0].get("action_id"))
        try:
            value = parse_button_value(action_id, _text(body["actions"][0].get("value")))
        except UsageError as exc:
            requests().refuse(trigger_id, str(exc))
            return
        request_opened(
            trigger_id,
            user=_text(body.get("user", {}).get("id")),
            team=_text(body.get("team", {}).get("id")),
            channel="",
            queue=value.queue,
            action="export" if action_id == ActionId.HOME_EXPORT else "redrive",
            request=request,
        )

    def on_request_change(ack: Ack, body: dict[str, Any], request: BoltRequest) -> None:
        # An input of the request modal that dispatches, or its Count button: the worker counts
        # the form as it is now and shows it again (only the person's own request modal).
        ack()
        if requests is None:
            return
        from bot.slack.request_ticket import TicketRefusedError

        view = body.get("view") or {}
        user = _text(body.get("user", {}).get("id"))
        try:
            form = requests().changed(view, user, clock())
        except TicketRefusedError:
            return  # logged by the check; a forged or stale modal gets nothing
        handed_over(
            RequestCountJob(
                view_id=_text(view.get("id")),
                view_hash=_text(view.get("hash")),
                user=user,
                team=_text(body.get("team", {}).get("id")),
                form=form.to_json(),
                received_at=clock().isoformat(),
                delivery=delivery_key(_signature(request)),
            )
        )

    def on_request_submission(ack: Ack, body: dict[str, Any], request: BoltRequest) -> None:
        # Checked before the ack: a refusal is shown on its field and nothing is handed over.
        from bot.slack.request_endpoint import RequestRefusedError
        from bot.slack.request_form import submitted_view

        view = body.get("view") or {}
        user = _text(body.get("user", {}).get("id"))
        if requests is None:  # no request modal is ever opened then: nothing to check
            ack()
            return
        try:
            form = requests().check(view, user, clock(), channel_refusal)
            job = RequestSubmitJob(
                view_id=_text(view.get("id")),
                user=user,
                team=_text(body.get("team", {}).get("id")),
                form=form.to_json(),
                received_at=clock().isoformat(),
                # One request per modal: a second submission of the view (a double click, each
                # click signed anew) is the same delivery, dropped by the worker's claim.
                delivery=delivery_key(f"request_submit:{_text(view.get('id'))}"),
            )
            problem = handed_over(job)
            if problem is not None:
                raise requests().not_started(view, problem)
        except RequestRefusedError as exc:
            ack(response_action="errors", errors=exc.errors)
            return
        ack(
            response_action="update",
            view=submitted_view(form.channel or "", action=form.action),
        )

    app.action(ActionId.HOME_REDRIVE.value)(on_home_request)
    app.action(ActionId.HOME_EXPORT.value)(on_home_request)
    app.action(_REQUEST_INPUT)(on_request_change)
    app.view(ActionId.REQUEST_MODAL.value)(on_request_submission)
    app.action(_ANY_ACTION)(on_unknown_action)
    return app


def _dispatch(
    ack: Ack, dispatcher: JobDispatcher, job: Job, *, respond: Respond | None = None
) -> bool:
    """Hand ``job`` to the worker (sealed by the dispatcher). If that fails, say so: in the ack
    for a slash command, through ``response_url`` for a button (its ack carries no message).
    True when the job is on its way."""
    try:
        dispatcher.dispatch(job)
    except DlqRedriveError as exc:
        logger.error("dispatch failed", extra={"job": job.kind.value, "error": str(exc)})
        message = blocks.error(_not_started(exc))
        if respond is None:
            _ack_message(ack, message)
        else:
            respond(
                text=message["text"],
                blocks=message["blocks"],
                response_type="ephemeral",
                replace_original=False,
            )
        return False
    return True


def _opens_request_form(text: str) -> bool:
    """``/dlq-redrive`` with no text, or ``redrive`` with no queue nor flag: the request modal.
    (Read without the command grammar, which loads argparse: tests/deploy/test_handler_imports.)"""
    return text.split() in ([], ["redrive"])


def _not_started(exc: DlqRedriveError) -> str:
    return f"Could not start the work: {exc}. Try again in a moment."
