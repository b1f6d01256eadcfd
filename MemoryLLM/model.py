"""The MemoryLLM network in Keras: LSTM layers over a window of daily features, then dense
layers to one number (tomorrow's scaled log return, or price).

    window (batch, lookback, features)
      -> LSTM x layers (optionally bidirectional), dropout after each
      -> last hidden state, or with --attention an attention-weighted sum of all of them
      -> Dense(dense_units, relu) -> Dense(1)

The LSTM carries a cell state through the window; its gates decide what to write, keep and
read, which is what lets it remember day 5 of the window when it reaches day 60.
"""

from __future__ import annotations

import keras
from keras import layers


@keras.saving.register_keras_serializable(package="MemoryLLM")
class AdditiveAttentionPooling(layers.Layer):
    """score_t = v . tanh(W h_t); weights = softmax over t; output = sum_t weights_t h_t.

    The weights say which days of the window the forecast leaned on: stage 3's bridge to the
    attention of stage 4.
    """

    def __init__(self, units: int, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.project = layers.Dense(units, activation="tanh")
        self.score = layers.Dense(1, use_bias=False)

    def call(self, hidden, return_weights: bool = False):
        scores = self.score(self.project(hidden))  # (batch, time, 1)
        weights = keras.ops.softmax(scores, axis=1)  # (batch, time, 1)
        pooled = keras.ops.sum(weights * hidden, axis=1)  # (batch, hidden)
        return (pooled, keras.ops.squeeze(weights, -1)) if return_weights else pooled

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def build_model(lookback: int, n_features: int, layers_count: int = 1, units: int = 32,
                dense_units: int = 16, dropout: float = 0.2, bidirectional: bool = False,
                attention: bool = False, optimizer: dict | None = None, loss: str = "mse",
                lstm_init: dict | None = None, dense_init: dict | None = None) -> keras.Model:
    """The compiled network. `optimizer` holds keras.optimizers.Adam's arguments, `lstm_init`
    and `dense_init` the layers' initialiser arguments (config.py passes Keras's defaults
    spelled out, so that recipe() describes exactly what is built)."""
    lstm_init, dense_init = lstm_init or {}, dense_init or {}
    inputs = keras.Input(shape=(lookback, n_features), name="window")  # (batch, lookback, f)
    x = inputs
    for i in range(layers_count):
        keep_sequence = attention or i < layers_count - 1
        lstm = layers.LSTM(units, return_sequences=keep_sequence, name=f"lstm_{i + 1}", **lstm_init)
        x = layers.Bidirectional(lstm, name=f"bi_lstm_{i + 1}")(x) if bidirectional else lstm(x)
        x = layers.Dropout(dropout)(x)  # (batch, [lookback,] units or 2 * units)
    if attention:
        x = AdditiveAttentionPooling(units, name="attention")(x)  # (batch, hidden)
    x = layers.Dense(dense_units, activation="relu", name="hidden", **dense_init)(x)
    outputs = layers.Dense(1, name="forecast", **dense_init)(x)  # (batch, 1)
    model = keras.Model(inputs, outputs, name="memoryllm")
    model.compile(optimizer=keras.optimizers.Adam(**(optimizer or {})), loss=loss)
    return model


def training_callbacks(settings: dict) -> list[keras.callbacks.Callback]:
    """EarlyStopping and ReduceLROnPlateau from MemoryConfig.callback_settings(). Both watch
    the validation loss only: the test split is not touched while training."""
    return [keras.callbacks.EarlyStopping(**settings["early_stopping"]),
            keras.callbacks.ReduceLROnPlateau(**settings["plateau"])]
