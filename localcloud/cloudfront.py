"""``AWS::CloudFront::Distribution``: the part of a distribution that the local edge can serve.

Why a distribution is more than a name locally: Lambda@Edge functions are ordinary functions of
the template, but only the distribution says when they run (which cache behaviour, which event)
and where the request goes next (which origin, with which custom headers). This module reads that
from the template into a :class:`DistributionSpec`; :mod:`localcloud.edge` serves it over HTTP.

A distribution is served when it has at least one custom origin (an HTTP server: an API, a load
balancer...). One with only S3 origins (a static site) is not: it keeps a CloudFront-shaped id and
``*.cloudfront.net`` domain name so that references to it resolve, and the start-up report says it
is not served. Served distributions get ``127.0.0.1:<edge port>`` as their ``DomainName``.

Emulated: origins (``DomainName``, ``OriginPath``, ``CustomOriginConfig``, ``OriginCustomHeaders``),
``DefaultCacheBehavior`` and ``CacheBehaviors`` (``PathPattern``, ``TargetOriginId``,
``AllowedMethods``, the managed origin request policies AllViewer and AllViewerExceptHostHeader),
``LambdaFunctionAssociations`` on ``viewer-request`` and ``origin-request`` (with ``IncludeBody``),
and ``DefaultRootObject``. Nothing is cached locally (every request goes to the origin, as with the
managed CachingDisabled policy); anything else that changes behaviour is reported by name.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any, ClassVar

from localcloud.resource_types import DeployContext, Physical, ResourceType, UnsupportedResourceError
from localcloud.template import Resource, Template

__all__ = [
    "CLOUDFRONT_RESOURCE_TYPES",
    "Association",
    "Behavior",
    "CustomOrigin",
    "DistributionSpec",
    "Origin",
    "served_distributions",
]

#: managed cache policy "CachingDisabled": the only caching the local edge has (none)
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
#: managed origin request policy "AllViewer": every viewer header, Host included
ALL_VIEWER = "216adef6-5c7f-47e4-b989-5492eafa07d3"
#: managed origin request policy "AllViewerExceptHostHeader": Host becomes the origin's domain
ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
#: Lambda@Edge events the local edge runs; the response events are reported, not run
RUN_EVENT_TYPES = ("viewer-request", "origin-request")
DEFAULT_METHODS = frozenset({"GET", "HEAD"})


@dataclass(frozen=True)
class CustomOrigin:
    """``CustomOriginConfig``, with CloudFront's defaults."""

    protocol_policy: str = "match-viewer"
    http_port: int = 80
    https_port: int = 443
    ssl_protocols: tuple[str, ...] = ("TLSv1.2",)
    read_timeout: int = 30
    keepalive_timeout: int = 5


@dataclass(frozen=True)
class Origin:
    origin_id: str
    domain_name: str
    #: ``OriginPath``: "" or "/a/b"
    path: str = ""
    #: ``OriginCustomHeaders`` (name, value), in template order
    custom_headers: tuple[tuple[str, str], ...] = ()
    #: None for an S3 origin: the local edge does not serve those
    custom: CustomOrigin | None = None


@dataclass(frozen=True)
class Association:
    """One ``LambdaFunctionAssociations`` entry, its function named by logical id."""

    event_type: str
    function: str
    include_body: bool = False


@dataclass(frozen=True)
class Behavior:
    """A cache behaviour: which origin a path goes to, and which functions run on the way."""

    path_pattern: str
    target_origin_id: str
    allowed_methods: frozenset[str] = DEFAULT_METHODS
    #: True with the AllViewer origin request policy: the viewer's Host reaches the origin
    forward_host: bool = False
    associations: dict[str, Association] = field(default_factory=dict)

    def matches(self, path: str) -> bool:
        """CloudFront's path patterns: ``*`` any run of characters, ``?`` one; case-sensitive."""
        if self.path_pattern == "*":
            return True
        return _pattern(self.path_pattern).fullmatch(path) is not None


def _pattern(path_pattern: str) -> re.Pattern[str]:
    pattern = path_pattern if path_pattern.startswith("/") else "/" + path_pattern
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern))


