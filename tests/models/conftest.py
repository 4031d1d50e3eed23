import contextlib

import pytest

torch = pytest.importorskip("torch", reason="isobounds_models needs the 'models' extra (torch)")


@contextlib.contextmanager
def one_torch_thread():
    """Run the block on one torch thread, then restore the previous count.

    The networks and tensors here are small, so extra threads only add
    synchronisation, and training and sampling are bit-for-bit
    deterministic only for a fixed thread count. Module-scoped fixtures
    run before the function-scoped ``_one_thread`` below, so they request
    ``one_thread_per_module`` instead.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def one_thread_per_module():
    """Run a module-scoped fixture, and the module's tests, on one torch thread."""
    with one_torch_thread():
        yield


@pytest.fixture(autouse=True)
def _one_thread():
    """Run each test on one torch thread (see :func:`one_torch_thread`)."""
    with one_torch_thread():
        yield


@pytest.fixture
def interrupt_at_epoch(monkeypatch):
    """Return ``interrupt(epoch)``, which makes training raise KeyboardInterrupt when its ``epoch``-th epoch starts.

    Epochs are counted from 1 over every training of the test, so in an
    experiment that trains the GAN first, small counts interrupt the GAN.
    """
    from isobounds_models import training

    def interrupt(interrupted_epoch):
        real_epoch = training._train_epoch
        calls = []

        def epoch_then_interrupt(*args, **kwargs):
            calls.append(1)
            if len(calls) == interrupted_epoch:
                raise KeyboardInterrupt
            return real_epoch(*args, **kwargs)

        monkeypatch.setattr(training, "_train_epoch", epoch_then_interrupt)

    return interrupt
