"""Code shared by every function of the store (shipped as the SharedLayer).

- ``errors``: domain errors; the API layer maps them to status codes.
- ``models``: resource ids, pages, error bodies.
- ``pagination``: opaque ``nextToken`` encoding.
- ``dynamo``: DynamoDB persistence helpers.
- ``catalogue``: domain logic of a catalogue (pets, foods), persistence behind a small interface.
- ``http``: the Powertools resolver with the project's error mapping and the Lambda entry point.
"""
