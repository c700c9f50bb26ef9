"""AWS implementations of the photo service's persistence: DynamoDB tables and S3 buckets.

Clients come from boto3's standard configuration (region, credentials, ``AWS_ENDPOINT_URL``).
"""

from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.client import Config
from botocore.exceptions import ClientError
from store_common.dynamo import dynamodb_client, is_condition_failure, query_newest_first, to_item
from store_common.errors import NotFound

from photos.models import StoredObject

CREATED_AT_INDEX = "byCreatedAt"
"""Local secondary index of the photos table (partition ``petId``, sort ``createdAt``), in template.yaml."""


def s3_client() -> Any:
    """An S3 client whose presigned URLs work from a browser.

    - Signature V4: S3 refuses V2 signatures on new buckets, and boto3 still presigns with V2 in
      us-east-1 unless told otherwise.
    - On AWS, virtual-hosted URLs on the bucket's regional endpoint
      (``https://<bucket>.s3.<region>.amazonaws.com``): the global endpoint answers a new bucket
      outside us-east-1 with a redirect, which a browser's POST does not follow.
    - Any other endpoint (``AWS_ENDPOINT_URL``, an S3-compatible server) keeps boto3's automatic
      addressing, path-style for hosts like ``127.0.0.1`` or ``localhost``.
    """
    client = boto3.client(
        "s3",
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "virtual", "us_east_1_regional_endpoint": "regional"},
        ),
    )
    host = urlsplit(client.meta.endpoint_url).hostname or ""
    if host.endswith(".amazonaws.com"):
        return client
    return boto3.client("s3", config=Config(signature_version="s3v4"))


class DynamoPhotoTable:
    """``logic.PhotoTable`` and ``pipeline.PhotoStatusTable`` on the photos table."""

    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self.table_name = table_name
        self.client = client or dynamodb_client()

    def insert(self, item: dict[str, Any]) -> None:
        self.client.put_item(
            TableName=self.table_name,
            Item=to_item(item),
            ConditionExpression="attribute_not_exists(photoId)",
        )

    def newest_first(
        self, pet_id: str, limit: int, start_key: dict[str, str] | None
    ) -> tuple[list[dict[str, Any]], dict[str, str] | None]:
        return query_newest_first(
            self.client, self.table_name, ("petId", pet_id), limit, start_key, index_name=CREATED_AT_INDEX
        )

    def mark_ready(
        self,
        pet_id: str,
        photo_id: str,
        width: int,
        height: int,
        renditions: Sequence[Mapping[str, Any]],
        now: str,
    ) -> None:
        """READY with its renditions; a reason from an earlier failed upload is removed."""
        self._update(
            pet_id,
            photo_id,
            "SET #status = :ready, width = :width, height = :height, renditions = :renditions, "
            "updatedAt = :now REMOVE reason",
            {
                ":ready": "READY",
                ":width": width,
                ":height": height,
                ":renditions": [dict(r) for r in renditions],
                ":now": now,
            },
        )

    def mark_failed(self, pet_id: str, photo_id: str, reason: str, now: str) -> None:
        """FAILED with the reason; renditions of an earlier successful upload are left as they were."""
        self._update(
            pet_id,
            photo_id,
            "SET #status = :failed, reason = :reason, updatedAt = :now",
            {":failed": "FAILED", ":reason": reason, ":now": now},
        )

    def _update(self, pet_id: str, photo_id: str, expression: str, values: dict[str, Any]) -> None:
        """Update an existing record; raise NotFound rather than create a record with no createdAt."""
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=to_item({"petId": pet_id, "photoId": photo_id}),
                UpdateExpression=expression,
                ConditionExpression="attribute_exists(photoId)",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=to_item(values),
            )
        except ClientError as error:
            if is_condition_failure(error):
                raise NotFound(f"no photo record {pet_id}/{photo_id}") from None
            raise


class DynamoPetDirectory:
    """``logic.PetDirectory`` on the pets table (read-only: the pets service owns it)."""

    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self.table_name = table_name
        self.client = client or dynamodb_client()

    def exists(self, pet_id: str) -> bool:
        response = self.client.get_item(
            TableName=self.table_name, Key=to_item({"id": pet_id}), ProjectionExpression="id"
        )
        return "Item" in response


class S3PhotoStorage:
    """``logic.PhotoStorage``: presigned forms for the uploads bucket, URLs for the distribution bucket.

    Presigning is local computation (no request to S3); the URLs carry the function's permissions.
    The S3 client is created once, by the first request that presigns: listing a pet with no READY
    photo needs none, and S3 is the largest service model botocore loads.
    """

    def __init__(self, uploads_bucket: str, distribution_bucket: str, client: Any | None = None) -> None:
        self.uploads_bucket = uploads_bucket
        self.distribution_bucket = distribution_bucket
        if client is not None:
            self.client = client

    @cached_property
    def client(self) -> Any:
        return s3_client()

    def upload_form(self, key: str, content_type: str, max_bytes: int, expires_in: int) -> dict[str, Any]:
        form: dict[str, Any] = self.client.generate_presigned_post(
            Bucket=self.uploads_bucket,
            Key=key,
            Fields={"Content-Type": content_type},
            Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, max_bytes]],
            ExpiresIn=expires_in,
        )
        return form

    def download_url(self, key: str, expires_in: int) -> str:
        url: str = self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.distribution_bucket, "Key": key}, ExpiresIn=expires_in
        )
        return url


class S3Objects:
    """``pipeline.ObjectStore``: whole-object reads (bounded) and writes."""

    def __init__(self, client: Any | None = None) -> None:
        self.client = client or s3_client()

    def read(self, bucket: str, key: str, max_bytes: int) -> StoredObject:
        response = self.client.get_object(Bucket=bucket, Key=key)
        body = response["Body"]
        size = int(response.get("ContentLength", 0))
        content_type = response.get("ContentType")
        try:
            if size > max_bytes:
                return StoredObject(size, content_type, None)
            data = body.read(max_bytes + 1)
        finally:
            body.close()
        if len(data) > max_bytes:
            return StoredObject(len(data), content_type, None)
        return StoredObject(len(data), content_type, data)

    def write(self, bucket: str, key: str, data: bytes, content_type: str) -> None:
        self.client.put_object(
            Bucket=bucket,
            Key=key,
            Body=data,
            ContentType=content_type,
            # The URLs to these objects are presigned for an hour: caching longer serves nobody.
            CacheControl="private, max-age=3600",
        )