@dataclass(frozen=True)
class DistributionSpec:
    logical_id: str
    distribution_id: str
    #: ``127.0.0.1:<port>``: what ``Fn::GetAtt Distribution.DomainName`` gives locally
    domain_name: str
    origins: dict[str, Origin]
    #: ``CacheBehaviors`` in template order, then ``DefaultCacheBehavior`` (pattern ``*``)
    behaviors: tuple[Behavior, ...]
    default_root_object: str = ""

    def behavior_for(self, path: str) -> Behavior:
        """The first cache behaviour whose pattern matches, as CloudFront evaluates them."""
        return next(behavior for behavior in self.behaviors if behavior.matches(path))

    def functions(self) -> set[str]:
        return {a.function for b in self.behaviors for a in b.associations.values()}


def served_distributions(template: Template) -> list[str]:
    """Logical ids of the distributions the local edge serves: those with a custom origin.

    Decided from the template alone, before anything is deployed, because the edge ports are
    bound first (like every other port) and ``DomainName`` must name them.
    """
    return [
        resource.logical_id
        for resource in template.of_type("AWS::CloudFront::Distribution")
        if _mentions(resource.properties.get("DistributionConfig"), "CustomOriginConfig")
    ]


def _mentions(value: Any, key: str) -> bool:
    if isinstance(value, dict):
        return key in value or any(_mentions(item, key) for item in value.values())
    if isinstance(value, list):
        return any(_mentions(item, key) for item in value)
    return False


def distribution_id(context: DeployContext, resource: Resource) -> tuple[str, str]:
    """A stable id as CloudFront makes them (E + 13 characters) and the digest it comes from."""
    digest = hashlib.sha256(context.default_name(resource).encode()).hexdigest()[:13]
    return "E" + digest.upper(), digest


