"""``python -m plinth.cli``: the same as the ``plinth`` command."""

import sys

from plinth.cli import main

sys.exit(main())
