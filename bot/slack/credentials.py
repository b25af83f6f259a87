"""The Slack bot token, the signing secret and the job signing key: plain values from the
environment, or SSM SecureString parameters / a Secrets Manager secret read once through
powertools Parameters and cached for the container's life. Each is resolved on its own, so a
function reads only what it uses (only the endpoint reads the signing secret)."""

from __future__ import annotations

from bot.config import SlackSettings
from bot.errors import ConfigError
from bot.slack.protocol import JobSigner, job_signing_key

# Parameters are fetched on first use, never at import; they stay cached this long (seconds).
PARAMETER_MAX_AGE_S = 3600


def _parameter(name: str) -> str:
    from aws_lambda_powertools.utilities import parameters

    try:
        value = parameters.get_parameter(name, decrypt=True, max_age=PARAMETER_MAX_AGE_S)
    except parameters.exceptions.GetParameterError as exc:
        raise ConfigError(f"cannot read SSM parameter {name!r}: {exc}") from exc
    if not isinstance(value, str) or not value:
        raise ConfigError(f"SSM parameter {name!r} is empty")
    return value


def _secret(name: str) -> str:
    from aws_lambda_powertools.utilities import parameters

    try:
        value = parameters.get_secret(name, max_age=PARAMETER_MAX_AGE_S)
    except parameters.exceptions.GetParameterError as exc:
        raise ConfigError(f"cannot read secret {name!r}: {exc}") from exc
    if not isinstance(value, str) or not value:
        raise ConfigError(f"secret {name!r} is empty")
    return value


def resolve_bot_token(settings: SlackSettings) -> str:
    """The bot token only (the worker and the daily report never read the signing secret)."""
    return settings.bot_token or _parameter(str(settings.bot_token_param))


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
    """The signer of endpoint→worker jobs, or a ConfigError naming the variables."""
    if settings.job_signing_key:
        raw = settings.job_signing_key
    elif settings.job_signing_key_secret:
        raw = _secret(settings.job_signing_key_secret)
    else:
        raise ConfigError(
            "set JOB_SIGNING_KEY or JOB_SIGNING_KEY_SECRET (the key that signs worker jobs)"
        )
    try:
        return JobSigner(job_signing_key(raw))
    except ValueError as exc:
        raise ConfigError(f"the job signing key is not usable: {exc}") from exc
