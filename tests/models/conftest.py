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
