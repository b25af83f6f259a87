"""The one place that reads configuration.

Everything is read from a mapping (``os.environ`` in production, a plain dict in tests) once, into
frozen dataclasses, and validated with an error that names the variable and the bad value. Nothing
else in ``bot/`` reads ``os.environ``: handlers call these loaders at cold start and pass the result
down.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.archive_location import s3_location
from bot.errors import ConfigError, UsageError
from bot.feeder_kinds import Kind

DEFAULT_SLACK_API_URL = "https://slack.com/api/"


def parse_timezone(value: str, *, name: str = "TIMEZONE") -> ZoneInfo:
    """Return the IANA zone ``value`` or raise ConfigError naming the variable."""
    text = value.strip()
    try:
        if not text or text.startswith(("/", ".")):
            raise ZoneInfoNotFoundError(text)
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"{name} {value!r} is not an IANA time zone (e.g. Europe/Paris)") from exc


def _int(
    env: Mapping[str, str], name: str, default: int, *, minimum: int, maximum: int | None = None
) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} {raw!r} is not a whole number") from exc
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ConfigError(f"{name} must be at most {maximum:,}, got {value:,}")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} {raw!r} is not a boolean (use true or false)")


def _share(env: Mapping[str, str], name: str, default: float) -> float:
    """A share between 0 and 1 (``0.1``: a tenth)."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} {raw!r} is not a number (a share, e.g. 0.1)") from exc
    if not 0.0 <= value < 1.0:  # also refuses nan; 1 would let every canary copy come back
        raise ConfigError(f"{name} must be a share from 0 to below 1, got {raw}")
    return value


def _bucket(env: Mapping[str, str], name: str) -> str | None:
    """An S3 bucket name, checked with S3's naming rules (``bot.archive_location``)."""
    raw = env.get(name, "").strip()
    if not raw:
        return None
    try:
        return s3_location(raw).bucket
    except UsageError as exc:
        raise ConfigError(f"{name}: {exc} (give the bucket's name, not an s3:// URL)") from exc


def _csv(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in env.get(name, "").split(",") if part.strip())


# A topic's, bus's, rule's or function's name, with IAM's wildcards (* any run, ? one character);
# "/" for a partner event bus ("aws.partner/...", EventBusName's pattern [/\.\-_A-Za-z0-9]+).
_GLOB = re.compile(r"[A-Za-z0-9_./*?-]+")


