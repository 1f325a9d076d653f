"""``python -m chainrule``: the same as the ``chainrule`` command."""

import sys

from .cli import entry_point

sys.exit(entry_point())
