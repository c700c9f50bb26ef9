"""``make loadtest``: Locust against a stack with Cognito users (see ``run.py``)."""
