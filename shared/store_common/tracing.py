"""Powertools Tracer where it traces; a stand-in that costs nothing where it cannot.

Creating ``Tracer()`` imports the X-Ray SDK, whose recorder builds two botocore clients for its
sampling rules: about 130 ms of every cold start, even when tracing is disabled. Tracing is
disabled outside Lambda (the local cloud, tests, ``sam local``) and wherever
``POWERTOOLS_TRACE_DISABLED`` is set -- Powertools' own rule, asked of Powertools -- and there the
disabled Tracer does nothing but pass the call through. ``new_tracer()`` returns the real Tracer
everywhere else (a deployed function with ``Tracing: Active``), created at import as before, and
a stand-in with the same decorators otherwise.
"""

from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from aws_lambda_powertools import Tracer

F = TypeVar("F", bound=Callable[..., Any])


class PassThroughTracer:
    """What a disabled ``Tracer`` does, without importing the X-Ray SDK: nothing."""

    disabled = True

    def capture_lambda_handler(
        self,
        lambda_handler: F | None = None,
        capture_response: bool | None = None,
        capture_error: bool | None = None,
    ) -> Any:
        if lambda_handler is None:
            return partial(self.capture_lambda_handler, capture_response=capture_response)
        return lambda_handler

    def capture_method(
        self, method: F | None = None, capture_response: bool | None = None, capture_error: bool | None = None
    ) -> Any:
        if method is None:
            return partial(self.capture_method, capture_response=capture_response)
        return method

    def put_annotation(self, key: str, value: Any) -> None:
        return None

    def put_metadata(self, key: str, value: Any, namespace: str | None = None) -> None:
        return None


def tracing_disabled() -> bool:
    """Powertools' decision: disabled by ``POWERTOOLS_TRACE_DISABLED`` or outside Lambda."""
    return bool(Tracer._is_tracer_disabled())


def new_tracer() -> Tracer | PassThroughTracer:
    return PassThroughTracer() if tracing_disabled() else Tracer()
