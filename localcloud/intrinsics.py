"""CloudFormation intrinsic functions, evaluated the way CloudFormation does at deploy time.

Only the template's *values* need evaluating locally (table names, environment variables, the JWT
issuer, CORS origins, ...), so this is an evaluator over plain JSON-like data, not a
CloudFormation engine. Resource references are answered by callbacks, because the physical ids of
resources exist only once the local backend has created them.

Supported: ``Ref`` (parameters, pseudo parameters, resources), ``Fn::GetAtt`` (both forms),
``Fn::Sub`` (both forms, ``${!Literal}`` escapes), ``Fn::If`` with ``AWS::NoValue``,
``Fn::Equals/And/Or/Not``, ``Condition``, ``Fn::Join``, ``Fn::Select``, ``Fn::Split``,
``Fn::FindInMap``, ``Fn::Base64``, ``Fn::GetAZs``. Anything else (``Fn::ImportValue``,
``Fn::Cidr``, ``Fn::Transform``, ...) raises :class:`IntrinsicError` naming the function and where
it was found, so an unsupported feature is reported rather than silently mis-evaluated.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "NO_VALUE",
    "IntrinsicError",
    "Resolver",
    "references",
]


class _NoValue:
    """Marker for ``AWS::NoValue``: the enclosing property or list item disappears."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE: Any = _NoValue()

_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_FUNCTIONS = frozenset(
    {
        "Ref",
        "Condition",
        "Fn::GetAtt",
        "Fn::Sub",
        "Fn::If",
        "Fn::Equals",
        "Fn::And",
        "Fn::Or",
        "Fn::Not",
        "Fn::Join",
        "Fn::Select",
        "Fn::Split",
        "Fn::FindInMap",
        "Fn::Base64",
        "Fn::GetAZs",
    }
)
_UNSUPPORTED = frozenset({"Fn::ImportValue", "Fn::Cidr", "Fn::Transform", "Fn::Length", "Fn::ToJsonString"})


class IntrinsicError(ValueError):
    """A value of the template cannot be evaluated locally; the message says where and why."""


def _is_intrinsic(value: Any) -> str | None:
    if isinstance(value, dict) and len(value) == 1:
        (key,) = value
        if key in _FUNCTIONS or key in _UNSUPPORTED:
            return str(key)
    return None


