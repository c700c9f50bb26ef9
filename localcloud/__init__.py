"""The local cloud: run the whole SAM template on one machine, with no AWS account and no Docker.

``template.yaml`` stays the single source of truth. This package reads it (``template``,
``intrinsics``), creates what moto can emulate (``resources``, ``aws_backend``), runs each Lambda
function in a warm worker process (``functions``, ``lambda_worker``), and serves every HTTP API
with the same routing, JWT and CORS rules as API Gateway (``routes``, ``events_v2``,
``authorizer``, ``cors``, ``gateway``), and every CloudFront distribution with a custom origin with
its Lambda@Edge functions (``cloudfront``, ``edge``). Custom resources run at deploy time, as on
CloudFormation (``custom_resources``). ``cli`` is the entry point (``python -m localcloud``).
"""

__all__ = ["ACCOUNT_ID", "DEFAULT_REGION", "DEFAULT_STACK_NAME"]

#: moto's default account; tokens, ARNs and requestContext.accountId all use it.
ACCOUNT_ID = "123456789012"
DEFAULT_REGION = "us-east-1"
DEFAULT_STACK_NAME = "petstore-local"
