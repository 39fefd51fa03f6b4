"""Where attachment bytes live: local files (embedded default) or an S3-compatible bucket.

Only the few operations that differ between the two are here: a short-lived presigned download
URL, and deleting a stored file completely (every version on a versioned bucket).
"""

import logging
import sys

from django.db import transaction

logger = logging.getLogger(__name__)

# Presigned links are handed to a browser right away; they never need to live long.
PRESIGNED_MAX_SECONDS = 300
PRESIGNED_DEFAULT_SECONDS = 120


def is_s3(storage) -> bool:
    # An S3Storage exists only once its module is loaded. Importing the module to ask would load
    # boto3 (0.2 s) in every process that deletes or serves a local file: a retention sweep of
    # 10,000 tickets spent a tenth of its time on it.
    module = sys.modules.get("storages.backends.s3")
    return module is not None and isinstance(storage, module.S3Storage)


def s3_key(storage, name: str) -> str:
    """The object key django-storages uses for ``name`` (its ``location`` prefix included)."""
    from storages.utils import clean_name

    return storage._normalize_name(clean_name(name))


def presigned_expiry(storage) -> int:
    configured = getattr(storage, "querystring_expire", None) or PRESIGNED_DEFAULT_SECONDS
    return max(1, min(int(configured), PRESIGNED_MAX_SECONDS))


def presigned_download_url(*, storage, name: str, content_type: str, disposition: str) -> str:
    """A signed GET link valid for ``presigned_expiry`` seconds (at most five minutes).

    The response headers are part of the signature, so the bucket answers with our
    Content-Type and Content-Disposition whatever metadata the object carries.
    """
    client = storage.connection.meta.client
    return client.generate_presigned_url(
        "get_object",
        Params={
            "Bucket": storage.bucket_name,
            "Key": s3_key(storage, name),
            "ResponseContentType": content_type,
            "ResponseContentDisposition": disposition,
            "ResponseCacheControl": "private, no-store",
        },
        ExpiresIn=presigned_expiry(storage),
        HttpMethod="GET",
    )


def _delete_s3_versions(storage, name: str) -> bool:
    """Delete every version and delete marker of the key; False when the bucket has none."""
    from botocore.exceptions import ClientError

    client = storage.connection.meta.client
    key = s3_key(storage, name)
    found = False
    try:
        pages = client.get_paginator("list_object_versions").paginate(Bucket=storage.bucket_name, Prefix=key)
        for page in pages:
            for entry in page.get("Versions", []) + page.get("DeleteMarkers", []):
                if entry["Key"] != key:
                    continue
                found = True
                client.delete_object(Bucket=storage.bucket_name, Key=key, VersionId=entry["VersionId"])
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code not in ("AccessDenied", "NotImplemented", "MethodNotAllowed"):
            raise
        # Without s3:ListBucketVersions only the current object can be removed.
        logger.warning("Could not list object versions (%s); deleting the current object only.", code)
        return False
    return found


def delete_stored_file(*, storage, name: str) -> None:
    """Remove a stored file now. Missing files are not an error.

    On S3 the versions are deleted one by one by VersionId; only when the bucket keeps no
    versions of the key is a plain delete issued (on a versioned bucket a plain delete would
    only add a delete marker and keep the bytes).
    """
    if not name:
        return
    if is_s3(storage) and _delete_s3_versions(storage, name):
        return
    storage.delete(name)


def delete_stored_file_on_commit(*, storage, name: str) -> None:
    """Queue ``delete_stored_file`` for after the surrounding transaction commits.

    A rolled-back change keeps its file. ``robust`` so one failing delete does not stop the
    other callbacks; a named function, because Django logs a failing callback by its name.
    """

    def delete_after_commit():
        delete_stored_file(storage=storage, name=name)

    transaction.on_commit(delete_after_commit, robust=True)
