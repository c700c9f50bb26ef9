"""Safer defaults the template keeps (issue 17): accounts outlive the stack, passwords are long,
sign-out revokes, logs carry no personal data, the web client has a CSP and HSTS, names are unique
where CloudFront's are global, and the layer pins what the tests ran with."""

from __future__ import annotations

import importlib.metadata
import re

from tests.support import RESOURCES, ROOT


def properties(name: str) -> dict:
    return dict(RESOURCES[name]["Properties"])


def test_the_user_pool_is_retained_protected_in_prod_and_wants_long_passwords() -> None:
    pool = RESOURCES["UserPool"]
    assert pool["DeletionPolicy"] == pool["UpdateReplacePolicy"] == "Retain"
    assert pool["Properties"]["DeletionProtection"] == {"Fn::If": ["IsProd", "ACTIVE", "INACTIVE"]}
    assert pool["Properties"]["Policies"]["PasswordPolicy"]["MinimumLength"] >= 12
    assert properties("UserPoolClient")["EnableTokenRevocation"] is True


def test_the_image_pipeline_logs_no_execution_data() -> None:
    """Its input holds the uploader's IP address (the S3 event's requester)."""
    assert properties("ImagePipelineStateMachine")["Logging"]["IncludeExecutionData"] is False


def test_the_web_client_gets_a_csp_hsts_and_no_framing() -> None:
    config = properties("WebResponseHeaders")["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    csp = config["ContentSecurityPolicy"]["ContentSecurityPolicy"]["Fn::Sub"]
    directives = {part.split()[0]: part.split()[1:] for part in csp.split(";") if part.strip()}
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["default-src"] == ["'none'"]
    assert "https:" not in directives["connect-src"] and "*" not in directives["connect-src"]
    assert all(source.startswith(("'self'", "https://")) for source in directives["connect-src"])
    assert config["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert config["FrameOptions"]["FrameOption"] == "DENY"
    distribution = properties("WebDistribution")["DistributionConfig"]
    behaviors = [distribution["DefaultCacheBehavior"], *distribution["CacheBehaviors"]]
    assert all(b["ResponseHeadersPolicyId"] == {"Ref": "WebResponseHeaders"} for b in behaviors)


def test_cloudfront_names_are_unique_per_stack_and_region() -> None:
    for name, path in [
        ("WebOriginAccessControl", ("OriginAccessControlConfig", "Name")),
        ("WebResponseHeaders", ("ResponseHeadersPolicyConfig", "Name")),
    ]:
        value = properties(name)[path[0]][path[1]]["Fn::Sub"]
        assert "${AWS::StackName}" in value and "${AWS::Region}" in value, name


def test_the_seed_custom_resource_waits_for_its_log_group() -> None:
    assert RESOURCES["VersionMappingSeed"]["DependsOn"] == "VersionMappingSeedFunctionLogs"


def test_the_layer_pins_boto3_and_botocore_as_the_tests_run_them() -> None:
    pins = dict(
        re.findall(
            r"^([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==(\S+)", (ROOT / "shared/requirements.txt").read_text(), re.M
        )
    )
    for package in ("boto3", "botocore", "pydantic", "aws-lambda-powertools"):
        assert pins[package] == importlib.metadata.version(package), package
