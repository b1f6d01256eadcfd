"""One exception type for mistakes a user can fix, and the wrapper that reports them.

Scripts raise `UserError("what is wrong; how to fix it")` for bad input. `run_main` turns it
into one line on stderr and exit status 2 instead of a traceback.

Imported by every script of every stage (`run_main` wraps each `main`), by most modules of
shared/ (the errors they raise), by tools/reporting.py and by the tests.
"""

from __future__ import annotations

import sys
from collections.abc import Callable


class UserError(ValueError):
    """Bad input that the user can fix: the message names the problem and the fix."""


def run_main(main: Callable[[], object]) -> None:
    """Call a script's `main()`; print a UserError as one line and exit non-zero."""
    # Progress lines should appear as they happen even when output goes to a file or pipe.
    sys.stdout.reconfigure(line_buffering=True)
    try:
        main()
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
