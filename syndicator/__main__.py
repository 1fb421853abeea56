"""`python -m syndicator`."""

import sys

from syndicator.cli import main

sys.exit(main())
