"""``python -m localcloud``: see :mod:`localcloud.cli`."""

from localcloud.cli import main

raise SystemExit(main())
