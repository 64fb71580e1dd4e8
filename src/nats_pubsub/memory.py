"""Give memory left over from start-up (imports, building settings) back to the system."""

from __future__ import annotations

import ctypes
import gc
import sys

__all__ = ["release_startup_memory"]


def _malloc_trim() -> bool:
    """glibc's malloc_trim(0): return free heap pages to the OS; False where there is none."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        # The process's own symbols include libc's (ctypes.util would cost 3 MiB of imports).
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return False  # not glibc (e.g. musl)
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return bool(trim(0))


def release_startup_memory() -> bool:
    """Collect start-up garbage, freeze what survives, trim the heap; True if pages went back."""
    gc.collect()
    # Objects alive now live as long as the process: keep them out of later collections.
    gc.freeze()
    return _malloc_trim()
