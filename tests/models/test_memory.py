"""Tests of ``keep_freed_memory``: freed tensors are reused instead of faulting in new pages."""

import platform
import subprocess
import sys

import pytest

pytest.importorskip("torch")

from isobounds_models.memory import keep_freed_memory  # noqa: E402

# Allocates, fills and frees a 40 MB tensor 20 times, and prints the minor page
# faults of the loop. Under glibc's defaults each tensor gets a fresh mmap region,
# so each fill faults in about 10,000 new 4 KiB pages.
_SCRIPT = """
import resource, sys
import torch
from isobounds_models.memory import keep_freed_memory
torch.set_num_threads(1)
if sys.argv[1] == "keep":
    assert keep_freed_memory()
torch.empty(10_000_000).fill_(1.0)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    torch.empty(10_000_000).fill_(1.0)
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""

glibc_only = pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
                                reason="mallopt settings exist only in glibc")


def _loop_faults(mode):
    result = subprocess.run([sys.executable, "-c", _SCRIPT, mode], capture_output=True, text=True, timeout=120,
                            check=True)
    return int(result.stdout.strip())


@glibc_only
def test_freed_tensors_are_reused():
    default_faults = _loop_faults("default")
    kept_faults = _loop_faults("keep")
    # The heap may still grow once inside the loop, faulting in one tensor's pages (about 10,000).
    assert default_faults > 10 * 10_000
    assert kept_faults < 2 * 10_000


@glibc_only
def test_returns_true_on_glibc():
    assert keep_freed_memory() is True
