"""Invalid configurations, inconsistent checkpoints, leftover temporary files and resume epochs."""

import dataclasses
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from isobounds_models.checkpoint import (  # noqa: E402
    CheckpointError,
    checkpoint_path,
    is_temporary_file,
    save_checkpoint,
)
from isobounds_models.cli import _has_files, main  # noqa: E402
from isobounds_models.networks import (  # noqa: E402
    BACKBONE_HIDDEN,
    BatchedScoreNet,
    depth_hidden_sizes,
    skip_is_placeable,
    skip_wiring,
)
from isobounds_models.training import TrainedModels, TrainingConfig, train  # noqa: E402


def _tiny(**overrides):
    """A configuration of a few hundred samples and a handful of steps."""
    settings = dict(epochs=2, n_samples=400, batch_size=200, lr=1e-3, checkpoint_every=1, device="cpu",
                    steps_per_level=5, langevin_eps=1e-3)
    settings.update(overrides)
    return TrainingConfig.profile("quick", **settings)


# Skip wiring that places no skip.


@pytest.mark.parametrize("sizes, skip", [
    ((1, 128, 256, 1), "resnet"),
    ((1, 64, 1), "resnet"),
    ((1, 64, 1), "densenet"),
    ((1, 1), "densenet"),
])
def test_skip_wiring_rejects_widths_without_skip(sizes, skip):
    with pytest.raises(ValueError, match=f"skip='{skip}' places no skip connection") as error:
        skip_wiring(sizes, skip)
    assert str(sizes) in str(error.value)


@pytest.mark.parametrize("hidden", [(128, 256), (64,), (32, 32), (16, 32, 32), (8, 16, 32), (256, 256, 256)])
@pytest.mark.parametrize("skip", ["plain", "resnet", "densenet"])
def test_skip_check_matches_wiring(hidden, skip):
    # The configuration's check must accept exactly the widths whose wiring has a skip.
    try:
        skip_wiring((1, *hidden, 1), skip)
        wired = True
    except ValueError:
        wired = False
    assert skip_is_placeable(hidden, skip) == wired


@pytest.mark.parametrize("skip", ["resnet", "densenet"])
def test_config_rejects_skip_on_one_layer(skip):
    with pytest.raises(ValueError, match=f"generator_skip='{skip}'") as error:
        TrainingConfig(generator_skip=skip, generator_hidden=(64,))
    assert "generator_hidden=(64,)" in str(error.value)


@pytest.mark.parametrize("hidden_layers", [2, 3, 4])
def test_config_rejects_resnet_on_depth_widths(hidden_layers):
    # The depth sweep doubles its widths, so no two consecutive hidden layers are equal.
    with pytest.raises(ValueError, match="two consecutive hidden layers of equal width"):
        TrainingConfig(generator_skip="resnet", generator_hidden=depth_hidden_sizes(hidden_layers))


@pytest.mark.parametrize("skip", ["resnet", "densenet"])
def test_config_accepts_skip_on_backbone(skip):
    config = TrainingConfig(generator_skip=skip, generator_hidden=BACKBONE_HIDDEN)
    assert config.generator_hidden == BACKBONE_HIDDEN


# Hidden widths and noise levels.


@pytest.mark.parametrize("hidden, error_type, detail", [
    ((0,), ValueError, "width 0 is not positive"),
    ((-4,), ValueError, "width -4 is not positive"),
    ((), ValueError, "generator_hidden=()"),
    ((1.7, 3.2), TypeError, "width 1.7 is a float"),
    ((128.0,), TypeError, "width 128.0 is a float"),
    ((True, 8), TypeError, "width True is a bool"),
    (128, TypeError, "of type int"),
])
def test_config_rejects_invalid_hidden_widths(hidden, error_type, detail):
    with pytest.raises(error_type, match="generator_hidden must be a nonempty sequence of positive integers") as error:
        TrainingConfig(generator_hidden=hidden)
    assert detail in str(error.value)


