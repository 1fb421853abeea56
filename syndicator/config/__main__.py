"""`python -m syndicator.config` prints docs/settings.md."""

import sys

from syndicator.config.docs import settings_markdown

sys.stdout.write(settings_markdown())
