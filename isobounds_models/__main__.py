"""Run the ``isobounds-models`` command line: ``python -m isobounds_models ...``."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
