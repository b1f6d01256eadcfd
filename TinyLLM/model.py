"""The TinyLLM model ladder: a bigram table, then three recurrent cells behind one interface.

Every model maps a batch of character ids to next-character logits and carries a recurrent
state from one chunk of text to the next:

    logits, state = model(idx, state)   # idx (batch, time) -> logits (batch, time, vocab)

* bigram: a (vocab, vocab) table of logits; sees only the current character.
* rnn:    h_t = tanh(W x_t + U h_{t-1}); gradients through many steps shrink or blow up.
* gru / lstm: gates decide what to keep in the state, so information (and gradient) can
  survive many steps. That is why they learn far more from the same text.
"""

from __future__ import annotations

from torch import nn


class Bigram(nn.Module):
    """Next-character logits from the current character alone: the simplest neural LM."""

    def __init__(self, vocab_size: int, **_unused):
        super().__init__()
        self.table = nn.Embedding(vocab_size, vocab_size)
        nn.init.zeros_(self.table.weight)  # start at the uniform distribution, loss = ln(vocab)

    def forward(self, idx, state=None):
        return self.table(idx), None  # (batch, time, vocab); no state to carry


class CharRNN(nn.Module):
    """Embedding -> stacked recurrent layers -> linear read-out to the vocabulary."""

    def __init__(self, cell: str, vocab_size: int, embed_size: int, hidden_size: int,
                 num_layers: int, dropout: float):
        super().__init__()
        rnn_class = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}[cell]
        self.embed = nn.Embedding(vocab_size, embed_size)
        self.rnn = rnn_class(embed_size, hidden_size, num_layers, batch_first=True,
                             dropout=dropout if num_layers > 1 else 0.0)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, idx, state=None):
        x = self.drop(self.embed(idx))  # (batch, time, embed)
        out, state = self.rnn(x, state)  # (batch, time, hidden); state: (layers, batch, hidden)
        return self.head(self.drop(out)), state  # (batch, time, vocab)


def build_model(model_config: dict) -> nn.Module:
    """Model from the plain dict stored in config.json and in every checkpoint."""
    kind = model_config["model"]
    if kind == "bigram":
        return Bigram(model_config["vocab_size"])
    return CharRNN(kind, model_config["vocab_size"], model_config["embed_size"],
                   model_config["hidden_size"], model_config["num_layers"],
                   model_config["dropout"])

