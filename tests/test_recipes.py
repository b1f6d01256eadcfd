"""The framework-matched control: CodeLLM's PyTorch LSTM must train with stage 3's recipe
exactly, so that "PyTorch LSTM vs Keras LSTM" isolates the framework. The recipes are compared
field by field, each is read back off the objects its stage builds (so the code cannot drift
from the recipe dict), and the PyTorch network with Keras's weights copied in must compute the
Keras network's forecast."""

import os

import numpy as np
import pytest
import torch
from conftest import ROOT

from shared.runtime import devices
from shared.runtime.config import parse_stage_args

from tools.loader import load_stage_config

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
keras = pytest.importorskip("keras")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:keras.*")

# By path: both stages have a config.py and a model.py.
memory_config = load_stage_config(ROOT / "MemoryLLM" / "config.py")
memory_model = load_stage_config(ROOT / "MemoryLLM" / "model.py")
code_config = load_stage_config(ROOT / "CodeLLM" / "forecaster" / "config.py")
code_model = load_stage_config(ROOT / "CodeLLM" / "forecaster" / "model.py")

KEYS = ["optimizer", "learning_rate", "adam_beta1", "adam_beta2", "adam_epsilon", "weight_decay",
        "lr_schedule", "warmup_steps", "grad_clip", "dropout", "batch_size", "max_epochs",
        "early_stopping_patience", "early_stopping_min_delta", "restore_best_weights",
        "initialisation", "shuffle", "loss"]
# What the transformer keeps of its own (the page names these as the remaining differences).
TRANSFORMER_ONLY = {"optimizer", "adam_epsilon", "weight_decay", "lr_schedule", "warmup_steps",
                    "grad_clip", "dropout", "initialisation"}


def configs(smoke: bool):
    """Stage 3's settings and the control's, as each train.py builds them (with --smoke or not)."""
    flags = ["--smoke"] if smoke else []
    keras_cfg, _ = parse_stage_args(memory_config.MemoryConfig, "", memory_config.SMOKE_OVERRIDES,
                                    flags, resumable=False)
    torch_cfg, _ = parse_stage_args(code_config.ForecastConfig, "", code_config.SMOKE_OVERRIDES,
                                    ["--arch", "lstm", *flags], resumable=False)
    return keras_cfg, torch_cfg


def keras_network(cfg, n_features: int):
    """Stage 3's compiled network and callbacks, built as MemoryLLM/train.py builds them."""
    keras.utils.set_random_seed(0)
    model = memory_model.build_model(
        cfg.lookback, n_features, cfg.layers, cfg.units, cfg.dense_units, cfg.dropout,
        cfg.bidirectional, cfg.attention, optimizer=cfg.optimizer_settings(),
        loss=memory_config.LOSS, lstm_init=memory_config.INITIALISERS,
        dense_init=memory_config.DENSE_INITIALISERS)
    return model, memory_model.training_callbacks(cfg.callback_settings())


@pytest.mark.parametrize("smoke", [False, True])
def test_the_control_trains_with_stage_3s_recipe_field_by_field(smoke):
    keras_cfg, torch_cfg = configs(smoke)
    keras_recipe, torch_recipe = keras_cfg.recipe(), torch_cfg.recipe()
    assert list(keras_recipe) == KEYS and list(torch_recipe) == KEYS
    for key in KEYS:
        assert torch_recipe[key] == keras_recipe[key], key
    # What stage 3 is, in numbers (Keras's Adam, mse, no decay, no clipping, no warm-up).
    assert keras_recipe["optimizer"] == "Adam" and keras_recipe["adam_epsilon"] == 1e-7
    assert keras_recipe["dropout"] == 0.2 and keras_recipe["weight_decay"] == 0.0
    assert keras_recipe["warmup_steps"] == 0 and keras_recipe["grad_clip"] is None
    assert keras_recipe["early_stopping_patience"] == (1 if smoke else 6)
    assert f"after {1 if smoke else 3} epoch(s)" in keras_recipe["lr_schedule"]


def test_the_transformer_keeps_its_recipe_and_flags_override_either():
    lstm = code_config.ForecastConfig(arch="lstm").recipe()
    transformer = code_config.ForecastConfig(arch="transformer").recipe()
    assert {k for k in KEYS if lstm[k] != transformer[k]} == TRANSFORMER_ONLY
    assert (transformer["optimizer"], transformer["weight_decay"], transformer["warmup_steps"],
            transformer["grad_clip"], transformer["dropout"]) == ("AdamW", 0.01, 50, 1.0, 0.1)
    assert "50-step linear warm-up" in transformer["lr_schedule"]
    cfg, _ = parse_stage_args(code_config.ForecastConfig, "", {}, [
        "--arch", "lstm", "--dropout", "0.3", "--warmup-steps", "7", "--grad-clip", "2"],
        resumable=False)
    assert (cfg.dropout, cfg.warmup_steps, cfg.grad_clip, cfg.optimizer) == (0.3, 7, 2.0, "adam")
    cfg, _ = parse_stage_args(code_config.ForecastConfig, "", {}, ["--optimizer", "adam",
                                                                   "--grad-clip", "0"],
                              resumable=False)
    assert cfg.recipe()["optimizer"] == "Adam" and cfg.recipe()["grad_clip"] is None
    assert cfg.weight_decay == 0.01  # the rest stays the transformer's


