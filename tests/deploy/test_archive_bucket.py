"""The archive bucket (issue 12, deployment): where discards and exports from Slack are written.

Given serverless.yml packaged offline three ways (the default stage, which creates the bucket with
SSE-S3; a stage with a customer managed KMS key and a 30-day retention; a stage that names an
existing bucket), these tests read the template as CloudFormation deploys it (its conditions
decided) and check what a reviewer would: the bucket is encrypted, private, TLS-only, versioned and
emptied by its lifecycle; each role may do with it exactly what its function does (the worker puts
objects under discards/ and exports/, nobody reads, lists or deletes); the code agrees; bad
settings stop packaging; cfn-lint and checkov stay clean on every shape.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.config import MAX_CANARY_SIZE, MAX_CANARY_WAIT_S, DailySettings
from tests.deploy import tooling
from tests.deploy.conftest import REQUIRED_PARAMS
from tests.deploy.test_issue11_privilege_attacks import run_node
from tests.deploy.test_least_privilege import calls, code_of
from tests.deploy.test_scanners import run_checkov
from tests.deploy.test_template import (
    HANDLERS,
    SUB_PREFIX,
    Template,
    as_list,
    condition_holds,
    function,
    granted,
    resolved,
    role_of,
    statements,
)
from tests.deploy.tooling import ROOT, package_refused

KMS_KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
KMS_KEY_ARN = "arn:aws:kms:eu-west-1:111122223333:key/0987dcba-09fe-87dc-65ba-ab0987654321"
# A stage with its own KMS key for the archive, a shorter retention and its own daily canary.
KMS_PARAMS = (
    *REQUIRED_PARAMS,
    f"archiveKmsKey={KMS_KEY_ID}",
    "archiveRetentionDays=30",
    "dailyCanarySize=0",
    "dailyCanaryWaitS=600",
    "dailyCanaryMaxReturned=0.25",
)
# A stage whose archive is a bucket it does not own (encrypted with a key of another account).
NAMED_PARAMS = (*REQUIRED_PARAMS, "archiveBucket=team-archive.eu", f"archiveKmsKey={KMS_KEY_ARN}")
# The archive's two prefixes (bot/slack: discards/<request_id>/, exports/<request_id>/).
PREFIXES = ("discards/*", "exports/*")


@pytest.fixture(scope="module")
def kms_template_path(artifact: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tooling.osls_package(tmp_path_factory.mktemp("osls-archive-kms"), *KMS_PARAMS)


@pytest.fixture(scope="module")
def named_template_path(artifact: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tooling.osls_package(tmp_path_factory.mktemp("osls-archive-named"), *NAMED_PARAMS)


@pytest.fixture(scope="module")
def kms_template(kms_template_path: Path) -> Template:
    return tooling.load_template(kms_template_path)


@pytest.fixture(scope="module")
def named_template(named_template_path: Path) -> Template:
    return tooling.load_template(named_template_path)


def deployed_resources(template: Template, kind: str) -> dict[str, Any]:
    """The resources of ``kind`` CloudFormation creates (their Condition decided), as deployed."""
    return {
        logical_id: resolved(template, resource)
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == kind
        and ("Condition" not in resource or condition_holds(template, resource["Condition"]))
    }


def archive_bucket(template: Template) -> dict[str, Any]:
    """The one bucket the stack creates besides osls's deployment bucket."""
    buckets = deployed_resources(template, "AWS::S3::Bucket")
    buckets.pop("ServerlessDeploymentBucket")
    assert list(buckets) == ["ArchiveBucket"]
    bucket: dict[str, Any] = buckets["ArchiveBucket"]
    return bucket


def s3_actions(role: dict[str, Any]) -> set[str]:
    return {a for s in statements(role) for a in as_list(s["Action"]) if a.startswith("s3:")}


def env_of(template: Template, handler: str) -> dict[str, Any]:
    variables: dict[str, Any] = resolved(
        template, function(template, handler)["Environment"]["Variables"]
    )
    return variables


# --- the bucket ---------------------------------------------------------------------------------


