"""``python -m flightsw.cli``: the ``flightsw`` command."""

import sys

from flightsw.cli.main import main

sys.exit(main())
