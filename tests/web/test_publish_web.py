"""``tools/publish_web.py``: config.json from a stack's outputs, and the upload (against moto)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from localcloud.template import load_yaml
from localcloud.webpage import render_index
from tools.publish_web import (
    CONFIG_KEY,
    PublishError,
    build_config,
    publish,
    site_files,
    stack_name_from_samconfig,
)

REPO = Path(__file__).resolve().parents[2]
REGION = "eu-west-1"
API = "https://abc123.execute-api.eu-west-1.amazonaws.com"
OUTPUTS = {
    "ApiUrl": API,
    "ApiV1Url": f"{API}/v1",
    "Region": REGION,
    "UserPoolId": "eu-west-1_AbCdEf123",
    "UserPoolClientId": "1example23456789",
    "WebUrl": "https://d111111abcdef8.cloudfront.net",
    "WebBucketName": "petstore-dev-webbucket-1a2b3c",
    "PetsTableName": "petstore-dev-PetsTable-XYZ",
    "UploadsBucketName": "petstore-dev-uploadsbucket-4d5e6f",
    "DistributionBucketName": "petstore-dev-distributionbucket-7a8b9c",
}
UPLOADS_ORIGIN = "https://petstore-dev-uploadsbucket-4d5e6f.s3.eu-west-1.amazonaws.com"
PHOTOS_ORIGIN = "https://petstore-dev-distributionbucket-7a8b9c.s3.eu-west-1.amazonaws.com"
#: the keys of the local cloud's config.json, less its local-only confirm action, plus the origins of
#: the photo buckets (locally both are the AWS endpoint, awsEndpointUrl)
CONFIG_KEYS = {
    "region",
    "apiUrl",
    "apis",
    "edgeUrl",
    "cognito",
    "awsEndpointUrl",
    "uploadsOrigin",
    "photosOrigin",
}


def outputs(values: dict[str, str]) -> list[dict[str, Any]]:
    return [{"OutputKey": key, "OutputValue": value, "Description": "x"} for key, value in values.items()]


def test_config_from_outputs_has_the_local_config_keys() -> None:
    config = build_config(outputs(OUTPUTS))
    assert set(config) == CONFIG_KEYS
    assert config == {
        "region": REGION,
        "apiUrl": API,
        "apis": {"StoreApi": API, "StoreApi/v1": f"{API}/v1"},
        "edgeUrl": None,
        "cognito": {
            "region": REGION,
            "userPoolId": "eu-west-1_AbCdEf123",
            "userPoolClientId": "1example23456789",
            "endpointUrl": None,
        },
        "awsEndpointUrl": None,
        "uploadsOrigin": UPLOADS_ORIGIN,
        "photosOrigin": PHOTOS_ORIGIN,
    }


def test_bucket_origins_come_from_origin_outputs_when_the_stack_has_them() -> None:
    """``UploadsOrigin``/``PhotosOrigin`` outputs (with the partition's URL suffix) win over names."""
    china = "https://petstore-uploads.s3.cn-north-1.amazonaws.com.cn"
    config = build_config(outputs({**OUTPUTS, "UploadsOrigin": f"{china}/", "PhotosOrigin": PHOTOS_ORIGIN}))
    assert (config["uploadsOrigin"], config["photosOrigin"]) == (china, PHOTOS_ORIGIN)
    without = {k: v for k, v in OUTPUTS.items() if k not in ("UploadsBucketName", "DistributionBucketName")}
    assert build_config(outputs(without))["uploadsOrigin"] is None


def test_config_names_the_edge_url_when_the_stack_has_one() -> None:
    config = build_config(outputs({**OUTPUTS, "EdgeUrl": "https://d222222abcdef8.cloudfront.net"}))
    assert config["edgeUrl"] == "https://d222222abcdef8.cloudfront.net"


def test_config_without_a_v1_output_lists_v2_only() -> None:
    config = build_config(outputs({k: v for k, v in OUTPUTS.items() if k != "ApiV1Url"}))
    assert config["apis"] == {"StoreApi": API}


def test_missing_outputs_are_named() -> None:
    values = {k: v for k, v in OUTPUTS.items() if k not in ("UserPoolId", "WebBucketName")}
    with pytest.raises(PublishError, match="UserPoolId, WebBucketName"):
        build_config(outputs(values))


def test_every_output_it_reads_is_in_the_template() -> None:
    template = load_yaml(REPO / "template.yaml")
    assert set(template["Outputs"]) >= set(OUTPUTS) - {"PetsTableName"} | {"EdgeUrl"}


def test_stack_name_comes_from_samconfig() -> None:
    assert stack_name_from_samconfig(REPO / "samconfig.toml") == "petstore-dev"
    assert stack_name_from_samconfig(REPO / "samconfig.toml", "prod") == "petstore-prod"
    with pytest.raises(PublishError, match="--stack"):
        stack_name_from_samconfig(REPO / "samconfig.toml", "nowhere")


def test_site_files_are_the_web_folder_with_their_types(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<!doctype html>")
    (tmp_path / "app.js").write_text("export {};")
    (tmp_path / "styles.css").write_text("body {}")
    (tmp_path / "config.json").write_text("{}")  # the stack's own is published instead
    (tmp_path / ".hidden").write_text("x")
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "logo.svg").write_text("<svg/>")
    files = {file.key: file.content_type for file in site_files(tmp_path)}
    assert files == {
        "app.js": "text/javascript; charset=utf-8",
        "img/logo.svg": "image/svg+xml",
        "index.html": "text/html; charset=utf-8",
        "styles.css": "text/css; charset=utf-8",
    }


def test_the_project_web_folder_is_publishable() -> None:
    keys = {file.key for file in site_files(REPO / "web")}
    assert {"index.html", "app.js", "api.js", "auth.js", "styles.css"} <= keys


def test_a_folder_without_index_html_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PublishError, match=r"index\.html"):
        site_files(tmp_path)