def test_by_default_the_stack_creates_a_private_encrypted_versioned_bucket(
    template: Template,
) -> None:
    # Given the default stage (no archiveBucket, no archiveKmsKey)
    bucket = archive_bucket(template)
    props = bucket["Properties"]
    # Then it is encrypted at rest with SSE-S3
    assert props["BucketEncryption"] == {
        "ServerSideEncryptionConfiguration": [
            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
        ]
    }
    # And no ACL, no policy can make any of it public
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    # And versioned, kept when the stack is deleted (it holds what was discarded), and named by
    # CloudFormation (bucket names are global: a fixed one could already be taken)
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert bucket["DeletionPolicy"] == bucket["UpdateReplacePolicy"] == "Retain"
    assert "BucketName" not in props


def test_with_archive_kms_key_the_bucket_is_encrypted_with_that_key(
    template: Template, kms_template: Template
) -> None:
    # Given a stage with archiveKmsKey set to a key id
    props = archive_bucket(kms_template)["Properties"]
    # Then the bucket's default encryption is aws:kms with that key, one data key per bucket
    assert props["BucketEncryption"] == {
        "ServerSideEncryptionConfiguration": [
            {
                "ServerSideEncryptionByDefault": {
                    "SSEAlgorithm": "aws:kms",
                    "KMSMasterKeyID": {"Ref": "ArchiveKmsKey"},
                },
                "BucketKeyEnabled": True,
            }
        ]
    }
    assert kms_template["Parameters"]["ArchiveKmsKey"]["Default"] == KMS_KEY_ID
    assert template["Parameters"]["ArchiveKmsKey"]["Default"] == ""


def lifecycle(template: Template) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = archive_bucket(template)["Properties"]["LifecycleConfiguration"][
        "Rules"
    ]
    return rules


@pytest.mark.parametrize(("stage", "days"), [("default", 90), ("kms", 30)])
def test_archives_expire_after_archive_retention_days(
    template: Template, kms_template: Template, stage: str, days: int
) -> None:
    # Given the default stage (90 days) and one with archiveRetentionDays=30
    rules = lifecycle(template if stage == "default" else kms_template)
    # Then every object (no filter) expires that many days after it was written, its data is
    # removed for good 7 days later (a noncurrent version), and leftovers are cleaned up
    assert rules == [
        {
            "Id": "expire-archives",
            "Status": "Enabled",
            "ExpirationInDays": days,
            "NoncurrentVersionExpiration": {"NoncurrentDays": 7},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
        },
        {
            "Id": "remove-expired-delete-markers",
            "Status": "Enabled",
            "ExpiredObjectDeleteMarker": True,
        },
    ]


def test_the_bucket_policy_refuses_every_request_without_tls(template: Template) -> None:
    # Given the bucket policies the stack creates
    policies = {
        p["Properties"]["Bucket"]["Ref"]: p["Properties"]["PolicyDocument"]
        for p in deployed_resources(template, "AWS::S3::BucketPolicy").values()
    }
    # Then the archive's denies any action, by anyone, on the bucket and every object, when the
    # request did not come over TLS; and allows nothing (rights are the roles')
    assert policies["ArchiveBucket"]["Statement"] == [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [
                {"Fn::GetAtt": ["ArchiveBucket", "Arn"]},
                {"Fn::Sub": "${ArchiveBucket.Arn}/*"},
            ],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    ]


def test_a_stage_that_names_an_existing_bucket_creates_none_and_uses_that_one(
    named_template: Template,
) -> None:
    # Given archiveBucket=team-archive.eu
    # Then the stack creates no bucket and no bucket policy of its own (the bucket is its owner's)
    buckets = deployed_resources(named_template, "AWS::S3::Bucket")
    assert set(buckets) == {"ServerlessDeploymentBucket"}
    policies = deployed_resources(named_template, "AWS::S3::BucketPolicy")
    assert [p["Properties"]["Bucket"] for p in policies.values()] == [
        {"Ref": "ServerlessDeploymentBucket"}
    ]
    # And every function is told that bucket, and the output names it
    for handler in HANDLERS:
        assert env_of(named_template, handler)["ARCHIVE_BUCKET"] == "team-archive.eu", handler
    output = resolved(named_template, named_template["Outputs"]["ArchiveBucketName"]["Value"])
    assert output == {"Ref": "ArchiveBucketName"}
    assert named_template["Parameters"]["ArchiveBucketName"]["Default"] == "team-archive.eu"


