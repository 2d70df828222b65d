"""``python -m cenas_sklearn``: the ``cenas`` command line."""

import sys

from .cli import main

sys.exit(main())
