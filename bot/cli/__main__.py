"""`python -m bot.cli` is the `getkey` console script."""

import sys

from bot.cli.main import main

sys.exit(main())
