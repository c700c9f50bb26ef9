"""What Lambda SnapStart must renew after a restore (template.yaml's ``SnapStart`` parameter).

A SnapStart function's init runs once, when a version is published; every cold start then resumes a
snapshot of that process, in as many execution environments as there is traffic. What init left
behind that must not be shared by all of them is renewed by the hooks here:

- the ``random`` module's state, reseeded from the OS (every environment would otherwise draw the
  same numbers; ids come from ``uuid.uuid4``/``secrets``, which read the OS each time);
- network connections: none is opened during init (no AWS call is made at import: clients connect
  on first use), so there is nothing to reconnect;
- credentials: a SnapStart function's SDK clients read them from Lambda's credentials endpoint, not
  from values frozen in the snapshot.

The hooks come from ``snapshot_restore_py`` (in the Lambda runtime; pinned in the layer so that the
same code imports in tests and in the local cloud, where no snapshot is ever taken and they never run).
"""

import random

from snapshot_restore_py import register_after_restore


@register_after_restore
def reseed_random() -> None:
    random.seed()
