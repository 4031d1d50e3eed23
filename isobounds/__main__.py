"""Run the ``isobounds`` command line: ``python -m isobounds ...``."""

import sys

from .cli import main

sys.exit(main())
