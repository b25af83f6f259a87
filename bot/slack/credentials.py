"""The Slack bot token and signing secret: from the environment, or from SSM SecureString
parameters read once through powertools Parameters and cached for the container's life."""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import SlackSettings
from bot.errors import ConfigError

# Parameters are fetched on first use, never at import; they stay cached this long (seconds).
PARAMETER_MAX_AGE_S = 3600


@dataclass(frozen=True)
class SlackCredentials:
    bot_token: str
    signing_secret: str


def _parameter(name: str) -> str:
    from aws_lambda_powertools.utilities import parameters

    try:
        value = parameters.get_parameter(name, decrypt=True, max_age=PARAMETER_MAX_AGE_S)
    except parameters.exceptions.GetParameterError as exc:
        raise ConfigError(f"cannot read SSM parameter {name!r}: {exc}") from exc
    if not isinstance(value, str) or not value:
        raise ConfigError(f"SSM parameter {name!r} is empty")
    return value


def resolve_credentials(settings: SlackSettings) -> SlackCredentials:
    """Plain values win; otherwise the named SSM parameters are read (once, then cached)."""
    token = settings.bot_token or _parameter(str(settings.bot_token_param))
    secret = settings.signing_secret or _parameter(str(settings.signing_secret_param))
    return SlackCredentials(bot_token=token, signing_secret=secret)
