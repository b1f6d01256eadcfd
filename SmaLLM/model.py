"""A word-level recurrent language model: embedding -> LSTM (or GRU) -> linear read-out.

    logits, state = model(ids, state)   # ids (batch, time) -> logits (batch, time, vocab)

Tokens become vectors: row `i` of the embedding table is the learned vector of word `i`.
With `tie_weights` the read-out layer reuses that same table (the score of word `i` is the dot
product of the last hidden vector with word `i`'s embedding), which halves the parameters and
usually helps a small model on a small corpus.
"""

from __future__ import annotations

from torch import nn


class WordRNN(nn.Module):
    def __init__(self, cell: str, vocab_size: int, embed_size: int, hidden_size: int,
                 num_layers: int, dropout: float, tie_weights: bool):
        super().__init__()
        rnn_class = {"gru": nn.GRU, "lstm": nn.LSTM}[cell]
        self.embed = nn.Embedding(vocab_size, embed_size)
        self.rnn = rnn_class(embed_size, hidden_size, num_layers, batch_first=True,
                             dropout=dropout if num_layers > 1 else 0.0)
        self.drop = nn.Dropout(dropout)
        # Tying needs the read-out's input to be embedding-sized: project if the widths differ.
        self.project = (nn.Linear(hidden_size, embed_size)
                        if tie_weights and hidden_size != embed_size else nn.Identity())
        self.head = nn.Linear(embed_size if tie_weights else hidden_size, vocab_size)
        if tie_weights:
            self.head.weight = self.embed.weight  # one (vocab, embed) table, used twice
        nn.init.uniform_(self.embed.weight, -0.1, 0.1)

    def forward(self, idx, state=None):
        x = self.drop(self.embed(idx))  # (batch, time, embed)
        out, state = self.rnn(x, state)  # (batch, time, hidden)
        out = self.project(self.drop(out))  # (batch, time, embed or hidden)
        return self.head(out), state  # (batch, time, vocab)


def build_model(model_config: dict) -> WordRNN:
    """Model from the plain dict stored in config.json and in every checkpoint."""
    return WordRNN(model_config["model"], model_config["vocab_size"], model_config["embed_size"],
                   model_config["hidden_size"], model_config["num_layers"],
                   model_config["dropout"], model_config["tie_weights"])

