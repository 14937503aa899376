"""The soak harness: the real topology on loopback, faults injected, nothing lost.

Run it with ``./dev soak`` (or ``python -m soak --help``). It is not part of the
normal test suite: it takes tens of minutes, stops by itself and prints one
report whose difference lists must all be empty.
"""