def test_config_keeps_integer_widths():
    assert TrainingConfig(generator_hidden=[np.int64(8), 16]).generator_hidden == (8, 16)
    assert TrainingConfig(generator_hidden=np.array([8, 16])).generator_hidden == (8, 16)
    assert TrainingConfig(generator_hidden=range(8, 10)).generator_hidden == (8, 9)


def test_config_rejects_two_dimensional_widths():
    with pytest.raises(TypeError, match="of type ndarray"):
        TrainingConfig(generator_hidden=np.array([[8, 16]]))


@pytest.mark.parametrize("sigma_min, sigma_max", [(1.0, 1.0), (2.0, 1.0)])
def test_config_rejects_unordered_noise_levels(sigma_min, sigma_max):
    with pytest.raises(ValueError, match="0 < sigma_min < sigma_max") as error:
        TrainingConfig(sigma_min=sigma_min, sigma_max=sigma_max)
    assert f"sigma_min={sigma_min}, sigma_max={sigma_max}" in str(error.value)


def test_score_network_rejects_equal_noise_levels():
    with pytest.raises(ValueError, match="sigma_min=0.5, sigma_max=0.5"):
        BatchedScoreNet(1, 1, 0.5, 0.5, 10)


# Checkpoints whose parts do not fit together.


@pytest.fixture(scope="module")
def gan_checkpoint(tmp_path_factory, one_thread_per_module):
    """Train two GAN runs for one epoch into a checkpoint folder; return the folder and the configuration."""
    folder = tmp_path_factory.mktemp("gan")
    config = _tiny(epochs=1)
    train("gan", ms=[2.0, 3.0], seeds=[0], config=config, checkpoint_dir=folder, progress=False)
    return folder, config


def _edit_checkpoint(source, target, edit):
    state = torch.load(checkpoint_path(source), weights_only=True)
    edit(state)
    save_checkpoint(target, state)


def _resume(folder, config, epochs=3):
    return train("gan", ms=[2.0, 3.0], seeds=[0], config=dataclasses.replace(config, epochs=epochs),
                 checkpoint_dir=folder, resume=True, progress=False)


def _wrong_moment_shape(state):
    state["optimizers"]["generator"]["state"][0]["exp_avg"] = torch.zeros(3)


def _missing_moment_state(state):
    del state["optimizers"]["discriminator"]["state"][1]


def _wide_step(state):
    state["optimizers"]["generator"]["state"][0]["step"] = torch.zeros(3)


def _missing_optimizer(state):
    del state["optimizers"]["generator"]


def _short_generators(state):
    state["generators"] = state["generators"][:1]


def _short_history(state):
    state["history"]["generator"] = state["history"]["generator"][:, :0]


def _missing_history(state):
    del state["history"]["generator"]


def _runs_not_a_list(state):
    state["runs"] = 5


@pytest.mark.parametrize("edit, detail", [
    (_missing_moment_state, "optimizer 'discriminator' has no state of parameter 1"),
    (_wide_step, "has a step of shape (3,)"),
    (_missing_optimizer, "optimizers has the keys ['discriminator']"),
    (_short_generators, "generators contains 1 generator states, expected 2"),
    (_short_history, "history 'generator' has shape (2, 0), expected (2, 1)"),
    (_missing_history, "history has the losses ['discriminator']"),
    (_runs_not_a_list, "runs=5, expected a list of [m, seed] pairs"),
])
def test_resume_rejects_inconsistent_checkpoint(gan_checkpoint, tmp_path, edit, detail):
    source, config = gan_checkpoint
    _edit_checkpoint(source, tmp_path, edit)
    with pytest.raises(CheckpointError, match="has invalid contents") as error:
        _resume(tmp_path, config)
    assert str(checkpoint_path(tmp_path)) in str(error.value)
    assert detail in str(error.value)


