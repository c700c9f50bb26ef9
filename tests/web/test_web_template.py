"""The web client's hosting in template.yaml: a private bucket behind CloudFront with OAC.

Checked on the template as written, and as the local cloud resolves it (``tests.support.stack``),
where CloudFront exists as a name only: the API's CORS must still resolve, with the site's origin.
"""

from __future__ import annotations

from typing import Any

from tests.support import RESOURCES, TEMPLATE, stack

CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"


def properties(logical_id: str) -> dict[str, Any]:
    return dict(RESOURCES[logical_id]["Properties"])


def resolved(value: Any) -> Any:
    return stack().resolver().resolve(value, "test")


def test_web_bucket_is_private_and_encrypted() -> None:
    bucket = properties("WebBucket")
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert bucket["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    (rule,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert "WebsiteConfiguration" not in bucket  # served by CloudFront only, never as a website


def test_bucket_policy_is_tls_only_and_lets_only_this_distribution_read() -> None:
    policy = properties("WebBucketPolicy")
    assert policy["Bucket"] == {"Ref": "WebBucket"}
    statements = {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}
    deny = statements["DenyInsecureTransport"]
    assert (deny["Effect"], deny["Principal"], deny["Action"]) == ("Deny", "*", "s3:*")
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    read = statements["AllowWebDistributionRead"]
    assert read["Effect"] == "Allow" and read["Action"] == "s3:GetObject"
    assert read["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    distribution_arn = resolved(read["Condition"]["StringEquals"]["AWS:SourceArn"])
    assert distribution_arn.endswith(f":distribution/{stack().physical['WebDistribution'].ref}")


def test_distribution_reads_the_bucket_through_origin_access_control() -> None:
    access = properties("WebOriginAccessControl")["OriginAccessControlConfig"]
    assert access["OriginAccessControlOriginType"] == "s3"
    assert (access["SigningBehavior"], access["SigningProtocol"]) == ("always", "sigv4")
    config = properties("WebDistribution")["DistributionConfig"]
    (origin,) = config["Origins"]
    assert origin["DomainName"] == {"Fn::GetAtt": ["WebBucket", "RegionalDomainName"]}
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["WebOriginAccessControl", "Id"]}
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}


def test_distribution_serves_the_site_over_https_and_never_caches_config_json() -> None:
    config = properties("WebDistribution")["DistributionConfig"]
    assert config["DefaultRootObject"] == "index.html"
    default = config["DefaultCacheBehavior"]
    assert default["ViewerProtocolPolicy"] == "redirect-to-https"
    assert default["CachePolicyId"] == CACHING_OPTIMIZED
    (config_json,) = config["CacheBehaviors"]
    assert config_json["PathPattern"] == "/config.json"
    assert config_json["CachePolicyId"] == CACHING_DISABLED
    assert config_json["ViewerProtocolPolicy"] == "redirect-to-https"


def test_api_cors_allows_the_site_and_the_parameter_origins() -> None:
    """As deployed (the transform's CORS object is checked in tests/template/test_transform_parity.py)."""
    site = f"https://{stack().physical['WebDistribution'].attributes['DomainName']}"
    api = stack().apis["StoreApi"]
    assert api.cors is not None
    assert api.cors.allow_origins == (
        site,
        *TEMPLATE["Parameters"]["CorsAllowedOrigins"]["Default"].split(","),
    )


def test_outputs_name_the_site_and_its_bucket() -> None:
    outputs = TEMPLATE["Outputs"]
    assert outputs["WebUrl"]["Value"] == {"Fn::Sub": "https://${WebDistribution.DomainName}"}
    assert outputs["WebBucketName"]["Value"] == {"Ref": "WebBucket"}