# ---------------------------------------------------------------------- against moto
STACK_TEMPLATE = {
    "Parameters": {"WebDomain": {"Type": "String"}},
    "Resources": {"WebBucket": {"Type": "AWS::S3::Bucket"}},
    "Outputs": {
        **{key: {"Value": value} for key, value in OUTPUTS.items() if key not in ("WebUrl", "WebBucketName")},
        "WebUrl": {"Value": {"Fn::Sub": "https://${WebDomain}"}},
        "WebBucketName": {"Value": {"Ref": "WebBucket"}},
    },
}


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """A stack with a web bucket (holding a stale file) and a distribution, in moto."""
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        session = boto3.session.Session(region_name=REGION)
        clients: dict[str, Any] = {
            name: session.client(name) for name in ("cloudformation", "s3", "cloudfront")
        }
        distribution = clients["cloudfront"].create_distribution(
            DistributionConfig={
                "CallerReference": "web",
                "Comment": "web client",
                "Enabled": True,
                "Origins": {
                    "Quantity": 1,
                    "Items": [
                        {
                            "Id": "WebBucket",
                            "DomainName": "web.s3.amazonaws.com",
                            "S3OriginConfig": {"OriginAccessIdentity": ""},
                        }
                    ],
                },
                "DefaultCacheBehavior": {
                    "TargetOriginId": "WebBucket",
                    "ViewerProtocolPolicy": "redirect-to-https",
                },
            }
        )["Distribution"]
        clients["cloudformation"].create_stack(
            StackName="petstore-test",
            TemplateBody=json.dumps(STACK_TEMPLATE),
            Parameters=[{"ParameterKey": "WebDomain", "ParameterValue": distribution["DomainName"]}],
        )
        values = {
            o["OutputKey"]: o["OutputValue"]
            for o in clients["cloudformation"].describe_stacks(StackName="petstore-test")["Stacks"][0][
                "Outputs"
            ]
        }
        clients["s3"].put_object(Bucket=values["WebBucketName"], Key="old.js", Body=b"stale")
        yield {**clients, "bucket": values["WebBucketName"], "distribution": distribution["Id"]}


def test_publish_uploads_the_site_and_config_and_invalidates(aws: dict[str, Any]) -> None:
    said: list[str] = []
    result = publish(
        "petstore-test",
        cloudformation=aws["cloudformation"],
        s3=aws["s3"],
        cloudfront=aws["cloudfront"],
        say=said.append,
    )

    s3, bucket = aws["s3"], aws["bucket"]
    keys = {item["Key"] for item in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert keys == {file.key for file in site_files(REPO / "web")} | {CONFIG_KEY}
    assert result["deleted"] == ["old.js"]

    config = s3.get_object(Bucket=bucket, Key=CONFIG_KEY)
    assert json.loads(config["Body"].read()) == build_config(outputs(OUTPUTS)) == result["config"]
    assert config["ContentType"] == "application/json"
    assert config["CacheControl"] == "no-store"
    index = s3.get_object(Bucket=bucket, Key="index.html")
    assert index["ContentType"] == "text/html; charset=utf-8"
    published = index["Body"].read().decode()
    assert published == render_index((REPO / "web" / "index.html").read_text(), result["config"])
    assert f"connect-src 'self' {API} https://cognito-idp.{REGION}.amazonaws.com" in published
    assert s3.head_object(Bucket=bucket, Key="app.js")["ContentType"] == "text/javascript; charset=utf-8"

    invalidations = aws["cloudfront"].list_invalidations(DistributionId=aws["distribution"])[
        "InvalidationList"
    ]
    assert [item["Id"] for item in invalidations["Items"]] == [result["invalidation"]]
    paths = aws["cloudfront"].get_invalidation(DistributionId=aws["distribution"], Id=result["invalidation"])[
        "Invalidation"
    ]["InvalidationBatch"]["Paths"]["Items"]
    assert paths == ["/*"]  # config.json and every file just published
    assert said[-1] == f"web client: https://{_domain(aws)}/"


def test_a_page_without_its_policy_tag_is_not_published(aws: dict[str, Any], tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<!doctype html><title>no policy</title>")
    with pytest.raises(PublishError, match="Content-Security-Policy"):
        publish(
            "petstore-test",
            cloudformation=aws["cloudformation"],
            s3=aws["s3"],
            cloudfront=aws["cloudfront"],
            web_dir=tmp_path,
            say=lambda _line: None,
        )
    keys = [item["Key"] for item in aws["s3"].list_objects_v2(Bucket=aws["bucket"])["Contents"]]
    assert keys == ["old.js"]  # nothing was uploaded


def test_dry_run_changes_nothing(aws: dict[str, Any]) -> None:
    result = publish(
        "petstore-test",
        cloudformation=aws["cloudformation"],
        s3=aws["s3"],
        cloudfront=aws["cloudfront"],
        dry_run=True,
        say=lambda _line: None,
    )
    assert result["deleted"] == ["old.js"]
    keys = [item["Key"] for item in aws["s3"].list_objects_v2(Bucket=aws["bucket"])["Contents"]]
    assert keys == ["old.js"]


def test_an_unknown_stack_is_a_publish_error(aws: dict[str, Any]) -> None:
    with pytest.raises(PublishError, match="no-such-stack"):
        publish(
            "no-such-stack",
            cloudformation=aws["cloudformation"],
            s3=aws["s3"],
            cloudfront=aws["cloudfront"],
        )


def _domain(aws: dict[str, Any]) -> str:
    return str(aws["cloudfront"].get_distribution(Id=aws["distribution"])["Distribution"]["DomainName"])