def test_every_function_is_told_the_created_bucket(template: Template) -> None:
    for handler in HANDLERS:
        assert env_of(template, handler)["ARCHIVE_BUCKET"] == {"Ref": "ArchiveBucket"}, handler
    assert resolved(template, template["Outputs"]["ArchiveBucketName"]["Value"]) == {
        "Ref": "ArchiveBucket"
    }


# --- who may do what with it -------------------------------------------------------------------


def object_arns(bucket: str | None) -> list[str]:
    """The ARNs of the two archive prefixes: of the created bucket, or of the one named."""
    if bucket is None:
        return [f"${{ArchiveBucket.Arn}}/{prefix}" for prefix in PREFIXES]
    return [f"{SUB_PREFIX}:s3:::{bucket}/{prefix}" for prefix in PREFIXES]


@pytest.mark.parametrize("stage", ["default", "kms", "named"])
def test_the_worker_may_only_put_objects_under_discards_and_exports(
    template: Template, kms_template: Template, named_template: Template, stage: str
) -> None:
    stack, bucket = {
        "default": (template, None),
        "kms": (kms_template, None),
        "named": (named_template, "team-archive.eu"),
    }[stage]
    # Given the worker's role as deployed
    _, worker = role_of(stack, "handlers/worker.handler")
    # Then its one S3 right is PutObject, on the two prefixes of the archive bucket alone
    assert s3_actions(worker) == {"s3:PutObject"}
    assert [r["Fn::Sub"] for r in granted(worker, "s3:PutObject")] == object_arns(bucket)
    putting = [s for s in statements(worker) if "s3:PutObject" in as_list(s["Action"])]
    assert [as_list(s["Action"]) for s in putting] == [["s3:PutObject"]]
    assert all(s["Effect"] == "Allow" and "Condition" not in s for s in putting)


@pytest.mark.parametrize("stage", ["default", "kms", "named"])
def test_no_other_role_has_any_s3_right_and_nobody_reads_lists_or_deletes(
    template: Template, kms_template: Template, named_template: Template, stage: str
) -> None:
    stack = {"default": template, "kms": kms_template, "named": named_template}[stage]
    # The endpoint, the daily job (it writes no archive) and `failed`: no S3 at all
    for handler in ("handlers/slack.handler", "handlers/daily.handler", "handlers/failed.handler"):
        _, role = role_of(stack, handler)
        assert s3_actions(role) == set(), handler
    # And no role of the stack (the scheduler's included) may get, list or delete an object
    for logical_id, role in deployed_resources(stack, "AWS::IAM::Role").items():
        actions = {a for s in statements(role) for a in as_list(s["Action"])}
        assert not {a for a in actions if a.startswith("s3:")} - {"s3:PutObject"}, logical_id


def kms_via_s3(role: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        s
        for s in statements(role)
        if any(a.startswith("kms:") for a in as_list(s["Action"]))
        and "s3." in json.dumps(s.get("Condition", {}))
    ]


def test_only_the_worker_may_use_the_archive_key_and_only_through_s3(
    template: Template, kms_template: Template, named_template: Template
) -> None:
    via_s3 = {"StringEquals": {"kms:ViaService": {"Fn::Sub": "s3.${AWS::Region}.amazonaws.com"}}}
    key_by_id = {
        "Fn::Sub": f"{SUB_PREFIX}:kms:${{AWS::Region}}:${{AWS::AccountId}}:key/${{ArchiveKmsKey}}"
    }
    # Given the stages with an archive key (an id here, an ARN of another account there)
    for stack, key in ((kms_template, key_by_id), (named_template, KMS_KEY_ARN)):
        _, worker = role_of(stack, "handlers/worker.handler")
        # Then the worker may have S3 make a data key with it to write, nothing else
        assert kms_via_s3(worker) == [
            {
                "Effect": "Allow",
                "Action": ["kms:GenerateDataKey"],
                "Resource": [key],
                "Condition": via_s3,
            }
        ]
        for handler in HANDLERS[:1] + HANDLERS[2:]:
            assert kms_via_s3(role_of(stack, handler)[1]) == [], handler
    # And without archiveKmsKey (SSE-S3) nobody gets any key through S3
    for handler in HANDLERS:
        assert kms_via_s3(role_of(template, handler)[1]) == [], handler