def _globs(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """Name globs (csv); ConfigError for anything no such name can match (an ARN, a space)."""
    globs = _csv(env, name)
    bad = [glob for glob in globs if not _GLOB.fullmatch(glob)]
    if bad:
        raise ConfigError(
            f"{name} {bad[0]!r} is not a name glob (letters, digits, - _ . / and the "
            "wildcards * and ?; give names, not ARNs)"
        )
    return globs


def _kinds(env: Mapping[str, str], name: str) -> frozenset[Kind]:
    """The kinds of DLQ feeders to discover: every kind when unset. SQS sources are always read
    (every DLQ is an SQS queue and its RedrivePolicy sources cost no extra right)."""
    given = _csv(env, name)
    if not given:
        return frozenset(Kind)
    known = {kind.value: kind for kind in Kind}
    unknown = [value for value in given if value.lower() not in known]
    if unknown:
        raise ConfigError(
            f"{name} names unknown kinds {', '.join(map(repr, unknown))} "
            f"(use a comma-separated list of {', '.join(known)})"
        )
    return frozenset({Kind.SQS, *(known[value.lower()] for value in given)})


@dataclass(frozen=True)
class EngineSettings:
    """What the engine, the CLI and every handler share.

    ``dlq_queues`` is ``None`` when every DLQ should be discovered (``DLQ_QUEUES`` unset or ``*``).
    """

    dlq_queues: tuple[str, ...] | None
    timezone: ZoneInfo
    max_redrives: int
    # ARCHIVE_BUCKET: the S3 bucket that discards and exports from Slack write to
    # (discards/<request id>/, exports/<request id>/); None: Slack refuses both.
    archive_bucket: str | None = None
    # The message attribute naming a message's error group (ERROR_ATTRIBUTE): the report's
    # groups and the --error selection (the report's buttons included) read it the same way.
    error_attribute: str | None = None
    # DLQ_KINDS: what besides SQS queues is read for the feeders of a DLQ (sns, events, lambda);
    # a deployment without the rights for a kind leaves it out (serverless.yml sets it).
    dlq_kinds: frozenset[Kind] = frozenset(Kind)
    # Whose feeders are read, as name globs (* and ?, as IAM's): the subscriptions of the topics
    # DLQ_SNS_TOPICS names, the targets of the rules DLQ_EVENT_RULES names on the buses
    # DLQ_EVENT_BUSES names, the functions DLQ_LAMBDA_FUNCTIONS names; empty: all. A deployment
    # gives the names its role may read, so one it may not is out of scope, not "not read".
    sns_topics: tuple[str, ...] = ()
    event_buses: tuple[str, ...] = ()
    event_rules: tuple[str, ...] = ()
    lambda_functions: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> EngineSettings:
        env = os.environ if env is None else env
        queues = _csv(env, "DLQ_QUEUES")
        if "*" in queues and len(queues) > 1:
            raise ConfigError("DLQ_QUEUES mixes '*' with queue names; use one or the other")
        return cls(
            dlq_queues=None if not queues or queues == ("*",) else queues,
            timezone=parse_timezone(env.get("TIMEZONE", "") or "UTC"),
            max_redrives=_int(env, "MAX_REDRIVES", 3, minimum=1),
            archive_bucket=_bucket(env, "ARCHIVE_BUCKET"),
            error_attribute=env.get("ERROR_ATTRIBUTE", "").strip() or None,
            dlq_kinds=_kinds(env, "DLQ_KINDS"),
            sns_topics=_globs(env, "DLQ_SNS_TOPICS"),
            event_buses=_globs(env, "DLQ_EVENT_BUSES"),
            event_rules=_globs(env, "DLQ_EVENT_RULES"),
            lambda_functions=_globs(env, "DLQ_LAMBDA_FUNCTIONS"),
        )


@dataclass(frozen=True)
class SlackSettings:
    """The Slack app's configuration (issue: the Slack app on Lambda)."""

    bot_token: str | None
    # Only the endpoint verifies Slack's requests, so only its builder requires the signing
    # secret (``resolve_signing_secret``); the worker and the daily report never read it.
    signing_secret: str | None
    bot_token_param: str | None
    signing_secret_param: str | None
    api_url: str
    approvers: tuple[str, ...]
    allow_self_approval: bool
    approval_ttl_minutes: int
    allowed_channels: tuple[str, ...]
    state_table: str | None
    worker_function: str | None = None  # WORKER_FUNCTION_NAME: the Lambda that runs slow work
    # The key that signs jobs from the endpoint to the worker: JOB_SIGNING_KEY (plain text, for
    # local runs) or JOB_SIGNING_KEY_SECRET (a Secrets Manager secret id, as deployed).
    # JOB_SIGNING_KEY_PREVIOUS: the plain key before JOB_SIGNING_KEY, still accepted (rotation).
    job_signing_key: str | None = None
    job_signing_key_previous: str | None = None
    job_signing_key_secret: str | None = None
    # The workspace (and Enterprise Grid org) the app is installed in: requests from any other
    # are refused. SLACK_TEAM_ID / SLACK_ENTERPRISE_ID.
    team_id: str | None = None
    enterprise_id: str | None = None
    # Who may read message bodies besides the approvers: user and user-group ids (VIEWERS).
    viewers: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SlackSettings:
        env = os.environ if env is None else env
        settings = cls(
            bot_token=env.get("SLACK_BOT_TOKEN") or None,
            signing_secret=env.get("SLACK_SIGNING_SECRET") or None,
            bot_token_param=env.get("SLACK_BOT_TOKEN_PARAM") or None,
            signing_secret_param=env.get("SLACK_SIGNING_SECRET_PARAM") or None,
            api_url=env.get("SLACK_API_URL") or DEFAULT_SLACK_API_URL,
            approvers=_csv(env, "APPROVERS"),
            allow_self_approval=_bool(env, "ALLOW_SELF_APPROVAL", False),
            approval_ttl_minutes=_int(env, "APPROVAL_TTL_MINUTES", 60, minimum=1),
            allowed_channels=_csv(env, "ALLOWED_CHANNELS"),
            state_table=env.get("STATE_TABLE") or None,
            worker_function=env.get("WORKER_FUNCTION_NAME") or None,
            job_signing_key=env.get("JOB_SIGNING_KEY") or None,
            job_signing_key_previous=env.get("JOB_SIGNING_KEY_PREVIOUS") or None,
            job_signing_key_secret=env.get("JOB_SIGNING_KEY_SECRET") or None,
            team_id=env.get("SLACK_TEAM_ID", "").strip() or None,
            enterprise_id=env.get("SLACK_ENTERPRISE_ID", "").strip() or None,
            viewers=_csv(env, "VIEWERS"),
        )
        if not settings.bot_token and not settings.bot_token_param:
            raise ConfigError(
                "set SLACK_BOT_TOKEN or SLACK_BOT_TOKEN_PARAM (an SSM parameter name)"
            )
        if not settings.api_url.startswith(("http://", "https://")):
            raise ConfigError(f"SLACK_API_URL {settings.api_url!r} is not an http(s) URL")
        return settings


# The report's scan keeps a receipt handle (about 1 KB) per sampled message until it releases
# them all, for each of the 8 DLQs read at once: at most 10,000 keeps that near 80 MB, and the
# scan of one DLQ within a few minutes of the function's 15.
MAX_REPORT_SAMPLE = 10_000
# The canary's wait comes out of the daily function's 15 minutes, which also read every DLQ and
# post the report: at most 10 minutes of it. A canary is a small first part of the day's run.
MAX_CANARY_WAIT_S = 600
MAX_CANARY_SIZE = 1_000


@dataclass(frozen=True)
class DailySettings:
    """The 06:00 report's configuration (issue: the daily DLQ report).

    ``auto_redrive`` is ``None`` for "every watched DLQ" (``*``), else the DLQ names (maybe empty).
    """

    report_channel: str
    auto_redrive: tuple[str, ...] | None
    report_when_empty: bool
    error_attribute: str | None
    # Judge "yesterday" by this JSON body field instead of SentTimestamp (AUTO_REDRIVE_TIME_FIELD).
    time_field: str | None = None
    # How many messages per DLQ are sampled for error groups, age and poison (REPORT_SAMPLE_SIZE).
    sample_size: int = 1000
    # The auto-redrive moves this many first and waits to see whether they come back to the DLQ
    # (a consumer still failing): DAILY_CANARY_SIZE (0: no canary), DAILY_CANARY_WAIT_S, and
    # DAILY_CANARY_MAX_RETURNED, the share of the canary that may come back before it stops.
    canary_size: int = 10
    canary_wait_s: int = 120
    canary_max_returned: float = 0.1

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> DailySettings:
        env = os.environ if env is None else env
        channel = env.get("REPORT_CHANNEL", "").strip()
        if not channel:
            raise ConfigError("REPORT_CHANNEL is not set (the Slack channel id for the report)")
        auto = _csv(env, "AUTO_REDRIVE")
        if "*" in auto and len(auto) > 1:
            raise ConfigError("AUTO_REDRIVE mixes '*' with queue names; use one or the other")
        return cls(
            report_channel=channel,
            auto_redrive=None if auto == ("*",) else auto,
            report_when_empty=_bool(env, "REPORT_WHEN_EMPTY", True),
            error_attribute=env.get("ERROR_ATTRIBUTE", "").strip() or None,
            time_field=env.get("AUTO_REDRIVE_TIME_FIELD", "").strip() or None,
            sample_size=_int(
                env, "REPORT_SAMPLE_SIZE", 1000, minimum=10, maximum=MAX_REPORT_SAMPLE
            ),
            canary_size=_int(env, "DAILY_CANARY_SIZE", 10, minimum=0, maximum=MAX_CANARY_SIZE),
            canary_wait_s=_int(
                env, "DAILY_CANARY_WAIT_S", 120, minimum=0, maximum=MAX_CANARY_WAIT_S
            ),
            canary_max_returned=_share(env, "DAILY_CANARY_MAX_RETURNED", 0.1),
        )


# A quiet period longer than a week would hide a DLQ that refilled for days; a day of minutes
# is already more than any team waits between two looks at a failing consumer.
MAX_ALERT_QUIET_MINUTES = 7 * 24 * 60


@dataclass(frozen=True)
class AlertSettings:
    """The alerts between reports (issue 14): when a DLQ starts filling, a message in a channel.

    A check alerts a DLQ holding at least ``threshold`` messages, or grown by at least ``growth``
    since the last check; it does not alert the same DLQ again at the top level for
    ``quiet_minutes`` after its alert (growth goes into the alert's thread meanwhile).
    """

    channel: str
    threshold: int = 1
    growth: int = 10
    quiet_minutes: int = 60

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AlertSettings:
        env = os.environ if env is None else env
        channel = env.get("ALERT_CHANNEL", "").strip() or env.get("REPORT_CHANNEL", "").strip()
        if not channel:
            raise ConfigError(
                "set ALERT_CHANNEL or REPORT_CHANNEL (the Slack channel id alerts go to)"
            )
        return cls(
            channel=channel,
            threshold=_int(env, "ALERT_THRESHOLD", 1, minimum=1),
            growth=_int(env, "ALERT_GROWTH", 10, minimum=1),
            quiet_minutes=_int(
                env, "ALERT_QUIET_MINUTES", 60, minimum=1, maximum=MAX_ALERT_QUIET_MINUTES
            ),
        )
