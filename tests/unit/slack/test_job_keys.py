"""Key rotation for signed jobs, without a server: the signer seals with the current key, opens
with the current or the previous one, and re-reads its keys once (not once per made-up event)
before refusing a job that neither opens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.config import SlackSettings
from bot.errors import ConfigError
from bot.slack.credentials import (
    AWSCURRENT,
    AWSPREVIOUS,
    RETRY_AFTER_ERROR_S,
    SecretKeys,
    resolve_job_signer,
)
from bot.slack.protocol import (
    KEY_REFRESH_COOLDOWN_S,
    ContinueJob,
    JobRejectedError,
    JobSigner,
    StaticKeys,
)

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
OLD = b"o" * 32
NEW = b"n" * 32
NEVER = b"x" * 32
JOB = ContinueJob(run_id="run-1", invocation=2)


class RotatingKeys:
    """A key source whose cache is stale: it answers the keys it read last until asked fresh,
    then the keys as they are now; counts the fresh reads."""

    def __init__(self, cached: tuple[bytes, ...], now: tuple[bytes, ...]) -> None:
        self.cached, self.now, self.fresh_reads = cached, now, 0

    def sealing_key(self) -> bytes:
        return self.cached[0]

    def opening_keys(self, *, fresh: bool = False) -> tuple[bytes, ...]:
        if fresh:
            self.fresh_reads += 1
            self.cached = self.now
        return self.cached


def _refused(signer: JobSigner, event: object, now: datetime = NOW) -> str:
    with pytest.raises(JobRejectedError) as refused:
        signer.open(event, now)
    return refused.value.reason


def test_a_signer_seals_with_the_current_key_and_opens_with_the_current_or_previous() -> None:
    signer = JobSigner(StaticKeys(NEW, OLD))
    assert JobSigner(NEW).open(signer.seal(JOB, NOW), NOW) == JOB  # sealed with the current
    assert signer.open(JobSigner(OLD).seal(JOB, NOW), NOW) == JOB  # sealed before the rotation
    assert signer.open(JobSigner(NEW).seal(JOB, NOW), NOW) == JOB


def test_a_job_sealed_with_a_key_that_was_never_current_is_refused() -> None:
    keys = RotatingKeys((NEW, OLD), (NEW, OLD))
    assert _refused(JobSigner(keys), JobSigner(NEVER).seal(JOB, NOW)) == "tampered"
    assert keys.fresh_reads == 1  # it looked for a newer key once, found none


def test_a_stale_container_re_reads_its_keys_once_and_opens_a_job_sealed_with_the_new_key() -> None:
    # Given a worker that read OLD before the rotation, and NEW current since
    keys = RotatingKeys((OLD,), (NEW, OLD))
    signer = JobSigner(keys)
    # When a job sealed with NEW (by an endpoint that read it already) arrives
    job = signer.open(JobSigner(NEW).seal(JOB, NOW), NOW)
    # Then it opens after one fresh read, and later jobs open without another
    assert job == JOB and keys.fresh_reads == 1
    assert signer.open(JobSigner(NEW).seal(JOB, NOW), NOW) == JOB
    assert signer.open(JobSigner(OLD).seal(JOB, NOW), NOW) == JOB
    assert keys.fresh_reads == 1
    # and it seals its own continuations with NEW from now on
    assert JobSigner(NEW).open(signer.seal(JOB, NOW), NOW) == JOB


def test_made_up_jobs_make_it_re_read_at_most_once_per_cooldown() -> None:
    keys = RotatingKeys((NEW, OLD), (NEW, OLD))
    signer = JobSigner(keys)
    forged = JobSigner(NEVER).seal(JOB, NOW)
    # When made-up jobs keep arriving
    for second in range(KEY_REFRESH_COOLDOWN_S):
        assert _refused(signer, forged, NOW + timedelta(seconds=second)) == "tampered"
    # Then the keys were read again once in the cooldown, and once more after it
    assert keys.fresh_reads == 1
    later = NOW + timedelta(seconds=KEY_REFRESH_COOLDOWN_S)
    assert _refused(signer, forged, later) == "tampered"
    assert keys.fresh_reads == 2
    # and a rotation found at a re-read is used at once, cooldown or not
    keys.now = (NEVER, NEW)
    assert signer.open(forged, later + timedelta(seconds=KEY_REFRESH_COOLDOWN_S)) == JOB


def test_a_signature_that_is_no_hmac_at_all_is_refused_without_reading_the_keys() -> None:
    keys = RotatingKeys((NEW,), (NEW,))
    sealed = JobSigner(NEW).seal(JOB, NOW)
    for sig in ("é" * 64, "A" * 64, sealed["sig"][:-1], ""):
        assert _refused(JobSigner(keys), {**sealed, "sig": sig}) == "tampered"
    assert keys.fresh_reads == 0


# --- the deployed key: Secrets Manager's AWSCURRENT and AWSPREVIOUS ----------------------------


class Secret:
    """A secret's labels as Secrets Manager keeps them (a label missing: no such version)."""

    def __init__(self, current: str) -> None:
        self.labels: dict[str, str] = {AWSCURRENT: current}
        self.reads: list[str] = []
        self.down = False

    def rotate(self, value: str) -> None:
        self.labels = {AWSCURRENT: value, AWSPREVIOUS: self.labels[AWSCURRENT]}

    def read(self, name: str, stage: str) -> str | None:
        self.reads.append(stage)
        if self.down:
            raise ConfigError(f"cannot read secret {name!r} ({stage}): throttled")
        return self.labels.get(stage)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_secret_keys_follow_a_rotation_within_their_cache_age() -> None:
    secret, clock = Secret("o" * 64), Clock()
    keys = SecretKeys("job-key", max_age_s=3600, read=secret.read, clock=clock)
    # A secret never rotated has no AWSPREVIOUS: one key
    assert keys.opening_keys() == (b"o" * 64,)
    secret.rotate("n" * 64)
    # Cached for the hour; re-read at once when asked fresh; alone after the hour
    assert keys.sealing_key() == b"o" * 64
    assert keys.opening_keys(fresh=True) == (b"n" * 64, b"o" * 64)
    keys2 = SecretKeys("job-key", max_age_s=3600, read=secret.read, clock=clock)
    assert keys2.sealing_key() == b"n" * 64
    secret.rotate("w" * 64)
    clock.now = 3600
    assert keys2.sealing_key() == b"w" * 64


