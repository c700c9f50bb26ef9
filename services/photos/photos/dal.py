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
from store_common.dynamo import dynamodb_client, from_item, insert_about_pet, is_condition_failure, to_item
from store_common.errors import NotFound

from photos.errors import NotPending
from photos.models import StoredObject

CREATED_AT_INDEX = "byCreatedAt"
"""Local secondary index of the photos table (partition ``petId``, sort ``createdAt``), in template.yaml."""
CLEANUP_PAGE_SIZE = 100
"""Records a deleted pet's cleanup reads per Query (each is then deleted before the next page)."""


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
    """``logic.PhotoTable`` and ``pipeline.PhotoStatusTable`` on the photos table.

    ``pets_table_name``: the pets table, where a new record's pet is checked (the API function only;
    the pets service owns that table and nothing here writes to it).
    """

    def __init__(
        self, table_name: str, client: Any | None = None, *, pets_table_name: str | None = None
    ) -> None:
        self.table_name = table_name
        self.pets_table_name = pets_table_name
        self.client = client or dynamodb_client()

    def insert_for_pet(self, item: dict[str, Any]) -> None:
        """Put a new record in one transaction with a check that its pet exists (NotFound if not)."""
        if not self.pets_table_name:
            raise RuntimeError("DynamoPhotoTable needs pets_table_name to insert records")
        insert_about_pet(self.client, self.table_name, item, "photoId", self.pets_table_name, item["petId"])

    def newest_first(
        self, pet_id: str, limit: int, start_key: dict[str, str] | None, pending_cutoff: int
    ) -> tuple[list[dict[str, Any]], dict[str, str] | None]:
        """One Query of the index, newest first. The filter applies after ``Limit`` (DynamoDB's
        order), so a page may be short; its ``LastEvaluatedKey`` still marks where it stopped."""
        kwargs: dict[str, Any] = {"ExclusiveStartKey": to_item(start_key)} if start_key else {}
        response = self.client.query(
            TableName=self.table_name,
            IndexName=CREATED_AT_INDEX,
            KeyConditionExpression="petId = :pet",
            FilterExpression="attribute_not_exists(expiresAt) OR expiresAt > :cutoff",
            ExpressionAttributeValues=to_item({":pet": pet_id, ":cutoff": pending_cutoff}),
            ScanIndexForward=False,
            Limit=limit,
            **kwargs,
        )
        items = [from_item(i) for i in response.get("Items", [])]
        last = response.get("LastEvaluatedKey")
        return items, (from_item(last) if last else None)

    def created_up_to(
        self, pet_id: str, created_at: str, start_key: dict[str, str] | None
    ) -> tuple[list[dict[str, Any]], dict[str, str] | None]:
        kwargs: dict[str, Any] = {"ExclusiveStartKey": to_item(start_key)} if start_key else {}
        response = self.client.query(
            TableName=self.table_name,
            IndexName=CREATED_AT_INDEX,
            KeyConditionExpression="petId = :pet AND createdAt <= :until",
            ExpressionAttributeValues=to_item({":pet": pet_id, ":until": created_at}),
            Limit=CLEANUP_PAGE_SIZE,
            **kwargs,
        )
        items = [from_item(i) for i in response.get("Items", [])]
        last = response.get("LastEvaluatedKey")
        return items, (from_item(last) if last else None)

    def get(self, pet_id: str, photo_id: str) -> dict[str, Any] | None:
        response = self.client.get_item(
            TableName=self.table_name, Key=self._key(pet_id, photo_id), ConsistentRead=True
        )
        item = response.get("Item")
        return from_item(item) if item else None

    def status_of(self, pet_id: str, photo_id: str) -> str | None:
        """The record's status (PENDING, READY, FAILED), or None when there is no record."""
        response = self.client.get_item(
            TableName=self.table_name,
            Key=self._key(pet_id, photo_id),
            ConsistentRead=True,
            ProjectionExpression="#status",
            ExpressionAttributeNames={"#status": "status"},
        )
        item = response.get("Item")
        return str(from_item(item).get("status")) if item else None

    def delete(self, pet_id: str, photo_id: str) -> dict[str, Any] | None:
        response = self.client.delete_item(
            TableName=self.table_name, Key=self._key(pet_id, photo_id), ReturnValues="ALL_OLD"
        )
        old = response.get("Attributes")
        return from_item(old) if old else None

    def mark_ready(
        self,
        pet_id: str,
        photo_id: str,
        width: int,
        height: int,
        renditions: Sequence[Mapping[str, Any]],
        now: str,
    ) -> None:
        """A PENDING record becomes READY with its renditions, and no longer expires."""
        self._update_pending(
            pet_id,
            photo_id,
            "SET #status = :ready, width = :width, height = :height, renditions = :renditions, "
            "updatedAt = :now REMOVE reason, expiresAt",
            {
                ":ready": "READY",
                ":width": width,
                ":height": height,
                ":renditions": [dict(r) for r in renditions],
                ":now": now,
            },
        )

    def mark_failed(self, pet_id: str, photo_id: str, reason: str, now: str) -> None:
        """A PENDING record becomes FAILED with the reason, and no longer expires."""
        self._update_pending(
            pet_id,
            photo_id,
            "SET #status = :failed, reason = :reason, updatedAt = :now REMOVE expiresAt",
            {":failed": "FAILED", ":reason": reason, ":now": now},
        )

    def _update_pending(self, pet_id: str, photo_id: str, expression: str, values: dict[str, Any]) -> None:
        """Update a PENDING record: NotFound when there is none (nothing is created), NotPending
        when it is READY or FAILED (it is left exactly as it is)."""
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=self._key(pet_id, photo_id),
                UpdateExpression=expression,
                ConditionExpression="#status = :pending",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=to_item({**values, ":pending": "PENDING"}),
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if not is_condition_failure(error):
                raise
            current: Any = error.response.get("Item")  # the record as it was (ALL_OLD on failure)
            if not current:
                raise NotFound(f"no photo record {pet_id}/{photo_id}") from None
            status = from_item(current).get("status")
            raise NotPending(f"photo {pet_id}/{photo_id} is {status}, not PENDING") from None

    @staticmethod
    def _key(pet_id: str, photo_id: str) -> dict[str, Any]:
        return to_item({"petId": pet_id, "photoId": photo_id})


class S3PhotoStorage:
    """``logic.PhotoStorage``: presigned forms for the uploads bucket, URLs for the distribution bucket,
    and deletions in both (S3 answers the deletion of an absent key as a success).

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

    def delete_upload(self, key: str) -> None:
        self.client.delete_object(Bucket=self.uploads_bucket, Key=key)

    def delete_rendition(self, key: str) -> None:
        self.client.delete_object(Bucket=self.distribution_bucket, Key=key)


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
