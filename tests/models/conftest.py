import pytest

torch = pytest.importorskip("torch", reason="isobounds_models needs the 'models' extra (torch)")


@pytest.fixture(autouse=True)
def _one_thread():
    """Run each test on one torch thread.

    The networks and tensors here are small, so extra threads only add
    synchronisation, and training is bit-for-bit deterministic only for a
    fixed thread count.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
