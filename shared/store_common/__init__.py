"""Code shared by every function of the store (shipped as the SharedLayer).

- ``errors``: domain errors; the API layer maps them to status codes (``http``).
- ``models``: resource ids, text rules, pages, error bodies.
- ``params``: request parameters shared by the routes (ids, If-Match, paging).
- ``pagination``: opaque ``nextToken`` encoding.
- ``config``: settings read once at cold start from the function's environment.
- ``dynamo``: DynamoDB persistence helpers (versioned items, newest-first queries).
- ``catalogue`` and ``catalogue_api``: a catalogue's domain logic (pets, foods) and its routes.
- ``auth``: who calls, and the staff-only route guard.
- ``events``: telling the other services what happened (EventBridge).
- ``http``: the Powertools resolver with the project's error mapping and the Lambda entry point.
- ``tracing``: Powertools' Tracer only where it traces.
- ``snapstart``: what a SnapStart restore renews (imported here, so every function registers it).
"""

from store_common import snapstart as snapstart
