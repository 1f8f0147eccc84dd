"""crmseg: a command-line contact-base toolkit.

The import package is ``cli``; the distribution and the console script are
``crmseg``. Everything below ``cli/`` except ``cli/commands/`` and
``cli/main.py`` is an importable library that never prints or exits.
"""

__version__ = "0.1.0"