def test_resume_rejects_wrong_moment_shape(gan_checkpoint, tmp_path):
    # Loaded unchecked, such a state makes the fused Adam step corrupt the heap and abort the process, so the
    # resume runs in a child process, where a crash fails this test alone.
    source, config = gan_checkpoint
    _edit_checkpoint(source, tmp_path, _wrong_moment_shape)
    script = (
        "import dataclasses, sys, torch\n"
        "from isobounds_models.checkpoint import CheckpointError\n"
        "from isobounds_models.training import TrainingConfig, train\n"
        "torch.set_num_threads(1)\n"
        f"config = TrainingConfig.from_dict({config.to_dict()!r})\n"
        "try:\n"
        f"    train('gan', ms=[2.0, 3.0], seeds=[0], config=dataclasses.replace(config, epochs=3),\n"
        f"          checkpoint_dir={str(tmp_path)!r}, resume=True, progress=False)\n"
        "except CheckpointError as error:\n"
        "    print(error)\n"
        "    sys.exit(0)\n"
        "sys.exit('resume accepted the checkpoint')\n"
    )
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=environment,
                            timeout=300)

    assert result.returncode == 0, result.stderr[-2000:]
    assert str(checkpoint_path(tmp_path)) in result.stdout
    assert "optimizer 'generator' state 'exp_avg' of parameter 0 has shape (3,)" in result.stdout


def test_resume_rejects_unhashable_parameter_index(gan_checkpoint, tmp_path):
    source, config = gan_checkpoint
    _edit_checkpoint(source, tmp_path, lambda state: state["optimizers"]["generator"]["param_groups"][0]
                     ["params"].__setitem__(0, [0]))
    with pytest.raises(CheckpointError, match="invalid contents"):
        _resume(tmp_path, config)


def test_earlier_skip_without_connection_loads_as_plain(gan_checkpoint, tmp_path):
    # An earlier version accepted generator_skip="resnet" with widths that place no
    # skip, and trained a plain network: such a checkpoint loads and resumes as plain.
    source, config = gan_checkpoint
    _edit_checkpoint(source, tmp_path, lambda state: state["config"].__setitem__("generator_skip", "resnet"))
    with pytest.warns(UserWarning, match="reading the configuration with generator_skip='plain'"):
        loaded = TrainedModels.load(tmp_path)
    assert loaded.config.generator_skip == "plain"
    assert _resume(tmp_path, config, epochs=2).epochs_completed == 2


def test_resume_accepts_unedited_checkpoint(gan_checkpoint, tmp_path):
    source, config = gan_checkpoint
    _edit_checkpoint(source, tmp_path, lambda state: None)
    assert _resume(tmp_path, config, epochs=2).epochs_completed == 2


# Resume with other epochs or another configuration.


def test_resume_rejects_fewer_epochs(tmp_path):
    train("vae", ms=[1.0], seeds=[0], config=_tiny(epochs=3), checkpoint_dir=tmp_path, progress=False)
    with pytest.raises(ValueError, match="has completed 3 epochs, more than the requested epochs=2"):
        train("vae", ms=[1.0], seeds=[0], config=_tiny(epochs=2), checkpoint_dir=tmp_path, resume=True,
              progress=False)


def test_resume_of_finished_run_same_epochs(tmp_path):
    finished = train("vae", ms=[1.0], seeds=[0], config=_tiny(epochs=2), checkpoint_dir=tmp_path, progress=False)
    resumed = train("vae", ms=[1.0], seeds=[0], config=_tiny(epochs=2), checkpoint_dir=tmp_path, resume=True,
                    progress=False)
    assert resumed.epochs_completed == 2
    assert np.array_equal(resumed.history["loss"], finished.history["loss"])


def test_mismatch_message_lists_only_differences(tmp_path):
    train("vae", ms=[1.0], seeds=[0], config=_tiny(epochs=1), checkpoint_dir=tmp_path, progress=False)
    with pytest.raises(ValueError, match="does not match this training") as error:
        train("vae", ms=[1.0], seeds=[0], config=_tiny(epochs=1, lr=0.5), checkpoint_dir=tmp_path, resume=True,
              progress=False)
    message = str(error.value)
    assert "differing settings ['lr']" in message
    assert "model" not in message
    assert "runs" not in message


