"""Two toy sequence-to-sequence tasks, and a token transformer built from the forecaster's blocks
in model.py. Training, evaluation and plots are in train_seq2seq.py:

    python CodeLLM/train_seq2seq.py --task reverse          # "red fox runs" -> "runs fox red"
    python CodeLLM/train_seq2seq.py --task number-words     # "1007" -> "one thousand seven"

Tasks: `reverse` writes a sentence's words in reverse order; `number-words` spells an integer
from 0 to 999,999, read digit by digit, in English words. Every source sequence is unique, and
the train / validation / test split is made on the sources, so no test input is ever trained on.

Model, for a padded batch of source ids (batch, S) and target ids (batch, T):

    source -> token embedding + positional encoding             (batch, S, d_model)
      -> encoder: self-attention blocks, padding masked out    (batch, S, d_model)
    target so far (<bos> first) -> embedding + position         (batch, T, d_model)
      -> decoder: causal self-attention, cross-attention to the encoder
      -> LayerNorm, linear head                                (batch, T, target vocabulary)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from model import DecoderBlock, EncoderBlock, causal_mask, positional_encoding

from shared.runtime.config import RuntimeConfig, opt
from shared.runtime.errors import UserError

STAGE_DIR = Path(__file__).resolve().parent

TASKS = ("reverse", "number-words")

# ---------------------------------------------------------------------------------------------
# data

WORDS = ("red", "blue", "green", "old", "young", "small", "big", "quick", "slow", "happy",
         "fox", "dog", "cat", "bird", "fish", "horse", "king", "queen", "child", "farmer",
         "runs", "jumps", "sees", "eats", "likes", "finds", "sings", "sleeps",
         "the", "a", "near", "over")
ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
        "fifteen sixteen seventeen eighteen nineteen").split()
TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
LARGEST_NUMBER = 999_999
NUMBER_DIGITS = len(str(LARGEST_NUMBER))
LONGEST_NUMBER_WORDS = 9  # 777,777: "seven hundred seventy seven thousand seven hundred seventy seven"


def _below_thousand(n: int) -> list[str]:
    words = []
    if n >= 100:
        words += [ONES[n // 100], "hundred"]
        n %= 100
    if n >= 20:
        words.append(TENS[n // 10])
        n %= 10
    if n:  # 1..19 (the teens have their own words)
        words.append(ONES[n])
    return words


def number_to_words(n: int) -> str:
    """245 -> "two hundred forty five"; 1007 -> "one thousand seven"; 0 -> "zero"."""
    if not 0 <= n <= LARGEST_NUMBER:
        raise ValueError(f"{n} is outside 0..{LARGEST_NUMBER}")
    if n == 0:
        return "zero"
    thousands, rest = divmod(n, 1000)
    words = _below_thousand(thousands) + ["thousand"] if thousands else []
    return " ".join(words + _below_thousand(rest))


class Vocab:
    """Tokens <-> ids, with the three special ids every sequence model here needs."""

    PAD, BOS, EOS = 0, 1, 2
    SPECIALS = ("<pad>", "<bos>", "<eos>")

    def __init__(self, tokens):
        self.itos = [*self.SPECIALS, *dict.fromkeys(tokens)]  # dict: unique, order kept
        self.stoi = {token: i for i, token in enumerate(self.itos)}

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, tokens: list[str]) -> list[int]:
        return [self.stoi[t] for t in tokens]

    def decode(self, ids) -> list[str]:
        """Ids -> tokens, up to the first <eos>; <pad> and <bos> are dropped."""
        tokens = []
        for i in ids:
            if int(i) == self.EOS:
                break
            if int(i) not in (self.PAD, self.BOS):
                tokens.append(self.itos[int(i)])
        return tokens


@dataclass
class Split:
    sources: list[list[str]]  # token lists
    targets: list[list[str]]

    def __len__(self) -> int:
        return len(self.sources)


@dataclass
class TaskData:
    task: str
    source_vocab: Vocab
    target_vocab: Vocab
    max_source_len: int  # tokens, <eos> included
    max_target_len: int  # tokens, <bos> and <eos> included
    train: Split
    val: Split
    test: Split

    def tensors(self, split: Split) -> tuple[torch.Tensor, torch.Tensor]:
        """Padded ids: sources `w1 .. wn <eos>` (N, S), targets `<bos> v1 .. vm <eos>` (N, T)."""
        src = torch.full((len(split), self.max_source_len), Vocab.PAD, dtype=torch.long)
        tgt = torch.full((len(split), self.max_target_len), Vocab.PAD, dtype=torch.long)
        for i, (source, target) in enumerate(zip(split.sources, split.targets, strict=True)):
            # The source's <eos> gives the encoder a fixed landmark: "the last word" is the one
            # just before it, which is where reversal starts.
            ids = self.source_vocab.encode(source) + [Vocab.EOS]
            src[i, : len(ids)] = torch.tensor(ids)
            ids = [Vocab.BOS, *self.target_vocab.encode(target), Vocab.EOS]
            tgt[i, : len(ids)] = torch.tensor(ids)
        return src, tgt


def _unique_draws(draw, count: int) -> list[tuple]:
    """Call `draw()` (one random source) until `count` distinct sources are found, in order."""
    seen: dict[tuple, None] = {}
    while len(seen) < count:
        seen[draw()] = None
    return list(seen)


def make_data(task: str, train_size: int, val_size: int, test_size: int, seed: int = 0,
              min_words: int = 3, max_words: int = 8) -> TaskData:
    """Distinct random sources split into train / validation / test: the split is on the
    source, so no held-out input appears in training (a test checks it)."""
    if task not in TASKS:
        raise UserError(f"--task {task}: choose one of {', '.join(TASKS)}")
    if min(train_size, val_size, test_size) < 1:
        raise UserError("--train-size, --val-size and --test-size must each be at least 1")
    rng = np.random.default_rng(seed)
    total = train_size + val_size + test_size
    if task == "reverse":
        if not 1 <= min_words <= max_words:
            raise UserError(f"--min-words {min_words} and --max-words {max_words}: need "
                            "1 <= min-words <= max-words")
        possible = sum(len(WORDS) ** n for n in range(min_words, max_words + 1))

        def draw():
            length = int(rng.integers(min_words, max_words + 1))
            return tuple(WORDS[i] for i in rng.integers(0, len(WORDS), length))

        source_tokens, longest_source, longest_target = WORDS, max_words, max_words
    else:
        possible = LARGEST_NUMBER + 1

        def draw():
            # Uniform over the number of digits, not over the numbers: otherwise nine draws in
            # ten have six digits and short numbers are almost never seen.
            digits = int(rng.integers(1, NUMBER_DIGITS + 1))
            low = 0 if digits == 1 else 10 ** (digits - 1)
            return tuple(str(int(rng.integers(low, 10**digits))))

        source_tokens, longest_source, longest_target = "0123456789", NUMBER_DIGITS, LONGEST_NUMBER_WORDS
    if total > possible // 2:  # beyond that, drawing distinct sources at random crawls
        raise UserError(f"{task}: {total:,} examples asked for (train + val + test), but only "
                        f"{possible:,} distinct sources exist; ask for at most {possible // 2:,}")
    sources = _unique_draws(draw, total)
    # Shuffle: the first draws hold most of the short sources (there are few of them, so they
    # repeat and stop being new), and the test split must not be the short ones.
    sources = [sources[i] for i in rng.permutation(total)]
    if task == "reverse":
        targets = [list(reversed(s)) for s in sources]
    else:
        targets = [number_to_words(int("".join(s))).split() for s in sources]
    sources = [list(s) for s in sources]
    target_tokens = WORDS if task == "reverse" else [*ONES, *TENS[2:], "hundred", "thousand"]
    cut1, cut2 = test_size, test_size + val_size
    return TaskData(task, Vocab(source_tokens), Vocab(target_tokens), longest_source + 1,
                    longest_target + 2, train=Split(sources[cut2:], targets[cut2:]),
                    val=Split(sources[cut1:cut2], targets[cut1:cut2]),
                    test=Split(sources[:cut1], targets[:cut1]))


def show_source(task: str, tokens: list[str]) -> str:
    """Digits read as a number, words as a sentence."""
    return "".join(tokens) if task == "number-words" else " ".join(tokens)


# ---------------------------------------------------------------------------------------------
# model


class MaskedEncoderBlock(EncoderBlock):
    """model.py's EncoderBlock with a key mask: sentences of different lengths are padded to one
    length, and no word may attend to the padding. (The forecaster's windows are never padded,
    so its blocks take no such mask.)"""

    def forward(self, x: torch.Tensor, keys: torch.Tensor):  # x (batch, S, d_model)
        h = self.norm1(x)
        attended, weights = self.attention(h, h, keys)  # keys (batch, 1, 1, S): True = a token
        x = x + self.dropout(attended)
        x = x + self.dropout(self.ff(self.norm2(x)))
        return x, weights


class MaskedDecoderBlock(DecoderBlock):
    """model.py's DecoderBlock whose cross-attention skips the source's padding."""

    def forward(self, y: torch.Tensor, memory: torch.Tensor, causal: torch.Tensor,
                keys: torch.Tensor):
        h = self.norms[0](y)  # (batch, T, d_model)
        y = y + self.dropout(self.self_attention(h, h, causal)[0])
        attended, weights = self.cross_attention(self.norms[1](y), memory, keys)
        y = y + self.dropout(attended)
        y = y + self.dropout(self.ff(self.norms[2](y)))
        return y, weights  # weights: (batch, heads, T, S)


class Seq2SeqTransformer(nn.Module):
    def __init__(self, source_vocab_size: int, target_vocab_size: int, max_source_len: int,
                 max_target_len: int, d_model: int = 64, heads: int = 4, encoder_layers: int = 2,
                 decoder_layers: int = 2, ff_size: int = 128, dropout: float = 0.0,
                 pos_encoding: str = "sinusoidal"):
        super().__init__()
        self.max_target_len = max_target_len
        self.source_embed = nn.Embedding(source_vocab_size, d_model, padding_idx=Vocab.PAD)
        self.target_embed = nn.Embedding(target_vocab_size, d_model, padding_idx=Vocab.PAD)
        self.source_position = positional_encoding(pos_encoding, max_source_len, d_model)
        self.target_position = positional_encoding(pos_encoding, max_target_len, d_model)
        self.encoder = nn.ModuleList(MaskedEncoderBlock(d_model, heads, ff_size, dropout)
                                     for _ in range(encoder_layers))
        self.encoder_norm = nn.LayerNorm(d_model)
        self.decoder = nn.ModuleList(MaskedDecoderBlock(d_model, heads, ff_size, dropout)
                                     for _ in range(decoder_layers))
        self.decoder_norm = nn.LayerNorm(d_model)  # pre-norm blocks leave the sum unnormalised
        self.head = nn.Linear(d_model, target_vocab_size)

    def encode(self, src: torch.Tensor):
        """src (batch, S) ids -> memory (batch, S, d_model) and the key mask (batch, 1, 1, S)."""
        keys = (src != Vocab.PAD)[:, None, None, :]
        h = self.source_position(self.source_embed(src))  # (batch, S, d_model)
        for block in self.encoder:
            h, _ = block(h, keys)
        return self.encoder_norm(h), keys

    def decode(self, tgt_in: torch.Tensor, memory: torch.Tensor, keys: torch.Tensor):
        """tgt_in (batch, T) -> logits (batch, T, vocab) and each block's cross-attention."""
        y = self.target_position(self.target_embed(tgt_in))  # (batch, T, d_model)
        causal = causal_mask(tgt_in.shape[1], tgt_in.device)  # output i sees outputs <= i only
        weights = []
        for block in self.decoder:
            y, w = block(y, memory, causal, keys)
            weights.append(w)  # (batch, heads, T, S)
        return self.head(self.decoder_norm(y)), weights

    def forward(self, src: torch.Tensor, tgt_in: torch.Tensor) -> torch.Tensor:
        """Teacher forcing: the decoder reads the true previous tokens, all steps in one pass."""
        memory, keys = self.encode(src)
        return self.decode(tgt_in, memory, keys)[0]  # (batch, T, vocab)

    @torch.no_grad()
    def greedy_decode(self, src: torch.Tensor, max_len: int | None = None):
        """The most likely token at each step, fed back as the next input, until every sequence
        has written <eos>. Returns ids (batch, steps) and the cross-attention of each decoder
        block, (batch, heads, steps, S): row i is where output i looked in the source."""
        max_len = min(max_len or self.max_target_len - 1, self.max_target_len - 1)
        memory, keys = self.encode(src)
        tokens = torch.full((len(src), 1), Vocab.BOS, dtype=torch.long, device=src.device)
        done = torch.zeros(len(src), dtype=torch.bool, device=src.device)
        for _ in range(max_len):
            # No cache of earlier steps: the targets are a dozen tokens, recomputing is cheap.
            logits, weights = self.decode(tokens, memory, keys)
            step = logits[:, -1].argmax(-1).masked_fill(done, Vocab.PAD)  # (batch,)
            tokens = torch.cat([tokens, step[:, None]], dim=1)
            done |= step == Vocab.EOS
            if done.all():
                break
        return tokens[:, 1:], weights


