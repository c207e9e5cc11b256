"""The one exception type for errors a user can cause and fix."""

from __future__ import annotations


class XmirError(Exception):
    """A user-fixable problem (bad file, bad option, unknown name).

    The message says what is wrong and what to do; the CLI prints it as one line, without a
    traceback, and exits non-zero.
    """