# The S3 calls a function's code may make, and the IAM action each needs.
S3_CALLS = {
    "put_object": "s3:PutObject",
    "upload_file": "s3:PutObject",
    "upload_fileobj": "s3:PutObject",
    "get_object": "s3:GetObject",
    "download_file": "s3:GetObject",
    "download_fileobj": "s3:GetObject",
    "head_object": "s3:GetObject",
    "list_objects": "s3:ListBucket",
    "list_objects_v2": "s3:ListBucket",
    "delete_object": "s3:DeleteObject",
    "delete_objects": "s3:DeleteObject",
    "copy_object": "s3:PutObject",
    "create_multipart_upload": "s3:PutObject",
}


def s3_calls_reached(handler: str) -> set[str]:
    """The S3 actions of the calls in the code the handler can reach (imports followed, as
    test_least_privilege reads them)."""
    return {
        S3_CALLS[name]
        for nodes in code_of(handler).values()
        for node in nodes
        for name, _ in calls(ast.Module(body=[node], type_ignores=[]), set(S3_CALLS))
    }


@pytest.mark.parametrize(
    ("handler", "needed"),
    [
        ("handlers/worker.handler", {"s3:PutObject"}),  # bot/s3_gateway.py's S3Archive
        ("handlers/slack.handler", set()),
        ("handlers/daily.handler", set()),
    ],
)
def test_a_role_has_the_s3_actions_its_code_calls_and_no_other(
    template: Template, handler: str, needed: set[str]
) -> None:
    # Given every S3 call in the code the handler can reach
    used = s3_calls_reached(handler)
    # Then its role allows exactly those: a call it could not make would fail in production, a
    # right its code never uses is not kept
    _, role = role_of(template, handler)
    assert used == s3_actions(role) == needed


def test_the_failed_function_writes_no_archive(template: Template) -> None:
    # `failed` builds the worker's wiring (bot.composition.build_failure_router) to apply the
    # worker's failure rules, so the archive's writer is within its reach; but its own code (the
    # failure rules and the router) makes no S3 call
    own = [
        ROOT / "handlers" / "failed.py",
        ROOT / "bot" / "failure_routing.py",
        *ROOT.glob("bot/*/failures.py"),
    ]
    assert len(own) == 4
    for path in own:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        assert calls(tree, set(S3_CALLS)) == [], path
    # And its role has no S3 right: were a failure rule to archive, it would be refused
    _, failed = role_of(template, "handlers/failed.handler")
    assert s3_actions(failed) == set()


# --- settings ----------------------------------------------------------------------------------


def test_the_daily_canary_settings_are_stack_parameters(
    template: Template, kms_template: Template
) -> None:
    for handler in HANDLERS:
        env = env_of(template, handler)
        assert (env["DAILY_CANARY_SIZE"], env["DAILY_CANARY_WAIT_S"]) == ("10", "120"), handler
        assert env["DAILY_CANARY_MAX_RETURNED"] == "0.1", handler
    env = env_of(kms_template, "handlers/daily.handler")
    assert (env["DAILY_CANARY_SIZE"], env["DAILY_CANARY_WAIT_S"]) == ("0", "600")
    assert env["DAILY_CANARY_MAX_RETURNED"] == "0.25"
    # And the stack's defaults are the daily job's own (a stage deployed without them behaves
    # as the code says it does by default), read through the same settings class
    deployed = DailySettings.from_env(env_of(template, "handlers/daily.handler"))
    defaults = DailySettings.from_env({"REPORT_CHANNEL": "C0REPORT"})
    assert (deployed.canary_size, deployed.canary_wait_s, deployed.canary_max_returned) == (
        defaults.canary_size,
        defaults.canary_wait_s,
        defaults.canary_max_returned,
    )


