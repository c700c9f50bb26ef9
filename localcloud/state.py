"""The project's state folder, ``.localcloud/`` beside the template (ignored by git).

What ``make dev`` leaves there for the other tools: ``stack.json``, where the running local cloud
is (its config.json URL and process id), so ``make token``, ``make invoke``, ``make loadtest`` and
the printed hints follow it whatever its ports; ``sam-env-vars.json``, the functions' environment
for ``sam local invoke --env-vars``; ``preload-modules.json`` (see ``localcloud.functions``); and
``--persist``'s data when you point it there.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

__all__ = [
    "SAM_ENV_VARS_FILE",
    "STACK_FILE",
    "NoLocalCloud",
    "config_url",
    "forget_stack",
    "record_stack",
    "recorded_config_url",
    "state_dir",
]

STACK_FILE = "stack.json"
#: ``sam local invoke --env-vars`` for the running local cloud (``LocalCloud.sam_env_vars``)
SAM_ENV_VARS_FILE = "sam-env-vars.json"
STATE_DIR_VARIABLE = "LOCALCLOUD_STATE_DIR"


def state_dir(base: Path) -> Path:
    """``base``: the template's folder (the project root); ``LOCALCLOUD_STATE_DIR`` puts it elsewhere
    (the tests' local clouds do, so they never replace the record of the one you run)."""
    override = os.environ.get(STATE_DIR_VARIABLE)
    return Path(override) if override else base / ".localcloud"


def record_stack(base: Path, config_url: str) -> Path:
    path = state_dir(base) / STACK_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + f".{os.getpid()}.tmp")
    temporary.write_text(json.dumps({"configUrl": config_url, "pid": os.getpid()}, indent=2))
    os.replace(temporary, path)
    return path


def forget_stack(base: Path) -> None:
    """Removes the record if this process wrote it (another local cloud may have started since)."""
    path = state_dir(base) / STACK_FILE
    with contextlib.suppress(OSError, ValueError):
        if json.loads(path.read_text()).get("pid") == os.getpid():
            path.unlink()


def config_url(explicit: str | None, base: Path) -> str:
    """The stack a tool should talk to: ``explicit`` (``--config-url``), else the recorded one; a
    ``NoLocalCloud`` naming what to do when there is neither."""
    url = explicit or recorded_config_url(base)
    if not url:
        raise NoLocalCloud(
            "no local cloud is running (start it with `make dev`), and no --config-url was given"
        )
    return url


class NoLocalCloud(RuntimeError):
    """Nothing says where a local cloud runs."""


def recorded_config_url(base: Path) -> str | None:
    """The config.json URL of the local cloud ``make dev`` last recorded, or None."""
    try:
        record: Any = json.loads((state_dir(base) / STACK_FILE).read_text())
    except (OSError, ValueError):
        return None
    url = record.get("configUrl") if isinstance(record, dict) else None
    return str(url) if url else None