def test_keras_objects_are_what_stage_3s_recipe_says():
    cfg, _ = configs(smoke=False)
    recipe = cfg.recipe()
    model, (stopping, plateau) = keras_network(cfg, n_features=5)
    opt = model.optimizer
    assert type(opt).__name__ == recipe["optimizer"]
    assert float(opt.learning_rate) == pytest.approx(recipe["learning_rate"])
    assert (opt.beta_1, opt.beta_2, opt.epsilon) == (recipe["adam_beta1"], recipe["adam_beta2"],
                                                     recipe["adam_epsilon"])
    assert opt.weight_decay is None and recipe["weight_decay"] == 0.0
    assert opt.clipnorm is None and opt.global_clipnorm is None and opt.clipvalue is None
    assert recipe["grad_clip"] is None
    assert model.loss == recipe["loss"]
    # Keras's defaults, as the recipe claims: a bare Adam and a bare ReduceLROnPlateau agree.
    bare = keras.optimizers.Adam()
    assert (bare.beta_1, bare.beta_2, bare.epsilon) == (opt.beta_1, opt.beta_2, opt.epsilon)
    bare_plateau = keras.callbacks.ReduceLROnPlateau()
    assert (bare_plateau.min_delta, bare_plateau.cooldown, bare_plateau.min_lr) == (
        plateau.min_delta, plateau.cooldown, plateau.min_lr)

    assert stopping.monitor == plateau.monitor == "val_loss"
    assert stopping.patience == recipe["early_stopping_patience"]
    assert stopping.min_delta == recipe["early_stopping_min_delta"]
    assert stopping.restore_best_weights is recipe["restore_best_weights"]
    assert memory_config.plateau_schedule(plateau.patience, plateau.factor, plateau.min_delta,
                                          plateau.cooldown, plateau.min_lr) == recipe["lr_schedule"]
    dropouts = [layer.rate for layer in model.layers if isinstance(layer, keras.layers.Dropout)]
    assert dropouts == [recipe["dropout"]]

    lstm = model.get_layer("lstm_1")
    bare_lstm = keras.layers.LSTM(4)
    for name in ("kernel_initializer", "recurrent_initializer", "bias_initializer"):
        assert type(getattr(lstm, name)) is type(getattr(bare_lstm, name)), name  # the defaults
    names = {type(lstm.kernel_initializer).__name__, type(lstm.recurrent_initializer).__name__}
    assert names == {"GlorotUniform", "Orthogonal"} and lstm.unit_forget_bias
    for layer in (model.get_layer("hidden"), model.get_layer("forecast")):
        assert type(layer.kernel_initializer).__name__ == "GlorotUniform"
        assert type(layer.bias_initializer).__name__ == "Zeros"
    bias = lstm.get_weights()[2].reshape(4, cfg.units)  # gates i, f, c, o
    assert np.all(bias[1] == 1) and np.all(bias[[0, 2, 3]] == 0)
    assert "glorot_uniform" in recipe["initialisation"] and "orthogonal" in recipe["initialisation"]


@pytest.mark.parametrize("arch", ["lstm", "transformer"])
def test_torch_objects_are_what_the_control_recipe_says(arch):
    cfg = code_config.ForecastConfig(arch=arch)
    recipe = cfg.recipe()
    model = code_model.build_model(cfg.model_config(n_features=5))
    optimizer = cfg.make_optimizer(model.parameters())
    plateau = cfg.make_plateau(optimizer)
    settings = optimizer.defaults
    assert type(optimizer).__name__ == recipe["optimizer"]
    assert settings["lr"] == recipe["learning_rate"]
    assert settings["betas"] == (recipe["adam_beta1"], recipe["adam_beta2"])
    assert settings["eps"] == recipe["adam_epsilon"]
    assert settings["weight_decay"] == recipe["weight_decay"]
    assert not settings["amsgrad"]
    # PyTorch halves once the bad epochs exceed its patience, Keras once they reach it.
    assert plateau.mode == "min" and plateau.threshold_mode == "abs"
    schedule = code_config.plateau_schedule(plateau.patience + 1, plateau.factor,
                                            plateau.threshold, plateau.cooldown, plateau.min_lrs[0])
    assert recipe["lr_schedule"].startswith(schedule)
    dropouts = [m.p for m in model.modules() if isinstance(m, torch.nn.Dropout)]
    assert dropouts and set(dropouts) == {recipe["dropout"]}