def test_the_daily_function_has_time_for_the_longest_canary_wait(template: Template) -> None:
    # The canary waits inside one invocation: the longest wait packaging accepts (600 s) leaves
    # the daily function (900 s, Lambda's maximum) five minutes for the report and the rest
    assert function(template, "handlers/daily.handler")["Timeout"] == 900


# Every archive and canary setting through infra/params.js / infra/iam/arns.js exactly as osls
# calls them; the answer (the resolved value) or the error.
RESOLVE_SETTING = """
const [name, value] = JSON.parse(process.argv[2]);
const params = { archiveBucket: '', archiveKmsKey: '' };
params[{ givenArchiveBucket: 'archiveBucket', givenArchiveKmsKey: 'archiveKmsKey' }[name] || name] =
  value;
const resolveVariable = async (variable) => params[variable.replace(/^param:/, '')];
require(process.argv[1])[name]({ resolveVariable })
  .then((answer) => console.log(JSON.stringify({ value: answer })))
  .catch((error) => console.log(JSON.stringify({ error: error.message })));
"""


def resolve_setting(module: str, name: str, raw: str) -> dict[str, Any]:
    return run_node(RESOLVE_SETTING, module, json.dumps([name, raw]))


@pytest.mark.parametrize(
    ("module", "name", "raw", "value"),
    [
        ("infra/params.js", "archiveRetentionDays", "90", 90),
        ("infra/params.js", "archiveRetentionDays", " 1 ", 1),
        ("infra/params.js", "archiveRetentionDays", "3650", 3650),
        ("infra/params.js", "dailyCanarySize", "0", "0"),
        ("infra/params.js", "dailyCanarySize", "1000", "1000"),
        ("infra/params.js", "dailyCanaryWaitS", "0", "0"),
        ("infra/params.js", "dailyCanaryWaitS", "600", "600"),
        ("infra/params.js", "dailyCanaryMaxReturned", "0", "0"),
        ("infra/params.js", "dailyCanaryMaxReturned", "0.10", "0.1"),
        ("infra/params.js", "dailyCanaryMaxReturned", "1", "1"),
        ("infra/params.js", "givenArchiveBucket", "", ""),
        ("infra/params.js", "givenArchiveBucket", "team-archive.eu", "team-archive.eu"),
        ("infra/params.js", "givenArchiveBucket", "a1b", "a1b"),
        ("infra/iam/arns.js", "givenArchiveKmsKey", KMS_KEY_ID, KMS_KEY_ID),
        ("infra/iam/arns.js", "givenArchiveKmsKey", KMS_KEY_ARN, KMS_KEY_ARN),
        ("infra/iam/arns.js", "givenArchiveKmsKey", "mrk-" + "a" * 32, "mrk-" + "a" * 32),
    ],
)
def test_archive_and_canary_settings_in_range_are_taken(
    module: str, name: str, raw: str, value: Any
) -> None:
    assert resolve_setting(module, name, raw) == {"value": value}