@dataclass
class Resolver:
    """Evaluates intrinsic functions inside a value.

    ``resource_ref(logical_id)`` and ``resource_attribute(logical_id, name)`` answer references to
    resources; they raise ``KeyError`` when the resource does not exist (yet).
    """

    parameters: Mapping[str, Any]
    pseudo_parameters: Mapping[str, Any]
    conditions: Mapping[str, bool] = field(default_factory=dict)
    mappings: Mapping[str, Any] = field(default_factory=dict)
    resource_ref: Callable[[str], Any] | None = None
    resource_attribute: Callable[[str, str], Any] | None = None
    condition_evaluator: Callable[[str], bool] | None = None

    def resolve(self, value: Any, where: str = "") -> Any:
        """Returns ``value`` with every intrinsic function evaluated (``AWS::NoValue`` removed)."""
        result = self._resolve(value, where)
        return None if result is NO_VALUE else result

    def condition(self, name: str, where: str = "") -> bool:
        if self.condition_evaluator is not None:
            return self.condition_evaluator(name)
        if name not in self.conditions:
            raise IntrinsicError(f"{where}: unknown condition {name!r}")
        return self.conditions[name]

    # ------------------------------------------------------------------ internals
    def _resolve(self, value: Any, where: str) -> Any:
        function = _is_intrinsic(value)
        if function is not None:
            return self._call(function, value[function], f"{where}/{function}" if where else function)
        if isinstance(value, dict):
            resolved_dict = {}
            for key, item in value.items():
                resolved = self._resolve(item, f"{where}.{key}" if where else str(key))
                if resolved is not NO_VALUE:
                    resolved_dict[str(key)] = resolved
            return resolved_dict
        if isinstance(value, list):
            resolved_list = []
            for index, item in enumerate(value):
                resolved = self._resolve(item, f"{where}[{index}]")
                if resolved is not NO_VALUE:
                    resolved_list.append(resolved)
            return resolved_list
        if isinstance(value, str):
            return str(value)  # drop YAML node subclasses
        return value

    def _call(self, function: str, argument: Any, where: str) -> Any:
        if function in _UNSUPPORTED:
            raise IntrinsicError(f"{where}: {function} is not supported by the local cloud")
        handler = getattr(self, "_fn_" + function.replace("Fn::", "").lower())
        return handler(argument, where)

    def _fn_ref(self, argument: Any, where: str) -> Any:
        name = self._resolve(argument, where)
        if not isinstance(name, str):
            raise IntrinsicError(f"{where}: Ref needs a name, got {name!r}")
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.pseudo_parameters:
            return self.pseudo_parameters[name]
        if name.startswith("AWS::"):
            raise IntrinsicError(f"{where}: pseudo parameter {name} is not supported by the local cloud")
        if name in self.parameters:
            return self.parameters[name]
        if self.resource_ref is None:
            raise IntrinsicError(f"{where}: Ref {name} cannot be evaluated here")
        try:
            return self.resource_ref(name)
        except KeyError:
            raise IntrinsicError(f"{where}: Ref to unknown (or not yet created) resource {name!r}") from None

    def _fn_getatt(self, argument: Any, where: str) -> Any:
        if isinstance(argument, str):
            logical_id, _, attribute = argument.partition(".")
        elif isinstance(argument, list) and len(argument) == 2:
            logical_id = str(self._resolve(argument[0], where))
            attribute = str(self._resolve(argument[1], where))
        else:
            raise IntrinsicError(f"{where}: Fn::GetAtt needs [LogicalId, Attribute], got {argument!r}")
        if not attribute:
            raise IntrinsicError(f"{where}: Fn::GetAtt {argument!r} names no attribute")
        if self.resource_attribute is None:
            raise IntrinsicError(f"{where}: Fn::GetAtt cannot be evaluated here")
        try:
            return self.resource_attribute(logical_id, attribute)
        except KeyError as error:
            raise IntrinsicError(f"{where}: Fn::GetAtt {logical_id}.{attribute}: {error.args[0]}") from None

    def _fn_sub(self, argument: Any, where: str) -> Any:
        if isinstance(argument, str):
            text, variables = argument, {}
        elif isinstance(argument, list) and len(argument) == 2 and isinstance(argument[1], dict):
            text = argument[0]
            variables = {str(k): self._resolve(v, f"{where}.{k}") for k, v in argument[1].items()}
        else:
            raise IntrinsicError(f"{where}: Fn::Sub needs a string or [string, {{variables}}]")
        if not isinstance(text, str):
            raise IntrinsicError(f"{where}: Fn::Sub template must be a string")

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                value = variables[name]
            elif "." in name and not name.startswith("AWS::"):
                logical_id, _, attribute = name.partition(".")
                value = self._fn_getatt([logical_id, attribute], where)
            else:
                value = self._fn_ref(name, where)
            if isinstance(value, list | dict):
                raise IntrinsicError(f"{where}: ${{{name}}} is not a string ({value!r})")
            return _to_string(value)

        return _SUB_VARIABLE.sub(substitute, text)

    def _fn_if(self, argument: Any, where: str) -> Any:
        if not (isinstance(argument, list) and len(argument) == 3):
            raise IntrinsicError(f"{where}: Fn::If needs [condition, then, else]")
        chosen = argument[1] if self.condition(str(argument[0]), where) else argument[2]
        return self._resolve(chosen, where)

    def _fn_condition(self, argument: Any, where: str) -> bool:
        return self.condition(str(argument), where)

    def _fn_equals(self, argument: Any, where: str) -> bool:
        if not (isinstance(argument, list) and len(argument) == 2):
            raise IntrinsicError(f"{where}: Fn::Equals needs two values")
        left, right = (self._resolve(item, where) for item in argument)
        return _to_comparable(left) == _to_comparable(right)

    def _fn_and(self, argument: Any, where: str) -> bool:
        return all(self._boolean(item, where) for item in _as_list(argument, where))

    def _fn_or(self, argument: Any, where: str) -> bool:
        return any(self._boolean(item, where) for item in _as_list(argument, where))

    def _fn_not(self, argument: Any, where: str) -> bool:
        items = _as_list(argument, where)
        if len(items) != 1:
            raise IntrinsicError(f"{where}: Fn::Not needs exactly one condition")
        return not self._boolean(items[0], where)

    def _boolean(self, value: Any, where: str) -> bool:
        resolved = self._resolve(value, where)
        if not isinstance(resolved, bool):
            raise IntrinsicError(f"{where}: expected a condition, got {resolved!r}")
        return resolved

    def _fn_join(self, argument: Any, where: str) -> str:
        if not (isinstance(argument, list) and len(argument) == 2):
            raise IntrinsicError(f"{where}: Fn::Join needs [delimiter, [values]]")
        delimiter = str(self._resolve(argument[0], where))
        values = self._resolve(argument[1], where)
        if not isinstance(values, list):
            raise IntrinsicError(f"{where}: Fn::Join needs a list of values")
        return delimiter.join(_to_string(value) for value in values)

    def _fn_select(self, argument: Any, where: str) -> Any:
        if not (isinstance(argument, list) and len(argument) == 2):
            raise IntrinsicError(f"{where}: Fn::Select needs [index, [values]]")
        index = int(self._resolve(argument[0], where))
        values = self._resolve(argument[1], where)
        if not isinstance(values, list) or not 0 <= index < len(values):
            raise IntrinsicError(f"{where}: Fn::Select index {index} out of range of {values!r}")
        return values[index]

    def _fn_split(self, argument: Any, where: str) -> list[str]:
        if not (isinstance(argument, list) and len(argument) == 2):
            raise IntrinsicError(f"{where}: Fn::Split needs [delimiter, string]")
        delimiter = str(self._resolve(argument[0], where))
        text = self._resolve(argument[1], where)
        return _to_string(text).split(delimiter)

    def _fn_findinmap(self, argument: Any, where: str) -> Any:
        if not (isinstance(argument, list) and len(argument) in (3, 4)):
            raise IntrinsicError(f"{where}: Fn::FindInMap needs [map, top key, second key]")
        name, top, second = (str(self._resolve(item, where)) for item in argument[:3])
        try:
            return self.mappings[name][top][second]
        except (KeyError, TypeError):
            if len(argument) == 4 and isinstance(argument[3], dict) and "DefaultValue" in argument[3]:
                return self._resolve(argument[3]["DefaultValue"], where)
            raise IntrinsicError(f"{where}: Fn::FindInMap {name}/{top}/{second} not found") from None

    def _fn_base64(self, argument: Any, where: str) -> str:
        return base64.b64encode(_to_string(self._resolve(argument, where)).encode()).decode()

    def _fn_getazs(self, argument: Any, where: str) -> list[str]:
        region = self._resolve(argument, where) or self.pseudo_parameters.get("AWS::Region", "us-east-1")
        return [f"{region}{zone}" for zone in "abc"]