class CloudFrontDistribution(ResourceType):
    types = ("AWS::CloudFront::Distribution",)
    emulated = frozenset({"DistributionConfig"})
    no_local_meaning = frozenset({"Tags"})
    #: DistributionConfig keys: emulated, or with no local meaning (TLS, logging, pricing, WAF...)
    _CONFIG_EMULATED: ClassVar[frozenset[str]] = frozenset(
        {"Origins", "DefaultCacheBehavior", "CacheBehaviors", "DefaultRootObject", "Enabled"}
    )
    _CONFIG_NO_LOCAL_MEANING: ClassVar[frozenset[str]] = frozenset(
        {
            "Comment",
            "HttpVersion",
            "IPV6Enabled",
            "PriceClass",
            "Aliases",
            "CNAMEs",
            "ViewerCertificate",
            "Logging",
            "WebACLId",
            "Restrictions",
            "Staging",
            "ContinuousDeploymentPolicyId",
        }
    )
    _BEHAVIOR_EMULATED: ClassVar[frozenset[str]] = frozenset(
        {
            "PathPattern",
            "TargetOriginId",
            "AllowedMethods",
            "LambdaFunctionAssociations",
            "OriginRequestPolicyId",
            "CachePolicyId",
        }
    )
    _BEHAVIOR_NO_LOCAL_MEANING: ClassVar[frozenset[str]] = frozenset(
        {"ViewerProtocolPolicy", "CachedMethods", "Compress", "SmoothStreaming", "FieldLevelEncryptionId"}
    )

    def deploy(self, resource: Resource, context: DeployContext) -> Physical:
        identifier, digest = distribution_id(context, resource)
        host = context.edge_hosts.get(resource.logical_id)
        if host is None:
            if resource.logical_id not in served_distributions(context.template):
                context.warn(
                    f"{resource.logical_id}: distribution not served locally (it has no custom origin; "
                    "S3 origins are not served)"
                )
            # Not served here (or deployed by `invoke`, which serves nothing): a name only.
            domain = f"d{digest}.cloudfront.net"
            return Physical(ref=identifier, attributes={"Id": identifier, "DomainName": domain})
        config = context.resolve(resource.properties.get("DistributionConfig") or {}, resource.logical_id)
        where = f"{resource.logical_id}.DistributionConfig"
        self._report(config, self._CONFIG_EMULATED | self._CONFIG_NO_LOCAL_MEANING, where, context)
        if str(config.get("Enabled", True)).lower() == "false":
            context.warn(f"{where}: Enabled is false, but the local edge serves it anyway")
        origins = {origin.origin_id: origin for origin in map(_origin, config.get("Origins") or [])}
        behaviors = []
        for index, raw in enumerate([*(config.get("CacheBehaviors") or []), config["DefaultCacheBehavior"]]):
            is_default = index == len(config.get("CacheBehaviors") or [])
            place = f"{where}.{'DefaultCacheBehavior' if is_default else f'CacheBehaviors[{index}]'}"
            behaviors.append(self._behavior(raw, is_default, origins, place, context))
        spec = DistributionSpec(
            logical_id=resource.logical_id,
            distribution_id=identifier,
            domain_name=host,
            origins=origins,
            behaviors=tuple(behaviors),
            default_root_object=str(config.get("DefaultRootObject") or ""),
        )
        context.deployed.distributions[resource.logical_id] = spec
        return Physical(ref=identifier, attributes={"Id": identifier, "DomainName": host})

    def _behavior(
        self,
        raw: dict[str, Any],
        is_default: bool,
        origins: dict[str, Origin],
        where: str,
        context: DeployContext,
    ) -> Behavior:
        self._report(raw, self._BEHAVIOR_EMULATED | self._BEHAVIOR_NO_LOCAL_MEANING, where, context)
        target = str(raw.get("TargetOriginId", ""))
        if target not in origins:
            raise UnsupportedResourceError(f"{where}: TargetOriginId {target!r} names no origin")
        cache_policy = raw.get("CachePolicyId")
        if cache_policy not in (None, CACHING_DISABLED):
            context.warn(f"{where}: CachePolicyId {cache_policy}: nothing is cached locally")
        request_policy = raw.get("OriginRequestPolicyId")
        if request_policy not in (ALL_VIEWER, ALL_VIEWER_EXCEPT_HOST):
            context.warn(
                f"{where}: origin request policy {request_policy or '(none)'} is not emulated; "
                "every viewer header except Host is forwarded locally"
            )
        associations: dict[str, Association] = {}
        for entry in raw.get("LambdaFunctionAssociations") or []:
            event_type = str(entry.get("EventType"))
            arn = str(entry.get("LambdaFunctionARN", ""))
            if event_type not in RUN_EVENT_TYPES:
                context.warn(f"{where}: Lambda@Edge {event_type} function {arn} is not run locally")
                continue
            function = context.function_for_arn(arn)
            if function is None:
                raise UnsupportedResourceError(
                    f"{where}: {event_type} function {arn} is not a function of this template that runs locally"
                )
            associations[event_type] = Association(
                event_type, function, str(entry.get("IncludeBody", False)).lower() == "true"
            )
        if raw.get("FunctionAssociations"):
            context.warn(f"{where}: CloudFront Functions (FunctionAssociations) are not run locally")
        methods = frozenset(str(method).upper() for method in raw.get("AllowedMethods") or DEFAULT_METHODS)
        return Behavior(
            path_pattern="*" if is_default else str(raw.get("PathPattern", "*")),
            target_origin_id=target,
            allowed_methods=methods,
            forward_host=request_policy == ALL_VIEWER,
            associations=associations,
        )

    @staticmethod
    def _report(raw: dict[str, Any], known: frozenset[str], where: str, context: DeployContext) -> None:
        for name in raw:
            if name not in known:
                context.warn(f"{where}: {name} is not emulated locally")


def _origin(raw: dict[str, Any]) -> Origin:
    custom = raw.get("CustomOriginConfig")
    headers = tuple(
        (str(header["HeaderName"]), str(header["HeaderValue"]))
        for header in raw.get("OriginCustomHeaders") or []
    )
    return Origin(
        origin_id=str(raw["Id"]),
        domain_name=str(raw["DomainName"]),
        path=str(raw.get("OriginPath") or ""),
        custom_headers=headers,
        custom=None
        if custom is None
        else CustomOrigin(
            protocol_policy=str(custom.get("OriginProtocolPolicy", "match-viewer")),
            http_port=int(custom.get("HTTPPort", 80)),
            https_port=int(custom.get("HTTPSPort", 443)),
            ssl_protocols=tuple(str(p) for p in custom.get("OriginSSLProtocols") or ["TLSv1.2"]),
            read_timeout=int(custom.get("OriginReadTimeout", 30)),
            keepalive_timeout=int(custom.get("OriginKeepaliveTimeout", 5)),
        ),
    )


CLOUDFRONT_RESOURCE_TYPES: tuple[ResourceType, ...] = (CloudFrontDistribution(),)