def test_the_two_plateau_schedules_halve_on_the_same_epochs():
    """Drive Keras's ReduceLROnPlateau and the control's with the same validation losses
    (falls, a fall smaller than min_delta, stalls) and compare the learning rate epoch by epoch."""
    keras_cfg, torch_cfg = configs(smoke=False)
    model, (_, keras_plateau) = keras_network(keras_cfg, n_features=3)
    keras_plateau.set_model(model)
    keras_plateau.on_train_begin()
    optimizer = torch_cfg.make_optimizer([torch.nn.Parameter(torch.zeros(1))])
    torch_plateau = torch_cfg.make_plateau(optimizer)
    losses = [1.0, 0.9, 0.89995, 0.9, 0.95, 0.5, 0.49995, 0.49991, 0.49992, 0.6, 0.3, 0.3, 0.3,
              0.3, 0.3, 0.3, 0.3]
    keras_lrs, torch_lrs = [], []
    for epoch, loss in enumerate(losses):
        keras_plateau.on_epoch_end(epoch, {"val_loss": loss})
        torch_plateau.step(loss)
        keras_lrs.append(float(model.optimizer.learning_rate))
        torch_lrs.append(optimizer.param_groups[0]["lr"])
    assert torch_lrs == pytest.approx(keras_lrs, rel=1e-6)
    # By hand: the 3rd epoch after 0.9 without a fall of more than 1e-4 (0.95) halves the rate;
    # so does the 3rd after 0.5 (0.49995, 0.49991, 0.49992 fall by less), and the 3rd and 6th
    # repeat of 0.3 (the count restarts after each halving).
    assert torch_lrs == pytest.approx([1e-3] * 4 + [5e-4] * 4 + [2.5e-4] * 5 + [1.25e-4] * 3
                                      + [6.25e-5])


def test_lstm_forecaster_starts_from_keras_initialisation():
    torch.manual_seed(0)
    features, units, dense = 7, 16, 8
    model = code_model.LSTMForecaster(features, units=units, dense_units=dense)
    lstm = model.lstm
    bias = lstm.bias_ih_l0.detach().reshape(4, units)  # gates i, f, g, o: Keras's order
    assert torch.all(bias[1] == 1) and torch.all(bias[[0, 2, 3]] == 0)
    assert torch.all(lstm.bias_hh_l0 == 0) and not lstm.bias_hh_l0.requires_grad
    recurrent = lstm.weight_hh_l0.detach()  # (4 units, units): Keras's kernel transposed
    assert torch.allclose(recurrent.T @ recurrent, torch.eye(units), atol=1e-5)
    for weight, fan in ((lstm.weight_ih_l0, features + 4 * units), (model.dense[0].weight,
                                                                    units + dense)):
        limit = np.sqrt(6 / fan)  # glorot_uniform on Keras's (fan_in, fan_out)
        largest = weight.detach().abs().max().item()
        # PyTorch's own init (1/sqrt(units) = 0.25 here) would stay well below the bound.
        assert 0.9 * limit < largest <= limit
    assert torch.all(model.dense[0].bias == 0) and torch.all(model.head.bias == 0)


def test_pytorch_lstm_with_keras_weights_computes_the_keras_forecast():
    """The same network: stage 3's Keras model, its weights copied into the control, must give
    the same output on the same windows, with the same number of trained parameters."""
    cfg, _ = configs(smoke=True)
    features = 5
    keras_model, _ = keras_network(cfg, features)
    weights = {layer.name: layer.get_weights() for layer in keras_model.layers if layer.weights}
    kernel, recurrent, bias = weights["lstm_1"]
    control = code_model.LSTMForecaster(features, units=cfg.units, dense_units=cfg.dense_units)
    with torch.no_grad():
        control.lstm.weight_ih_l0.copy_(torch.from_numpy(kernel.T))
        control.lstm.weight_hh_l0.copy_(torch.from_numpy(recurrent.T))
        control.lstm.bias_ih_l0.copy_(torch.from_numpy(bias))
        for linear, name in ((control.dense[0], "hidden"), (control.head, "forecast")):
            linear.weight.copy_(torch.from_numpy(weights[name][0].T))
            linear.bias.copy_(torch.from_numpy(weights[name][1]))
    windows = np.random.default_rng(0).normal(size=(6, cfg.lookback, features)).astype("float32")
    expected = keras_model.predict_on_batch(windows)  # (6, 1), dropout off
    got = control.eval()(torch.from_numpy(windows)).detach().numpy()
    assert np.abs(expected).max() > 1e-2  # not a trivial all-zero output
    np.testing.assert_allclose(got, expected, atol=1e-5)
    assert devices.count_params(control) == keras_model.count_params()