def _as_list(argument: Any, where: str) -> list[Any]:
    if not isinstance(argument, list):
        raise IntrinsicError(f"{where}: expected a list, got {argument!r}")
    return argument


def _to_string(value: Any) -> str:
    """Scalars as CloudFormation renders them into strings (``true``, not ``True``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(_to_string(item) for item in value)
    return str(value)


def _to_comparable(value: Any) -> Any:
    return [_to_string(v) for v in value] if isinstance(value, list) else _to_string(value)


def references(value: Any) -> Iterator[str]:
    """Names used by ``Ref``/``Fn::GetAtt``/``Fn::Sub`` inside ``value`` (for dependency ordering)."""
    function = _is_intrinsic(value)
    if function == "Ref" and isinstance(value[function], str):
        yield value[function]
    elif function == "Fn::GetAtt":
        argument = value[function]
        if isinstance(argument, str):
            yield argument.partition(".")[0]
        elif isinstance(argument, list) and argument and isinstance(argument[0], str):
            yield argument[0]
    elif function == "Fn::Sub":
        argument = value[function]
        text = argument if isinstance(argument, str) else argument[0] if isinstance(argument, list) else ""
        local = set(argument[1]) if isinstance(argument, list) and len(argument) == 2 else set()
        for name in _SUB_VARIABLE.findall(text if isinstance(text, str) else ""):
            if not name.startswith("!") and name not in local:
                yield name.partition(".")[0]
        if isinstance(argument, list) and len(argument) == 2:
            yield from references(argument[1])
        return
    if isinstance(value, dict):
        for item in value.values():
            yield from references(item)
    elif isinstance(value, list):
        for item in value:
            yield from references(item)
