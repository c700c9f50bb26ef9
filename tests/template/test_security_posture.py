"""What the template promises about security and failure handling, one property per test.

Why both checkov and these: checkov knows hundreds of generic rules and is run with zero failed
checks (each skip carries its reason in the template); the tests below pin the properties this
project chooses on purpose, in its own terms, so that a change that weakens one fails here with a
message that says what was promised. DynamoDB's on-demand mode, point-in-time recovery and
encryption are pinned in ``test_template_lint.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from tests.support import RESOURCES, ROOT

CHECKOV = Path(os.environ.get("CHECKOV", ROOT / ".venv-checkov" / "bin" / "checkov"))
#: actions that AWS documents as supporting no resource-level permission: only "*" can name them
ACTIONS_WITHOUT_RESOURCES = frozenset(
    {
        "logs:CreateLogDelivery",
        "logs:GetLogDelivery",
        "logs:UpdateLogDelivery",
        "logs:DeleteLogDelivery",
        "logs:ListLogDeliveries",
        "logs:PutResourcePolicy",
        "logs:DescribeResourcePolicies",
        "logs:DescribeLogGroups",
    }
)


def of_type(*types: str) -> dict[str, dict[str, Any]]:
    return {name: resource for name, resource in RESOURCES.items() if resource["Type"] in types}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def refers_to(fragment: Any, logical_id: str) -> bool:
    """Whether a template fragment names the resource (Ref, Fn::GetAtt or Fn::Sub)."""
    text = json.dumps(fragment)
    return f'"Ref": "{logical_id}"' in text or f'"{logical_id}.' in text or f'["{logical_id}",' in text


def statements() -> list[tuple[str, dict[str, Any]]]:
    """Every IAM statement in the template: inline function policies, roles, resource policies."""
    found: list[tuple[str, dict[str, Any]]] = []
    for name, resource in RESOURCES.items():
        props = resource.get("Properties", {})
        for policy in props.get("Policies", []) if isinstance(props.get("Policies"), list) else []:
            if isinstance(policy, dict) and "Statement" in policy:
                found += [(name, statement) for statement in as_list(policy["Statement"])]
            if isinstance(policy, dict) and "PolicyDocument" in policy:
                found += [(name, statement) for statement in policy["PolicyDocument"]["Statement"]]
        if "PolicyDocument" in props:
            found += [(name, statement) for statement in props["PolicyDocument"]["Statement"]]
    return found


# ---------------------------------------------------------------------- checkov
def checkov(template: Path) -> dict[str, Any]:
    result = subprocess.run(
        [str(CHECKOV), "-f", str(template), "--framework", "cloudformation", "-o", "json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    report = json.loads(result.stdout)
    return dict(report[0] if isinstance(report, list) else report)


def test_checkov_fails_no_check_and_every_skip_says_why(tmp_path: Path) -> None:
    """On the template as it is, and with ``StoreCompute=fargate`` as the default: checkov leaves
    out a resource whose condition is false with the parameters' defaults, so each compute choice
    is read once."""
    assert CHECKOV.is_file(), f"{CHECKOV} is missing: `make checkov` installs it (its own venv)"
    text = (ROOT / "template.yaml").read_text()
    choice = "  StoreCompute:\n    Type: String\n    Default: lambda\n"
    assert choice in text
    fargate = tmp_path / "template.yaml"
    fargate.write_text(text.replace(choice, choice.replace("lambda", "fargate")))
    skipped = set()
    for template in (ROOT / "template.yaml", fargate):
        report = checkov(template)
        failed = [(f["check_id"], f["resource"]) for f in report["results"]["failed_checks"]]
        assert failed == [], (template, failed)
        assert report["summary"]["passed"] > 0
        skipped |= {
            (f["check_id"], f["resource"].rsplit(".", 1)[-1]) for f in report["results"]["skipped_checks"]
        }
    declared = {
        (skip["id"], name): skip.get("comment", "")
        for name, resource in RESOURCES.items()
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    }
    for (check_id, name), comment in declared.items():
        assert len(comment) >= 40, f"{name}: skip of {check_id} needs a reason"
    # a skip whose check no longer fails would hide the next real failure: none is stale
    assert set(declared) == skipped, set(declared) ^ skipped


# ---------------------------------------------------------------------- S3
def test_every_bucket_is_private_encrypted_and_tls_only() -> None:
    buckets = of_type("AWS::S3::Bucket")
    assert set(buckets) >= {"UploadsBucket", "DistributionBucket", "WebBucket"}
    policies = of_type("AWS::S3::BucketPolicy")
    for name, bucket in buckets.items():
        props = bucket["Properties"]
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }, name
        assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}], name
        (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms"), name
        (policy,) = [p for p in policies.values() if p["Properties"]["Bucket"] == {"Ref": name}]
        denies = [
            s
            for s in policy["Properties"]["PolicyDocument"]["Statement"]
            if s["Effect"] == "Deny"
            and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            and s["Principal"] == "*"
            and s["Action"] == "s3:*"
        ]
        assert len(denies) == 1, f"{name}: no statement denies plain HTTP"
        resources = json.dumps(denies[0]["Resource"])
        assert f'["{name}", "Arn"]' in resources and f"${{{name}.Arn}}/*" in resources, name


def test_no_statement_allows_everyone() -> None:
    for name, statement in statements():
        if statement["Effect"] == "Allow" and "Principal" in statement:
            principal = statement["Principal"]
            assert principal != "*" and principal.get("AWS") != "*", f"{name}: public Allow"


# ---------------------------------------------------------------------- IAM
def test_no_wildcard_action_or_resource_where_a_scoped_one_exists() -> None:
    allows = [(name, s) for name, s in statements() if s["Effect"] == "Allow"]
    assert allows
    for name, statement in allows:
        actions = as_list(statement["Action"])
        for action in actions:
            assert action != "*" and not action.endswith(":*"), f"{name}: wildcard action {action}"
        if "*" in as_list(statement.get("Resource", [])):
            assert set(actions) <= ACTIONS_WITHOUT_RESOURCES, f"{name}: Resource * for {actions}"


# ---------------------------------------------------------------------- asynchronous paths
def test_every_eventbridge_rule_retries_and_keeps_what_it_cannot_deliver() -> None:
    sam_rules = [
        (name, event_name, event["Properties"])
        for name, resource in RESOURCES.items()
        for event_name, event in resource.get("Properties", {}).get("Events", {}).items()
        if event["Type"] in ("EventBridgeRule", "CloudWatchEvent")
    ]
    assert sam_rules
    for name, event_name, props in sam_rules:
        assert "RetryPolicy" in props, f"{name}.{event_name}"
        # the one alarmed queue, not a queue of its own that nobody watches
        assert props["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["AsyncFailuresQueue", "Arn"]}}, name
    queues = of_type("AWS::SQS::Queue")
    for name, rule in of_type("AWS::Events::Rule").items():
        for target in rule["Properties"]["Targets"]:
            assert "RetryPolicy" in target, name
            to_a_queue = any(refers_to(target["Arn"], queue) for queue in queues)
            assert to_a_queue or "DeadLetterConfig" in target, f"{name}: {target['Id']} can drop events"


def test_every_state_machines_failures_go_to_the_failures_queue() -> None:
    machines = of_type("AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine")
    assert machines
    rules = of_type("AWS::Events::Rule")
    for machine in machines:
        covering = [
            rule["Properties"]
            for rule in rules.values()
            if rule["Properties"]["EventPattern"].get("source") == ["aws.states"]
            and refers_to(rule["Properties"]["EventPattern"]["detail"].get("stateMachineArn"), machine)
        ]
        assert len(covering) == 1, f"{machine}: no rule on its failed executions"
        pattern = covering[0]["EventPattern"]
        assert pattern["detail-type"] == ["Step Functions Execution Status Change"]
        assert set(pattern["detail"]["status"]) == {"FAILED", "TIMED_OUT", "ABORTED"}
        assert [t["Arn"] for t in covering[0]["Targets"]] == [{"Fn::GetAtt": ["AsyncFailuresQueue", "Arn"]}]


def asynchronously_invoked() -> set[str]:
    """Functions invoked asynchronously: by CloudFormation (custom resources) or EventBridge."""
    functions = of_type("AWS::Serverless::Function")
    custom = {
        name
        for resource in RESOURCES.values()
        if resource["Type"].startswith("Custom::")
        for name in functions
        if refers_to(resource["Properties"]["ServiceToken"], name)
    }
    evented = {
        name
        for name, function in functions.items()
        for event in function["Properties"].get("Events", {}).values()
        if event["Type"] == "EventBridgeRule"
    }
    return custom | evented


def test_functions_invoked_asynchronously_have_a_dead_letter_queue() -> None:
    assert asynchronously_invoked() >= {"VersionMappingSeedFunction", "CommentsCleanupFunction"}
    for function in asynchronously_invoked():
        dead_letters = RESOURCES[function]["Properties"].get("DeadLetterQueue", {})
        assert dead_letters.get("Type") == "SQS" and refers_to(dead_letters, "AsyncFailuresQueue"), function


def test_the_failures_queue_is_encrypted_kept_long_and_written_only_by_its_rule_over_tls() -> None:
    queue = RESOURCES["AsyncFailuresQueue"]["Properties"]
    assert queue["SqsManagedSseEnabled"] is True
    assert queue["MessageRetentionPeriod"] == 14 * 24 * 3600  # SQS's maximum
    (policy,) = of_type("AWS::SQS::QueuePolicy").values()
    allow, deny = policy["Properties"]["PolicyDocument"]["Statement"]
    assert allow["Principal"] == {"Service": "events.amazonaws.com"} and allow["Action"] == "sqs:SendMessage"
    sam_rules = {  # the rules SAM makes of EventBridgeRule events are named <resource><event>
        f"{name}{event_name}"
        for name, resource in RESOURCES.items()
        for event_name, event in resource.get("Properties", {}).get("Events", {}).items()
        if event["Type"] == "EventBridgeRule"
    }
    sources = allow["Condition"]["ArnEquals"]["aws:SourceArn"]
    assert sorted(source["Fn::GetAtt"][0] for source in sources) == sorted(
        {"ImagePipelineFailedRule", *sam_rules}
    )
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    alarm = of_type("AWS::CloudWatch::Alarm")["AsyncFailuresAlarm"]["Properties"]
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible" and alarm["Threshold"] == 0
    assert alarm["AlarmActions"] == [{"Ref": "AsyncFailuresTopic"}]  # somebody hears of it
    subscription = RESOURCES["AsyncFailuresEmail"]
    assert subscription["Condition"] == "HasAlarmEmail" and subscription["Properties"]["Protocol"] == "email"
