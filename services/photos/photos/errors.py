"""Errors of the photo service that are not HTTP errors (``store_common.errors`` has those)."""


class NotPending(Exception):
    """The photo is no longer PENDING (READY or FAILED): an upload cannot change it. Permanent.

    What a form re-posted after its photo was processed ends with: the pipeline refuses the upload
    and leaves the photo, its renditions included, as they were. ``RecordFailure`` marks nothing.
    """
