"""Configurations and weights of small trainings, shared by the training tests."""

from isobounds_models.training import TrainingConfig


def tiny_config(**overrides):
    """Return a configuration of a few hundred samples and a handful of steps, with ``overrides`` applied."""
    settings = dict(epochs=4, n_samples=400, batch_size=100, lr=1e-3, checkpoint_every=2, device="cpu",
                    steps_per_level=5, langevin_eps=1e-3)
    settings.update(overrides)
    return TrainingConfig.profile("quick", **settings)


def trained_state(trained):
    """Return ``{"network.parameter": tensor}`` with a detached copy of every tensor of ``trained.networks``."""
    return {
        f"{network_name}.{name}": value.detach().clone()
        for network_name, network in trained.networks.items()
        for name, value in network.state_dict().items()
    }
