"""Give memory that large transient frames used back to the operating system.

Building the employee-year panel or running a chapter's estimates allocates hundreds of
megabytes of short-lived arrays at a province's size. Python and NumPy free them, but
glibc's allocator keeps the freed pages in the process, so a chapter kernel stays at its
peak while it draws figures, and two chapters running side by side hold both peaks at once.
:func:`release_memory` collects garbage and asks glibc to return its free pages
(``malloc_trim``); elsewhere (another C library, another system) it only collects garbage.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc


@functools.cache
def _malloc_trim():
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        return ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):  # not glibc
        return None


def release_memory() -> bool:
    """Collect garbage and return free heap pages to the system; True when glibc did so."""
    gc.collect()
    trim = _malloc_trim()
    if trim is None:
        return False
    return bool(trim(0))