# ---------------------------------------------------------------------------------------------
# settings


@dataclass
class Seq2SeqConfig(RuntimeConfig):
    task: str = opt("reverse", "reverse: a sentence's words backwards; number-words: digits -> English words",
                    choices=list(TASKS))
    # data
    train_size: int = opt(20_000, "distinct training examples")
    val_size: int = opt(500, "validation examples (model selection)")
    test_size: int = opt(2_000, "held-out test examples, read once")
    min_words: int = opt(3, "reverse: fewest words in a sentence")
    max_words: int = opt(8, "reverse: most words in a sentence")
    data_seed: int = opt(0, "seed of the generated data; fixed so every run meets the same test set")
    # model
    d_model: int = opt(64, "width of every token's vector")
    heads: int = opt(4, "attention heads per layer")
    encoder_layers: int = opt(2, "encoder blocks")
    decoder_layers: int = opt(2, "decoder blocks")
    ff_size: int = opt(128, "feed-forward hidden width")
    dropout: float = opt(0.0, "dropout inside the blocks (fresh data every epoch makes it unnecessary)")
    pos_encoding: str = opt("sinusoidal", "how the model knows token order",
                            choices=["sinusoidal", "learned", "none"])
    # training
    steps: int = opt(2_000, "optimizer steps")
    batch_size: int = opt(64, "examples per step")
    lr: float = opt(1e-3, "peak AdamW learning rate")
    weight_decay: float = opt(0.01, "AdamW weight decay")
    warmup_steps: int = opt(200, "linear warm-up, then cosine decay to a tenth of --lr")
    grad_clip: float = opt(1.0, "clip the gradient norm to this")
    eval_every: int = opt(250, "steps between validation passes (the best one is kept)")
    seed: int = opt(42, "seed of the weights and the batch order")
    threads: int | None = opt(1, "CPU threads per process; one is fastest for a model "
                                 "this small (threads wait on each other, badly so "
                                 "when another program shares the cores); 0: PyTorch's")
    out_dir: str = opt(str(STAGE_DIR / "results"), "folder that holds one sub-folder per run", metavar="DIR")
    run_name: str | None = opt(None, "sub-folder of --out-dir for this run (default: seq2seq-<task>)")

    @property
    def model(self) -> str:  # parse_stage_args names default runs after it
        return f"seq2seq-{self.task}"

    def model_config(self, data: TaskData) -> dict:
        """What fixes the network's shape: Seq2SeqTransformer(**model_config) rebuilds it."""
        return {"source_vocab_size": len(data.source_vocab),
                "target_vocab_size": len(data.target_vocab),
                "max_source_len": data.max_source_len, "max_target_len": data.max_target_len,
                "d_model": self.d_model, "heads": self.heads,
                "encoder_layers": self.encoder_layers, "decoder_layers": self.decoder_layers,
                "ff_size": self.ff_size, "dropout": self.dropout,
                "pos_encoding": self.pos_encoding}


SMOKE_OVERRIDES = dict(train_size=400, val_size=50, test_size=50, d_model=16, heads=2,
                       encoder_layers=1, decoder_layers=1, ff_size=32, steps=100, batch_size=32,
                       lr=3e-3, warmup_steps=10, eval_every=50)
