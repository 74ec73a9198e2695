"""``python -m gaussrelbo.derivations``: run the checks and write the generated files."""

import sys

from .generate import main

sys.exit(main())
