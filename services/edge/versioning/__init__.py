"""Header-based API versioning at the edge: a Lambda@Edge origin-request function."""
