"""Sets and the measures built on them survive copy.copy, copy.deepcopy and pickle.

Every set raised "is immutable" in all three, because the default protocol
for slotted objects sets each slot through ``__setattr__``.
"""

import copy
import pickle

import mpmath
import numpy as np
import pytest

import isobounds as ib

SETS = [
    ib.Interval(0, 1, left_closed=False),
    ib.IntervalUnion([ib.Interval(0, 1), ib.Interval(2, 3)]),
    ib.HalfSpace([1.0, 0.0], 0.5),
    ib.Slab([1.0], 0, 1),
    ib.Ball([0.0], 1.0),
    ib.Annulus([0.0, 0.0], 1, 2),
    ib.BallComplement([0.0], 1.0),
    ib.Slab([1.0], 0, 1).complement(),
    ib.Annulus([0.0], 1, 2).complement(),
    ib.SetUnion([ib.Ball([0.0, 0.0], 1.0), ib.Ball([5.0, 0.0], 1.0)]),
    ib.EmptySet(2),
    ib.WholeSpace(1),
]


@pytest.mark.parametrize("region", SETS, ids=lambda region: type(region).__name__)
def test_set_round_trips(region):
    points = np.random.default_rng(0).uniform(-6, 6, size=(200, region.dim))
    points = points[:, 0] if region.dim == 1 else points
    for twin in (copy.copy(region), copy.deepcopy(region), pickle.loads(pickle.dumps(region))):
        assert type(twin) is type(region)
        assert twin == region
        assert hash(twin) == hash(region)
        assert np.array_equal(twin.contains(points), region.contains(points))


def test_measures_round_trip():
    support = ib.DisconnectedSupport([ib.Interval(0, 1), ib.Interval(3, 4)], [0.3, 0.7])
    mixture = ib.GaussianMixture([0.3, 0.7], [-1.0, 1.0], 1.0)
    with mpmath.workdps(60):
        # 0.3 and 0.7 are binary floats, so the first weight is 0.3 / (0.3 + 0.7) in exact arithmetic.
        weight = mpmath.mpf(0.3) / (mpmath.mpf(0.3) + mpmath.mpf(0.7))
    for twin in (copy.deepcopy(support), pickle.loads(pickle.dumps(support))):
        mass = twin.mass(ib.Interval(0, 0.5), dps=40)
        with mpmath.workdps(60):
            assert abs(mass - weight / 2) < mpmath.mpf(10) ** -39
    for twin in (copy.deepcopy(mixture), pickle.loads(pickle.dumps(mixture))):
        assert twin.mass(ib.Interval(-1, 2), dps=40) == mixture.mass(ib.Interval(-1, 2), dps=40)
