"""Allocator settings for training many small networks on CPU.

A training step of the univariate models allocates and frees tensors of a
few hundred kilobytes to tens of megabytes. Under glibc's default settings
the larger ones are served by fresh ``mmap`` regions, and freed memory at
the top of the heap goes back to the kernel (``malloc_trim``). The next
step then touches new pages, and the kernel zeroes each one on its first
write. On a 2-core x86_64 machine with torch 2.13 that meant 100 to
40,000 page faults per training step (one run and 10 batched runs of each
model). They took 7 % to 18 % of the step time; see ``docs/benchmarks.md``.

:func:`keep_freed_memory` turns both off for the whole process, so freed
blocks are reused. It is called by the ``isobounds-models`` command and by
``benchmarks/bench_training.py``, never on import.
"""

import ctypes
import ctypes.util
import platform

__all__ = ["keep_freed_memory"]

_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4

TRIM_THRESHOLD_BYTES = 1 << 30
"""Free memory at the top of the heap beyond which glibc still returns it to the kernel (1 GiB)."""


def keep_freed_memory():
    """Make glibc's ``malloc`` keep freed memory in the process for reuse.

    Sets ``M_MMAP_MAX = 0`` (every block comes from the heap, none from its
    own ``mmap`` region) and ``M_TRIM_THRESHOLD`` to
    :data:`TRIM_THRESHOLD_BYTES`, through ``mallopt(3)``. The settings hold
    for the rest of the process and for every library in it.

    Returns
    -------
    bool
        True if both settings were applied; False where the C library is
        not glibc (macOS, Windows, musl), in which case nothing changes.

    Notes
    -----
    The process keeps up to 1 GiB of freed memory at the top of its heap,
    and a large freed block below the top is not returned to the kernel
    until the blocks above it are freed. That suits a training process,
    whose tensors have the same sizes at every step. It can suit a
    long-lived process holding other large data less well.
    """
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    path = ctypes.util.find_library("c")
    if path is None:
        return False
    mallopt = getattr(ctypes.CDLL(path), "mallopt", None)
    if mallopt is None:
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    trimmed = mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES)
    unmapped = mallopt(_M_MMAP_MAX, 0)
    return bool(trimmed) and bool(unmapped)