def test_mismatch_message_names_other_model(tmp_path):
    train("vae", ms=[1.0], seeds=[0], config=_tiny(epochs=1), checkpoint_dir=tmp_path, progress=False)
    with pytest.raises(ValueError, match="model 'vae' vs 'gan'") as error:
        train("gan", ms=[1.0], seeds=[0], config=_tiny(epochs=1), checkpoint_dir=tmp_path, resume=True,
              progress=False)
    assert "runs" not in str(error.value)
    assert "differing settings" not in str(error.value)


# Temporary files left by a killed checkpoint write.


def test_temporary_file_names():
    assert is_temporary_file(".checkpoint.pt.k2x_9abc.tmp")
    assert is_temporary_file(".lipschitz_by_epoch.json.abcdefgh.tmp")
    assert not is_temporary_file("checkpoint.pt")
    assert not is_temporary_file("checkpoint.pt.tmp")
    assert not is_temporary_file(".checkpoint.pt.ABC.tmp")


def test_has_files_ignores_temporary_files(tmp_path):
    (tmp_path / "gan").mkdir()
    (tmp_path / "gan" / ".checkpoint.pt.abc12345.tmp").write_bytes(b"partial")
    assert not _has_files(tmp_path)
    (tmp_path / "gan" / "checkpoint.pt").write_bytes(b"complete")
    assert _has_files(tmp_path)


def test_save_checkpoint_removes_stale_temporary_files(tmp_path):
    stale = [tmp_path / ".checkpoint.pt.abc12345.tmp", tmp_path / ".checkpoint.pt.zz_0.tmp"]
    unrelated = [tmp_path / ".report.json.abc12345.tmp", tmp_path / ".checkpoint.pt.notes",
                 tmp_path / "checkpoint.pt.tmp", tmp_path / ".xcheckpoint.pt.abc12345.tmp"]
    for path in stale + unrelated:
        path.write_bytes(b"partial")

    save_checkpoint(tmp_path, {"epoch": 0})

    assert checkpoint_path(tmp_path).is_file()
    for path in stale:
        assert not path.exists(), path.name
    for path in unrelated:
        assert path.exists(), path.name


def test_train_after_killed_write_needs_no_resume(tmp_path, capsys):
    folder = tmp_path / "checkpoints" / "gan"
    folder.mkdir(parents=True)
    leftover = folder / ".checkpoint.pt.abc12345.tmp"
    leftover.write_bytes(b"partial")

    status = main(["train", "--model", "gan", "--m", "1", "--profile", "micro", "--device", "cpu",
                   "--out", str(tmp_path)])

    assert status == 0, capsys.readouterr().err
    assert checkpoint_path(folder).is_file()
    assert not leftover.exists()


# Sampling with seed=None.


def test_sample_all_without_seed_uses_global_generator():
    trained = train("gan", ms=[1.0], seeds=[0], config=_tiny(epochs=1), progress=False)
    torch.manual_seed(7)
    first = trained.sample_all(20, seed=None)
    torch.manual_seed(7)
    second = trained.sample_all(20, seed=None)
    assert np.array_equal(first, second)


@pytest.mark.parametrize("edit", [
    lambda config: config.update(generator_skip="resnet", generator_hidden=128),
    lambda config: config.update(generator_skip=["resnet"]),
])
def test_resume_rejects_malformed_saved_skip(gan_checkpoint, tmp_path, edit):
    source, config = gan_checkpoint
    _edit_checkpoint(source, tmp_path, lambda state: edit(state["config"]))
    with pytest.raises(ValueError, match="does not match this training"):
        _resume(tmp_path, config)


def test_from_dict_reports_empty_widths_without_skip_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="generator_hidden must be a nonempty sequence"):
            TrainingConfig.from_dict({"generator_skip": "densenet", "generator_hidden": []})


@pytest.mark.parametrize("value", ["false", 0, None])
def test_spectral_norm_setting_must_be_bool(value):
    with pytest.raises(TypeError, match="generator_spectral_norm must be a bool"):
        TrainingConfig(generator_spectral_norm=value)


def test_spectral_norm_numpy_bool_is_stored_as_bool():
    config = TrainingConfig(generator_spectral_norm=np.bool_(True))
    assert config.generator_spectral_norm is True