@pytest.mark.parametrize(
    ("module", "name", "raw", "message"),
    [
        *(
            ("infra/params.js", "archiveRetentionDays", raw, "from 1 to 3650")
            for raw in ("0", "3651", "90d", "-1", "1e2", "")
        ),
        *(
            ("infra/params.js", "dailyCanarySize", raw, "from 0 to 1000")
            for raw in ("-1", "1001", "ten", "2.5")
        ),
        *(
            ("infra/params.js", "dailyCanaryWaitS", raw, "from 0 to 600")
            for raw in ("-1", "601", "900", "60s")
        ),
        *(
            ("infra/params.js", "dailyCanaryMaxReturned", raw, "share from 0 to 1")
            for raw in ("1.5", "10%", "-0.1", "1e-1", ".5", "")
        ),
        # Not a bucket name: a URL, an IAM wildcard, capitals, a CloudFormation substitution,
        # too short, an IP address, adjacent dots, a reserved prefix or suffix
        *(
            ("infra/params.js", "givenArchiveBucket", raw, "is not an S3 bucket name")
            for raw in (
                "s3://team-archive",
                "team-*",
                "Team-Archive",
                "${AWS::AccountId}-archive",
                "ab",
                "192.168.1.10",
                "team..archive",
                "xn--archive",
                "archive-s3alias",
                "team-archive/discards",
            )
        ),
        # An alias, a wildcard, anything but one key
        *(
            ("infra/iam/arns.js", "givenArchiveKmsKey", raw, "is not a KMS key id or key ARN")
            for raw in ("alias/aws/s3", "*", "arn:aws:kms:eu-west-1:111122223333:key/*", "key")
        ),
    ],
)
def test_archive_and_canary_settings_out_of_range_stop_packaging(
    module: str, name: str, raw: str, message: str
) -> None:
    answer = resolve_setting(module, name, raw)
    assert message in answer.get("error", ""), answer


@pytest.mark.parametrize(
    ("name", "maximum", "minimum"),
    [("dailyCanarySize", MAX_CANARY_SIZE, 0), ("dailyCanaryWaitS", MAX_CANARY_WAIT_S, 0)],
)
def test_packaging_takes_the_canary_settings_bot_config_takes(
    name: str, maximum: int, minimum: int
) -> None:
    # Given bot/config.py's bounds (DailySettings refuses anything outside them at cold start)
    # Then packaging takes exactly the same range: no stack that cannot start, no refused value
    # the functions would take
    assert resolve_setting("infra/params.js", name, str(maximum)) == {"value": str(maximum)}
    assert resolve_setting("infra/params.js", name, str(minimum)) == {"value": str(minimum)}
    assert "error" in resolve_setting("infra/params.js", name, str(maximum + 1))
    assert "error" in resolve_setting("infra/params.js", name, str(minimum - 1))


@pytest.mark.parametrize(
    ("param", "message"),
    [
        ("archiveRetentionDays=0", "archiveRetentionDays must be a whole number from 1 to 3650"),
        ("archiveBucket=s3://team-archive", 'archiveBucket "s3://team-archive" is not an S3'),
        ("archiveKmsKey=alias/aws/s3", 'archiveKmsKey "alias/aws/s3" is not a KMS key id'),
        ("dailyCanaryWaitS=900", "dailyCanaryWaitS must be a whole number from 0 to 600"),
    ],
)
def test_osls_package_stops_on_a_bad_archive_or_canary_setting(
    tmp_path: Path, artifact: Path, param: str, message: str
) -> None:
    # Given a deployer who passes one bad setting
    printed = package_refused(tmp_path, *REQUIRED_PARAMS, param)
    # Then packaging stops, naming it
    assert message in printed


# --- scanners on the two other shapes ----------------------------------------------------------


@pytest.mark.parametrize("stage", ["kms", "named"])
def test_cfn_lint_and_checkov_find_nothing_on_the_archive_stages(
    stage: str, kms_template_path: Path, named_template_path: Path
) -> None:
    path = kms_template_path if stage == "kms" else named_template_path
    lint = subprocess.run(
        [
            str(Path(sys.executable).with_name("cfn-lint")),
            "--config-file",
            str(ROOT / ".cfnlintrc.yaml"),
            "--",
            str(path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
    report = run_checkov(path)
    assert [(c["check_id"], c["resource"]) for c in report["results"]["failed_checks"]] == []
    # The archive's one skip (access logging) says why, as every skip must
    skipped = {
        c["check_id"]: c["check_result"].get("suppress_comment", "")
        for c in report["results"]["skipped_checks"]
        if c["resource"] == "AWS::S3::Bucket.ArchiveBucket"
    }
    assert set(skipped) <= {"CKV_AWS_18"}
    assert all(len(reason) >= 40 for reason in skipped.values())
