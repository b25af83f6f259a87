"""The Slack bot token, the signing secret and the job signing key: plain values from the
environment, or SSM SecureString parameters / a Secrets Manager secret read through powertools
Parameters and cached for an hour. Each is resolved on its own, so a function reads only what it
uses (only the endpoint reads the signing secret).

The job signing key is rotated in place (docs/deploy.md): ``SecretKeys`` reads it again when its
cache expires, and reads the version before it (AWSPREVIOUS) too, so jobs sealed on either side
of a rotation still open."""

from __future__ import annotations

import time
from collections.abc import Callable

from bot.config import SlackSettings
from bot.errors import ConfigError
from bot.slack.protocol import JobSigner, StaticKeys, check_key, job_signing_key

# Parameters are fetched on first use, never at import; they stay cached this long (seconds).
PARAMETER_MAX_AGE_S = 3600
# A key that could not be read again is used as cached and asked for again after this long.
RETRY_AFTER_ERROR_S = 60
AWSCURRENT = "AWSCURRENT"
AWSPREVIOUS = "AWSPREVIOUS"


def _parameter(name: str) -> str:
    from aws_lambda_powertools.utilities import parameters

    try:
        value = parameters.get_parameter(name, decrypt=True, max_age=PARAMETER_MAX_AGE_S)
    except parameters.exceptions.GetParameterError as exc:
        raise ConfigError(f"cannot read SSM parameter {name!r}: {exc}") from exc
    if not isinstance(value, str) or not value:
        raise ConfigError(f"SSM parameter {name!r} is empty")
    return value


def read_secret_version(name: str, stage: str) -> str | None:
    """The value of the version of secret ``name`` labelled ``stage``; None when no version has
    that label (a secret never rotated has no AWSPREVIOUS)."""
    from aws_lambda_powertools.utilities import parameters

    try:
        # force_fetch: powertools caches a secret by name alone, whatever the VersionStage, so
        # its cache would answer AWSPREVIOUS with AWSCURRENT; SecretKeys keeps its own cache.
        value = parameters.get_secret(name, force_fetch=True, VersionStage=stage)
    except parameters.exceptions.GetParameterError as exc:
        # powertools raises inside its except clause: the SDK's error is the context.
        response = getattr(exc.__context__, "response", None) or {}
        if stage != AWSCURRENT and response.get("Error", {}).get("Code") == (
            "ResourceNotFoundException"
        ):
            return None
        raise ConfigError(f"cannot read secret {name!r} ({stage}): {exc}") from exc
    if not isinstance(value, str) or not value:
        raise ConfigError(f"secret {name!r} ({stage}) is empty")
    return value


class SecretKeys:
    """The job signing key in Secrets Manager: AWSCURRENT seals; AWSCURRENT or AWSPREVIOUS opens
    (put-secret-value moves AWSPREVIOUS to the version that was current). Each label is read at
    most every ``max_age_s`` seconds, or at once when asked fresh; when a read fails, the cached
    key is kept (and asked for again after RETRY_AFTER_ERROR_S) rather than failing every job.
    The endpoint only seals, so it never reads AWSPREVIOUS."""

    def __init__(
        self,
        secret_id: str,
        *,
        max_age_s: float = PARAMETER_MAX_AGE_S,
        read: Callable[[str, str], str | None] = read_secret_version,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.secret_id = secret_id
        self._max_age_s = max_age_s
        self._read = read
        self._clock = clock
        self._cache: dict[str, tuple[float, bytes | None]] = {}  # label: (good until, key)

    def sealing_key(self) -> bytes:
        key = self._key(AWSCURRENT, fresh=False)
        assert key is not None  # _key raises rather than answer no current key
        return key

    def opening_keys(self, *, fresh: bool = False) -> tuple[bytes, ...]:
        current, previous = self._key(AWSCURRENT, fresh), self._key(AWSPREVIOUS, fresh)
        assert current is not None
        return (current,) if previous is None or previous == current else (current, previous)

    def _key(self, stage: str, fresh: bool) -> bytes | None:
        now = self._clock()
        cached = self._cache.get(stage)
        if cached is not None and not fresh and now < cached[0]:
            return cached[1]
        try:
            value = self._read(self.secret_id, stage)
            key = None if value is None else check_key(job_signing_key(value))
        except (ConfigError, ValueError) as exc:
            if cached is None and stage == AWSCURRENT:
                raise ConfigError(f"the job signing key is not usable: {exc}") from exc
            from bot.slack.observability import logger

            logger.warning("job signing key not re-read", extra={"stage": stage, "error": str(exc)})
            key = None if cached is None else cached[1]
            self._cache[stage] = (now + RETRY_AFTER_ERROR_S, key)
            return key
        self._cache[stage] = (now + self._max_age_s, key)
        return key


def resolve_bot_token(settings: SlackSettings) -> str:
    """The bot token only (the worker and the daily report never read the signing secret)."""
    return settings.bot_token or _parameter(str(settings.bot_token_param))


def lazy_bot_token(settings: SlackSettings) -> Callable[[], str]:
    """The bot token, read on the first call and then kept. The endpoint's: it needs the token
    only to open Edit & resend's modal, so its cold start reads none (and a function whose
    token cannot be read still verifies and hands on every other request)."""
    kept: list[str] = []

    def token() -> str:
        if not kept:
            kept.append(resolve_bot_token(settings))
        return kept[0]

    return token


def resolve_signing_secret(settings: SlackSettings) -> str:
    """The Slack signing secret: read by the endpoint alone, which cannot run without it."""
    if settings.signing_secret:
        return settings.signing_secret
    if not settings.signing_secret_param:
        raise ConfigError(
            "set SLACK_SIGNING_SECRET or SLACK_SIGNING_SECRET_PARAM (an SSM parameter name)"
        )
    return _parameter(settings.signing_secret_param)


def resolve_job_signer(settings: SlackSettings) -> JobSigner:
    """The signer of endpoint→worker jobs, or a ConfigError naming the variables. The current key
    is read now (a function that cannot sign fails at cold start, saying why)."""
    if settings.job_signing_key:
        previous = settings.job_signing_key_previous
        try:
            return JobSigner(
                StaticKeys(
                    job_signing_key(settings.job_signing_key),
                    None if previous is None else job_signing_key(previous),
                )
            )
        except ValueError as exc:
            raise ConfigError(f"the job signing key is not usable: {exc}") from exc
    if settings.job_signing_key_secret:
        keys = SecretKeys(settings.job_signing_key_secret)
        keys.sealing_key()
        return JobSigner(keys)
    raise ConfigError(
        "set JOB_SIGNING_KEY or JOB_SIGNING_KEY_SECRET (the key that signs worker jobs)"
    )
