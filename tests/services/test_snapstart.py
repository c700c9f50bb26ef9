"""SnapStart: what every function registers to renew after a restore (store_common.snapstart)."""

import random


def test_every_function_reseeds_random_after_a_restore() -> None:
    import store_common  # noqa: F401 - registers the hooks, as any function's import does
    from snapshot_restore_py import get_after_restore

    hooks = [hook for hook, _args, _kwargs in get_after_restore()]
    assert any(hook.__name__ == "reseed_random" for hook in hooks)
    random.seed(1234)
    snapshot = random.getstate()  # what every restored environment would share without the hook
    for hook in hooks:
        hook()
    assert random.getstate() != snapshot
