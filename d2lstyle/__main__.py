"""`python -m d2lstyle`: the command line (see d2lstyle/cli.py)."""

import sys

from d2lstyle.cli import main

sys.exit(main())
