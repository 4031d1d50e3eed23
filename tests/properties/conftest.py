"""Hypothesis profiles of the property tests.

- ``ci`` (default): a fixed number of examples per property, derandomised so
  that a run is reproducible, sized so that all property tests take about
  two minutes on two cores;
- ``thorough``: 10^4 examples per property, for release checks. Select it
  with the environment variable ``HYPOTHESIS_PROFILE=thorough``.
"""

import os

from hypothesis import HealthCheck, settings

_SHARED = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

settings.register_profile("ci", max_examples=300, derandomize=True, print_blob=True, **_SHARED)
settings.register_profile("thorough", max_examples=10_000, **_SHARED)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
