"""``AWS::Cognito::UserPool``, ``UserPoolClient`` and ``UserPoolGroup``: real pools, app clients and
groups in the local backend (moto issues RS256 tokens with a JWKS endpoint per pool, and a member's
tokens carry its groups in ``cognito:groups``)."""

from __future__ import annotations

from typing import Any, ClassVar

from botocore.exceptions import ClientError

from localcloud.resource_types import DeployContext, Physical, ResourceType, error_code
from localcloud.template import Resource

__all__ = ["CognitoUserPool", "CognitoUserPoolClient", "CognitoUserPoolGroup"]


class CognitoUserPool(ResourceType):
    types = ("AWS::Cognito::UserPool",)
    # CloudFormation property -> CreateUserPool parameter (same name unless stated)
    _API_NAMES: ClassVar[dict[str, str]] = {
        "Policies": "Policies",
        "UsernameAttributes": "UsernameAttributes",
        "AliasAttributes": "AliasAttributes",
        "AutoVerifiedAttributes": "AutoVerifiedAttributes",
        "MfaConfiguration": "MfaConfiguration",
        "AccountRecoverySetting": "AccountRecoverySetting",
        "AdminCreateUserConfig": "AdminCreateUserConfig",
        "Schema": "Schema",
        "UsernameConfiguration": "UsernameConfiguration",
        "UserAttributeUpdateSettings": "UserAttributeUpdateSettings",
        "VerificationMessageTemplate": "VerificationMessageTemplate",
        "EmailVerificationMessage": "EmailVerificationMessage",
        "EmailVerificationSubject": "EmailVerificationSubject",
        "SmsVerificationMessage": "SmsVerificationMessage",
        "SmsAuthenticationMessage": "SmsAuthenticationMessage",
        "DeletionProtection": "DeletionProtection",
        "UserPoolTags": "UserPoolTags",
        "UserPoolAddOns": "UserPoolAddOns",
        "UserPoolTier": "UserPoolTier",
    }
    emulated = frozenset({"UserPoolName", *_API_NAMES})
    no_local_meaning = frozenset(
        {
            "EmailConfiguration",
            "SmsConfiguration",
            "EnabledMfas",
            "DeviceConfiguration",
            "WebAuthnRelyingPartyID",
        }
    )

    def deploy(self, resource: Resource, context: DeployContext) -> Physical:
        props = context.resolve(resource.properties, resource.logical_id)
        name = str(props.get("UserPoolName") or context.default_name(resource, 128))
        cognito = context.client("cognito-idp")
        pool_id = _find_user_pool(cognito, name)
        if pool_id is None:
            arguments = {api: props[cfn] for cfn, api in self._API_NAMES.items() if cfn in props}
            pool_id = cognito.create_user_pool(PoolName=name, **arguments)["UserPool"]["Id"]
        provider = f"cognito-idp.{context.region}.amazonaws.com/{pool_id}"
        return Physical(
            ref=pool_id,
            attributes={
                "Arn": context.arn("cognito-idp", f"userpool/{pool_id}"),
                "ProviderName": provider,
                "ProviderURL": f"https://{provider}",
                "UserPoolId": pool_id,
            },
        )


def _find_user_pool(cognito: Any, name: str) -> str | None:
    for page in cognito.get_paginator("list_user_pools").paginate(MaxResults=60):
        for pool in page["UserPools"]:
            if pool["Name"] == name:
                return str(pool["Id"])
    return None


class CognitoUserPoolClient(ResourceType):
    types = ("AWS::Cognito::UserPoolClient",)
    _API_NAMES = frozenset(
        {
            "GenerateSecret",
            "RefreshTokenValidity",
            "AccessTokenValidity",
            "IdTokenValidity",
            "TokenValidityUnits",
            "ReadAttributes",
            "WriteAttributes",
            "ExplicitAuthFlows",
            "SupportedIdentityProviders",
            "CallbackURLs",
            "LogoutURLs",
            "DefaultRedirectURI",
            "AllowedOAuthFlows",
            "AllowedOAuthScopes",
            "AllowedOAuthFlowsUserPoolClient",
            "PreventUserExistenceErrors",
            "EnableTokenRevocation",
            "EnablePropagateAdditionalUserContextData",
            "AuthSessionValidity",
        }
    )
    emulated = frozenset({"UserPoolId", "ClientName", *_API_NAMES})
    no_local_meaning = frozenset({"AnalyticsConfiguration", "RefreshTokenRotation"})

    def deploy(self, resource: Resource, context: DeployContext) -> Physical:
        props = context.resolve(resource.properties, resource.logical_id)
        pool_id = str(props["UserPoolId"])
        name = str(props.get("ClientName") or resource.logical_id)
        cognito = context.client("cognito-idp")
        client: dict[str, Any] | None = None
        for page in cognito.get_paginator("list_user_pool_clients").paginate(
            UserPoolId=pool_id, MaxResults=60
        ):
            for candidate in page["UserPoolClients"]:
                if candidate["ClientName"] == name:
                    client = cognito.describe_user_pool_client(
                        UserPoolId=pool_id, ClientId=candidate["ClientId"]
                    )["UserPoolClient"]
        if client is None:
            arguments = {key: props[key] for key in self._API_NAMES if key in props}
            for key in (
                "RefreshTokenValidity",
                "AccessTokenValidity",
                "IdTokenValidity",
                "AuthSessionValidity",
            ):
                if key in arguments:
                    arguments[key] = int(arguments[key])
            client = cognito.create_user_pool_client(UserPoolId=pool_id, ClientName=name, **arguments)[
                "UserPoolClient"
            ]
        attributes = {"ClientId": client["ClientId"], "Name": name}
        if client.get("ClientSecret"):
            attributes["ClientSecret"] = client["ClientSecret"]
        return Physical(ref=client["ClientId"], attributes=attributes)


class CognitoUserPoolGroup(ResourceType):
    """A group of a user pool: members' tokens carry it in ``cognito:groups``."""

    types = ("AWS::Cognito::UserPoolGroup",)
    emulated = frozenset({"UserPoolId", "GroupName", "Description", "Precedence"})
    no_local_meaning = frozenset({"RoleArn"})

    def deploy(self, resource: Resource, context: DeployContext) -> Physical:
        props = context.resolve(resource.properties, resource.logical_id)
        pool_id, name = str(props["UserPoolId"]), str(props.get("GroupName") or resource.logical_id)
        cognito = context.client("cognito-idp")
        arguments = {k: props[k] for k in ("Description", "Precedence") if k in props}
        if "Precedence" in arguments:
            arguments["Precedence"] = int(arguments["Precedence"])
        try:
            cognito.get_group(GroupName=name, UserPoolId=pool_id)
        except ClientError as error:
            if error_code(error) != "ResourceNotFoundException":
                raise
            try:
                cognito.create_group(GroupName=name, UserPoolId=pool_id, **arguments)
            except ClientError as race:
                if error_code(race) != "GroupExistsException":
                    raise
        return Physical(ref=name)
