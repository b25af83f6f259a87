"""Session fixtures: the artifact `make package` builds and the templates `osls package` writes.

Packaging runs with no AWS credentials at all (tooling.clean_env), as the issue requires, and with
secret-looking Slack values in the deployer's environment, to prove they never reach the template.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.deploy import tooling

# What a developer who ran the bot locally may still have exported when deploying.
DEPLOYER_SECRETS = {
    "SLACK_BOT_TOKEN": "xoxb-0000-deployer-token-must-not-leak",
    "SLACK_SIGNING_SECRET": "signing-secret-must-not-leak-0123456789",
}

# The parameters without a default (the report's channel, the installed workspace, the queues
# redriven messages may go back to), as docs/deploy.md passes them.
REQUIRED_PARAMS = (
    "reportChannel=C0REPORT",
    "slackTeamId=T0INSTALLED",
    "sourceNamePatterns=orders,payments.fifo",
)

# A stage packaged with every IAM-relevant parameter narrowed, as docs/deploy.md recommends.
NARROWED_PARAMS = (
    *REQUIRED_PARAMS,
    "timezone=Europe/Paris",
    "dlqNamePatterns=orders-dlq, payments-dlq.fifo",
    "slackBotTokenParam=team-bot-token",
    "slackSigningSecretParam=/team/signing-secret",
    "sqsKmsKeys=1234abcd-12ab-34cd-56ef-1234567890ab,"
    "arn:aws:kms:eu-west-1:111122223333:key/0987dcba-09fe-87dc-65ba-ab0987654321",
    "autoRedrive=orders-dlq",
    "slackReservedConcurrency=3",
    "slackEnterpriseId=E0GRID",
    "viewers=U0VIEWER,S0GROUP",
)

# A stage that lists its DLQs (a name, a URL, an ARN) and leaves dlqNamePatterns to follow them.
LISTED_PARAMS = (
    *REQUIRED_PARAMS,
    "dlqQueues=orders-dlq,https://sqs.eu-west-1.amazonaws.com/111122223333/payments-dlq.fifo,"
    "arn:aws:sqs:eu-west-1:111122223333:Billing_Retry",
)


@pytest.fixture(scope="session")
def artifact() -> Path:
    """build/dlq-redrive.zip, freshly built (serverless.yml deploys this file)."""
    return tooling.build_artifact()


@pytest.fixture(scope="session")
def template_path(artifact: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The CloudFormation template of the default stage, packaged without AWS credentials."""
    output = tmp_path_factory.mktemp("osls-default")
    return tooling.osls_package(output, *REQUIRED_PARAMS, env=DEPLOYER_SECRETS)


@pytest.fixture(scope="session")
def template(template_path: Path) -> dict[str, Any]:
    return tooling.load_template(template_path)


@pytest.fixture(scope="session")
def narrowed_template(artifact: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The template of a stage deployed with explicit --param values (NARROWED_PARAMS)."""
    output = tmp_path_factory.mktemp("osls-narrowed")
    return tooling.load_template(tooling.osls_package(output, *NARROWED_PARAMS))


@pytest.fixture(scope="session")
def listed_template(artifact: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The template of a stage that lists its DLQs in dlqQueues (LISTED_PARAMS)."""
    output = tmp_path_factory.mktemp("osls-listed")
    return tooling.load_template(tooling.osls_package(output, *LISTED_PARAMS))