def test_secret_keys_keep_the_cached_key_when_it_cannot_be_read_again() -> None:
    secret, clock = Secret("o" * 64), Clock()
    keys = SecretKeys("job-key", max_age_s=3600, read=secret.read, clock=clock)
    assert keys.opening_keys() == (b"o" * 64,)
    secret.down = True
    clock.now = 3600
    # Secrets Manager failing does not stop signing or opening: the cached key is used...
    assert keys.sealing_key() == b"o" * 64
    assert keys.opening_keys(fresh=True) == (b"o" * 64,)
    reads = len(secret.reads)
    assert keys.sealing_key() == b"o" * 64
    assert len(secret.reads) == reads  # ...and not asked for on every job
    secret.down = False
    secret.rotate("n" * 64)
    clock.now += RETRY_AFTER_ERROR_S
    assert keys.sealing_key() == b"n" * 64


def test_a_job_key_that_cannot_be_read_at_cold_start_stops_the_function() -> None:
    secret = Secret("o" * 64)
    secret.down = True
    with pytest.raises(ConfigError, match=r"job signing key is not usable.*throttled"):
        SecretKeys("job-key", read=secret.read).sealing_key()
    with pytest.raises(ConfigError, match="not usable"):
        SecretKeys("job-key", read=Secret("short").read).sealing_key()


def test_a_local_previous_key_opens_what_it_sealed() -> None:
    settings = SlackSettings.from_env(
        {
            "SLACK_BOT_TOKEN": "xoxb-1",
            "JOB_SIGNING_KEY": "n" * 32,
            "JOB_SIGNING_KEY_PREVIOUS": "o" * 32,
        }
    )
    signer = resolve_job_signer(settings)
    assert signer.open(JobSigner(OLD).seal(JOB, NOW), NOW) == JOB
    assert JobSigner(NEW).open(signer.seal(JOB, NOW), NOW) == JOB
    with pytest.raises(ConfigError, match="at least 32 bytes"):
        resolve_job_signer(
            SlackSettings.from_env(
                {
                    "SLACK_BOT_TOKEN": "x",
                    "JOB_SIGNING_KEY": "n" * 32,
                    "JOB_SIGNING_KEY_PREVIOUS": "o",
                }
            )
        )
