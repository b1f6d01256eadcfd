"""Draw the architecture figures of the write-ups: docs/img/arch-*.png, one per concept.

    python docs/figures.py                 # (re)draw all eight into docs/img/
    python docs/figures.py --out /tmp/img  # somewhere else
    python docs/figures.py --check         # exit 1, naming the PNG, if one differs from the drawing

Each figure is drawn with matplotlib patches, arrows and text, no data and no training, and
where it shows a number that the code also holds (the forecaster's window length, features and
split; LoRA's rank, scale and SmolLM2's width) the number is read from the code or from the
committed reference run, so a changed default shows up here on the next run. The figures:

    arch-rnn-unrolled.png       a recurrent net unrolled in time, truncated backpropagation
    arch-gru-lstm.png           the GRU and LSTM cells: gates, cell state, sigmoid/tanh, ⊙ and +
    arch-qkv.png                queries, keys and values, with a small worked example
    arch-transformer-block.png  the pre-norm block of CodeLLM/blocks.py
    arch-encoder-decoder.png    CodeLLM/seq2seq's encoder-decoder and its cross-attention
    arch-gpt-vs-bert.png        causal against bidirectional attention, and what each predicts
    arch-forecaster-flow.png    stages 3 and 4: daily prices to a next-day forecast
    arch-lora.png               LoRA on one SmolLM2 attention projection

One colour per role in every figure (ROLES): inputs blue, hidden state green, weights and
layers orange, outputs purple, attention red. The PNGs carry no timestamp or version, so a
rerun writes the same bytes and --check (tests/test_figures.py) can tell a stale figure.
"""

from __future__ import annotations

import argparse
import ast
import io
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib import patches

from shared import plotting  # selects the Agg backend before pyplot loads
from shared.prices.features import FEATURES

from tools.loader import load_stage_config

plt = plotting.plt
ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "img"
DPI = 110  # as shared/plotting.py: an 8-inch figure is 880 px, the width of a README
WIDTH = 8.0  # inches; every figure's axes are in inches, so sizes read the same in all of them
SMOLLM2_RUN = ROOT / "LLMind" / "decoder" / "results" / "reference-smollm2" / "metrics.json"

# (fill, edge) per role; "op" is an elementwise operation (⊙, +, tanh), drawn in white.
ROLES = {
    "input": ("#dbe9f6", "#2f6aa3"),
    "hidden": ("#d9eed5", "#3b7d35"),
    "layer": ("#fde5c8", "#c2690f"),
    "output": ("#e6dcf2", "#6a4a94"),
    "attention": ("#f7d4d7", "#b2323f"),
    "op": ("#ffffff", "#555555"),
}
ROLE_NAMES = {"input": "input", "hidden": "hidden state", "layer": "weights / layer",
              "output": "output", "attention": "attention"}
TEXT = "#222222"
MUTED = "#666666"


@dataclass(frozen=True)
class Box:
    """A drawn box, by its centre and size, so arrows can start and end on its sides."""

    x: float
    y: float
    w: float
    h: float

    @property
    def left(self):
        return (self.x - self.w / 2, self.y)

    @property
    def right(self):
        return (self.x + self.w / 2, self.y)

    @property
    def top(self):
        return (self.x, self.y + self.h / 2)

    @property
    def bottom(self):
        return (self.x, self.y - self.h / 2)


# ---------------------------------------------------------------- drawing helpers


def canvas(height: float, title: str, subtitle: str = "", width: float = WIDTH):
    """A figure whose one axes fills it, measured in inches from the bottom-left corner; the
    title (and subtitle) take the top 0.45 (0.75) inch."""
    fig = plt.figure(figsize=(width, height), dpi=DPI)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.axis("off")
    ax.text(width / 2, height - 0.25, title, ha="center", va="center", fontsize=13,
            weight="bold", color=TEXT)
    if subtitle:
        ax.text(width / 2, height - 0.56, subtitle, ha="center", va="center", fontsize=9,
                color=MUTED)
    return fig, ax


def box(ax, x, y, w, h, text, role, fontsize=9.0, hatch=None, weight="normal") -> Box:
    """A rounded box in `role`'s colours, centred on (x, y), with its text in the middle."""
    fill, edge = ROLES[role]
    ax.add_patch(patches.FancyBboxPatch((x - w / 2, y - h / 2), w, h, fc=fill, ec=edge, lw=1.3,
                                        boxstyle="round,pad=0,rounding_size=0.06", hatch=hatch))
    if text:
        ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, color=TEXT,
                weight=weight, linespacing=1.25)
    return Box(x, y, w, h)


def node(ax, x, y, symbol, radius=0.13, fontsize=11.0) -> Box:
    """An elementwise operation: a small circle with its symbol."""
    fill, edge = ROLES["op"]
    ax.add_patch(patches.Circle((x, y), radius, fc=fill, ec=edge, lw=1.2, zorder=3))
    ax.text(x, y, symbol, ha="center", va="center", fontsize=fontsize, color=TEXT, zorder=4)
    return Box(x, y, 2 * radius, 2 * radius)


def arrow(ax, start, end, color=MUTED, lw=1.3, ls="-", head=True, zorder=2):
    """A straight arrow between two points (head=False: a plain line that zorder can layer)."""
    ax.add_patch(patches.FancyArrowPatch(
        start, end, arrowstyle="-|>,head_length=5,head_width=3" if head else "-", color=color,
        lw=lw, ls=ls, shrinkA=0, shrinkB=0, mutation_scale=1.4, zorder=zorder))


def path(ax, points, color=MUTED, lw=1.3, ls="-", head=True, zorder=2):
    """A polyline through `points` with an arrowhead on the last segment: elbow connectors."""
    xs, ys = zip(*points[:-1], strict=True)
    ax.plot(xs, ys, color=color, lw=lw, ls=ls, solid_capstyle="butt", zorder=zorder)
    arrow(ax, points[-2], points[-1], color=color, lw=lw, ls=ls, head=head, zorder=zorder)


def label(ax, x, y, text, fontsize=8.5, color=TEXT, ha="center", va="center", **kwargs):
    ax.text(x, y, text, ha=ha, va=va, fontsize=fontsize, color=color, linespacing=1.3, **kwargs)


def legend(ax, x, y, roles, extra=()):
    """A one-line colour key at (x, y): the roles this figure uses, then `extra` (label,
    draw(ax, x, y)) items such as the gradient's dashed line."""
    for role in roles:
        fill, edge = ROLES[role]
        ax.add_patch(patches.FancyBboxPatch((x, y - 0.07), 0.22, 0.14, fc=fill, ec=edge, lw=1.1,
                                            boxstyle="round,pad=0,rounding_size=0.03"))
        label(ax, x + 0.3, y, ROLE_NAMES[role], fontsize=8, color=MUTED, ha="left")
        x += 0.42 + 0.062 * len(ROLE_NAMES[role])
    for text, draw in extra:
        draw(ax, x, y)
        label(ax, x + 0.42, y, text, fontsize=8, color=MUTED, ha="left")
        x += 0.54 + 0.062 * len(text)


def png_bytes(fig) -> bytes:
    """The figure as PNG bytes with no Software (matplotlib version) entry, so the bytes depend
    only on what is drawn; equivalent to shared.plotting.save_figure without tight_layout (the
    axes already fill the figure)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()


# ---------------------------------------------------------------- the figures


def rnn_unrolled():
    """x_t -> h_t -> y_t with h_{t-1} -> h_t, over two chunks of truncated BPTT."""
    fig, ax = canvas(4.4, "A recurrent net unrolled in time, trained by truncated backprop",
                     r"$h_t = \tanh(W x_t + U h_{t-1})$,   $y_t = V h_t$:   the same $W, U, V$ "
                     "at every step")
    xs = [1.5, 2.5, 3.5, 4.85, 5.85, 6.85]  # a wider gap at the chunk boundary
    boundary = (xs[2] + xs[3]) / 2
    rows = {"y": 2.95, "h": 2.0, "x": 1.05}
    bw, bh = 0.6, 0.42
    forward, backward, cut = ROLES["hidden"][1], "#333333", ROLES["attention"][1]
    previous = box(ax, 0.5, rows["h"], bw, bh, "$h_0$", "hidden", fontsize=10)
    for t, x in enumerate(xs, start=1):
        xt = box(ax, x, rows["x"], bw, bh, f"$x_{t}$", "input", fontsize=10)
        ht = box(ax, x, rows["h"], bw, bh, f"$h_{t}$", "hidden", fontsize=10)
        yt = box(ax, x, rows["y"], bw, bh, f"$y_{t}$", "output", fontsize=10)
        arrow(ax, xt.top, ht.bottom)
        arrow(ax, ht.top, yt.bottom)
        # the state flows right (above the middle); its gradient flows left (below it)
        arrow(ax, (previous.right[0], rows["h"] + 0.09), (ht.left[0], rows["h"] + 0.09),
              color=forward, lw=1.6)
        if t not in (1, 4):  # no gradient goes into h0, or across the chunk boundary
            arrow(ax, (ht.left[0], rows["h"] - 0.1), (previous.right[0], rows["h"] - 0.1),
                  color=backward, lw=1.1, ls=(0, (3, 2)))
        previous = ht
    arrow(ax, (previous.right[0], rows["h"] + 0.09), (previous.right[0] + 0.3, rows["h"] + 0.09),
          color=forward, lw=1.6)
    label(ax, previous.right[0] + 0.36, rows["h"] + 0.09, "…", fontsize=12, ha="left")
    # chunk 2's gradient reaches the boundary and stops there
    arrow(ax, (xs[3] - bw / 2, rows["h"] - 0.1), (boundary + 0.1, rows["h"] - 0.1),
          color=backward, lw=1.1, ls=(0, (3, 2)), head=False)
    label(ax, boundary, rows["h"] - 0.1, "✕", fontsize=13, color=cut, weight="bold")
    ax.plot([boundary, boundary], [0.72, 3.3], color=cut, lw=1.3, ls="--")
    label(ax, boundary, 3.45, "detach_state(h): the value goes on, the gradient stops",
          fontsize=9, color=cut)
    for first, last, name in ((xs[0], xs[2], "chunk 1"), (xs[3], xs[5], "chunk 2")):
        left, right = first - bw / 2, last + bw / 2
        ax.plot([left, left, right, right], [0.7, 0.62, 0.62, 0.7], color=MUTED, lw=1)
        label(ax, (left + right) / 2, 0.45, f"{name} (seq_len steps): loss, backward(), step",
              fontsize=8.5, color=MUTED)
    legend(ax, 0.55, 0.13, ["input", "hidden", "output"], extra=[
        ("state, forward", lambda a, x, y: arrow(a, (x, y), (x + 0.34, y), color=forward, lw=1.6)),
        ("gradient, backward", lambda a, x, y: arrow(a, (x + 0.34, y), (x, y), color=backward,
                                                     lw=1.1, ls=(0, (3, 2))))])
    return fig


def gate(ax, x, y, symbol, name) -> Box:
    """A gate: a small layer box (W·[h, x] + b, then its nonlinearity), its letter beside."""
    b = box(ax, x, y, 0.44, 0.3, symbol, "layer", fontsize=9.5)
    label(ax, x - 0.08, y + 0.3, f"${name}$", fontsize=10, ha="right")
    return b


def cell_frame(ax, left, right, title):
    ax.add_patch(patches.FancyBboxPatch((left, 1.35), right - left, 2.4, fc="#f6f6f6",
                                        ec="#bbbbbb", lw=1, boxstyle="round,pad=0,rounding_size=0.12"))
    label(ax, (left + right) / 2, 3.98, title, fontsize=10.5, weight="bold")


def state_line(ax, ox, y, nodes, name_in, name_out):
    """The thick line a state runs along, broken by the nodes on it, arrow at the right."""
    color, xs = ROLES["hidden"][1], [ox + 0.1]
    for n in nodes:
        ax.plot([xs[-1], n.left[0]], [y, y], color=color, lw=2.4, zorder=1)
        xs.append(n.right[0])
    arrow(ax, (xs[-1], y), (ox + 3.8, y), color=color, lw=2.4)
    label(ax, ox + 0.1, y + 0.18, name_in, fontsize=10, ha="left")
    label(ax, ox + 3.8, y + 0.18, name_out, fontsize=10, ha="right")


def input_arrow(ax, x):
    arrow(ax, (x, 1.08), (x, 1.6), color=ROLES["input"][1], lw=1.3)
    label(ax, x - 0.07, 1.2, "$x_t$", fontsize=10, ha="right")


def gru_cell(ax, ox):
    """The GRU of PyTorch's nn.GRU (TinyLLM's default), in panel coordinates offset by ox."""
    state, line = ROLES["hidden"][1], MUTED
    top, bus = 3.45, 1.6
    cell_frame(ax, ox + 0.25, ox + 3.65, "GRU: one state h, two gates")
    # h_{t-1} along the top: z of it, plus (1 - z) of the candidate n, is h_t
    keep = node(ax, ox + 0.95, top, "×")
    plus = node(ax, ox + 3.1, top, "+")
    state_line(ax, ox, top, [keep, plus], "$h_{t-1}$", "$h_t$")
    # the bus [h_{t-1}, x_t] that the gates read
    ax.plot([ox + 0.45, ox + 0.45, ox + 2.4], [top, bus, bus], color=state, lw=1.3, zorder=1)
    input_arrow(ax, ox + 0.7)
    z = gate(ax, ox + 0.95, 2.1, "σ", "z")
    r = gate(ax, ox + 1.7, 2.1, "σ", "r")
    for g in (z, r):
        ax.plot([g.x, g.x], [bus, g.bottom[1]], color=line, lw=1.2)
    arrow(ax, z.top, keep.bottom, color=line)
    # reset: r scales what h_{t-1} adds to the candidate
    reset = node(ax, ox + 1.7, 2.78, "×")
    arrow(ax, r.top, reset.bottom, color=line)
    path(ax, [(ox + 1.3, bus), (ox + 1.3, 2.78), reset.left], color=state, lw=1.2)
    n = box(ax, ox + 2.4, 2.78, 0.5, 0.3, "tanh", "layer", fontsize=9)
    label(ax, ox + 2.4, 3.1, "$n$", fontsize=10)
    arrow(ax, reset.right, n.left, color=line)
    arrow(ax, (ox + 2.4, bus), n.bottom, color=line, lw=1.2)
    mix = node(ax, ox + 3.1, 2.78, "×")
    arrow(ax, n.right, mix.left, color=line)
    arrow(ax, mix.top, plus.bottom, color=line)
    arrow(ax, (ox + 3.1, 2.25), mix.bottom, color=line)
    label(ax, ox + 3.1, 2.12, "$1-z$", fontsize=9.5)
    label(ax, ox + 1.95, 0.72, r"$r = \sigma(W_r [h_{t-1}, x_t])$ reset,  "
          r"$z = \sigma(W_z [h_{t-1}, x_t])$ update" "\n" r"$n = \tanh(W_n x_t + r \odot U_n h_{t-1})$" "\n"
          r"$h_t = (1 - z) \odot n + z \odot h_{t-1}$", fontsize=8.5)


def lstm_cell(ax, ox):
    """The LSTM of nn.LSTM: a cell state c beside the output h, in panel coordinates."""
    state, line = ROLES["hidden"][1], MUTED
    top, bus = 3.45, 1.6
    cell_frame(ax, ox + 0.25, ox + 3.65, "LSTM: a cell state c beside h")
    forget = node(ax, ox + 0.9, top, "×")
    add = node(ax, ox + 1.5, top, "+")
    state_line(ax, ox, top, [forget, add], "$c_{t-1}$", "$c_t$")
    label(ax, ox + 2.3, top + 0.15, "only ⊙ and + on c", fontsize=7.5, color=MUTED)
    # the bus [h_{t-1}, x_t]
    label(ax, ox + 0.1, bus + 0.16, "$h_{t-1}$", fontsize=10, ha="left")
    ax.plot([ox + 0.1, ox + 2.6], [bus, bus], color=state, lw=1.3, zorder=1)
    input_arrow(ax, ox + 0.55)
    f = gate(ax, ox + 0.9, 2.1, "σ", "f")
    i = gate(ax, ox + 1.5, 2.1, "σ", "i")
    g = gate(ax, ox + 2.05, 2.1, "tanh", "g")
    o = gate(ax, ox + 2.6, 2.1, "σ", "o")
    for gt in (f, i, g, o):
        ax.plot([gt.x, gt.x], [bus, gt.bottom[1]], color=line, lw=1.2)
    arrow(ax, f.top, forget.bottom, color=line)
    write = node(ax, ox + 1.5, 2.78, "×")
    arrow(ax, i.top, write.bottom, color=line)
    path(ax, [g.top, (ox + 2.05, 2.78), write.right], color=line)
    arrow(ax, write.top, add.bottom, color=line)
    # the output: h_t = o ⊙ tanh(c_t)
    squash = box(ax, ox + 3.2, 2.95, 0.46, 0.26, "tanh", "op", fontsize=8.5)
    arrow(ax, (ox + 3.2, top), squash.top, color=state, lw=1.3)
    reveal = node(ax, ox + 3.2, 2.35, "×")
    arrow(ax, squash.bottom, reveal.top, color=line)
    path(ax, [o.top, (ox + 2.6, 2.35), reveal.left], color=line)
    path(ax, [reveal.bottom, (ox + 3.2, bus), (ox + 3.8, bus)], color=state, lw=1.3)
    label(ax, ox + 3.8, bus + 0.16, "$h_t$", fontsize=10, ha="right")
    label(ax, ox + 1.95, 0.72, r"$f, i, o = \sigma(W [h_{t-1}, x_t] + b)$ forget, input, output"
          "\n" r"$g = \tanh(W_g [h_{t-1}, x_t] + b)$,   $c_t = f \odot c_{t-1} + i \odot g$" "\n"
          r"$h_t = o \odot \tanh(c_t)$", fontsize=8.5)


def gru_lstm():
    fig, ax = canvas(4.75, "Gated cells: the GRU and the LSTM")
    gru_cell(ax, 0.0)
    lstm_cell(ax, 4.05)
    legend(ax, 0.9, 0.13, ["input", "hidden", "layer"], extra=[
        ("elementwise (⊙, +)", lambda a, x, y: node(a, x + 0.17, y, "×", radius=0.09, fontsize=8))])
    return fig


def qkv_example():
    """The worked example: one query, four keys and values, d_k = 2 (numbers to check by hand)."""
    q = np.array([1.0, 2.0])
    keys = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [-1.0, 0.0]])
    values = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0]])
    scores = keys @ q / np.sqrt(len(q))
    weights = np.exp(scores - scores.max())
    weights /= weights.sum()
    return q, keys, values, scores, weights, weights @ values


def vector(v) -> str:
    return "[" + ", ".join(f"{value:g}" for value in v) + "]"


def qkv():
    fig, ax = canvas(4.6, "Attention: queries, keys and values")
    words = ["the", "cat", "sat", "on"]
    asking = 2  # "sat" asks; every word answers
    q, keys, values, scores, weights, output = qkv_example()
    rows = {"k": 3.35, "score": 2.7, "weight": 2.1, "v": 1.45}
    tokens = [box(ax, 0.5, 3.3 - 0.55 * i, 0.62, 0.38, word, "input", weight="bold" if i == asking
                  else "normal") for i, word in enumerate(words)]
    label(ax, 0.5, 3.75, "tokens x", fontsize=8.5, color=MUTED)
    w_q = box(ax, 1.75, rows["score"], 0.72, 0.36, "$W_q$", "layer", fontsize=10)
    w_k = box(ax, 1.75, rows["k"], 0.72, 0.36, "$W_k$", "layer", fontsize=10)
    w_v = box(ax, 1.75, rows["v"], 0.72, 0.36, "$W_v$", "layer", fontsize=10)
    ax.plot([0.92, 0.92], [tokens[-1].y, tokens[0].y], color=MUTED, lw=1.3)
    for token in tokens:
        ax.plot([token.right[0], 0.92], [token.y, token.y], color=MUTED, lw=1.3)
    path(ax, [(0.92, rows["k"]), w_k.left], color=MUTED)
    path(ax, [(0.92, tokens[-1].y), (0.92, rows["v"]), w_v.left], color=MUTED)
    path(ax, [tokens[asking].right, (1.1, tokens[asking].y), (1.1, rows["score"]), w_q.left],
         color=ROLES["attention"][1])
    query = box(ax, 2.75, rows["score"], 0.75, 0.36, f"$q$ {vector(q)}", "attention", fontsize=8.5)
    arrow(ax, w_q.right, query.left)
    label(ax, 2.75, rows["score"] + 0.3, "query of \"sat\"", fontsize=8, color=MUTED)
    # one column per word that answers: its key, the score, the weight, its value
    columns = [3.75 + 0.85 * j for j in range(len(words))]
    cmap = plt.get_cmap("Reds")
    for j, x in enumerate(columns):
        label(ax, x, 3.72, words[j], fontsize=9, weight="bold")
        box(ax, x, rows["k"], 0.72, 0.34, f"$k$ {vector(keys[j])}", "attention", fontsize=8)
        label(ax, x, rows["score"], f"{scores[j]:.2f}", fontsize=9)
        ax.add_patch(patches.Rectangle((x - 0.36, rows["weight"] - 0.19), 0.72, 0.38, lw=1,
                                       fc=cmap(0.1 + 0.8 * weights[j]), ec=ROLES["attention"][1]))
        label(ax, x, rows["weight"], f"{weights[j]:.2f}", fontsize=9.5, weight="bold",
              color="white" if weights[j] > 0.45 else TEXT)
        box(ax, x, rows["v"], 0.72, 0.34, f"$v$ {vector(values[j])}", "attention", fontsize=8)
    arrow(ax, w_k.right, (columns[0] - 0.4, rows["k"]))
    arrow(ax, query.right, (columns[0] - 0.4, rows["score"]))
    arrow(ax, w_v.right, (columns[0] - 0.4, rows["v"]))
    right = columns[-1] + 0.45
    label(ax, right, rows["score"], r"scores $q \cdot k_j / \sqrt{d_k}$", ha="left")
    label(ax, right, rows["weight"], "softmax: weights\nthat sum to 1", ha="left")
    label(ax, right, rows["k"], "keys", ha="left")
    label(ax, right, rows["v"], "values", ha="left")
    out = box(ax, 5.0, 0.72, 2.3, 0.38, r"output $\Sigma_j\, w_j v_j$ = " + vector(np.round(output, 2)),
              "output", fontsize=8.5)
    for x in columns:
        arrow(ax, (x, rows["v"] - 0.17), (out.x + (x - out.x) * 0.35, out.top[1]), lw=1)
    label(ax, 1.9, 0.72, r"$\mathrm{softmax}(Q K^T / \sqrt{d_k})\, V$" f"\nhere $d_k$ = {len(q)}",
          fontsize=9.5)
    legend(ax, 2.0, 0.15, ["input", "layer", "attention", "output"])
    return fig


def transformer_block():
    fig, ax = canvas(3.5, "A pre-norm transformer block (CodeLLM/blocks.py, EncoderBlock)",
                     "stacked × layers; with a causal mask it is the mini-GPT's block; dropout on "
                     "each branch before the add")
    y = 1.75
    line, state = MUTED, ROLES["hidden"][1]
    shape = "(batch, time,\nd_model)"
    x_in = box(ax, 0.55, y, 0.9, 0.62, f"x\n{shape}", "input", fontsize=7.5)
    norm1 = box(ax, 1.75, y, 0.75, 0.5, "Layer\nNorm", "layer")
    attention = box(ax, 3.0, y, 1.25, 0.62, "multi-head\nself-attention", "attention")
    add1 = node(ax, 3.98, y, "+")
    norm2 = box(ax, 4.75, y, 0.75, 0.5, "Layer\nNorm", "layer")
    mlp = box(ax, 5.95, y, 1.1, 0.62, "MLP", "layer", fontsize=10)
    add2 = node(ax, 6.82, y, "+")
    out = box(ax, 7.5, y, 0.9, 0.62, f"output\n{shape}", "output", fontsize=7.5)
    for a, b in ((x_in, norm1), (norm1, attention), (attention, add1), (add1, norm2),
                 (norm2, mlp), (mlp, add2), (add2, out)):
        arrow(ax, a.right, b.left, color=line)
    # the residual paths: each branch adds to its input, so the input reaches the output whole
    for start, target in ((1.18, add1), (4.23, add2)):
        path(ax, [(start, y), (start, 2.5), (target.x, 2.5), target.top], color=state, lw=1.6)
    label(ax, 2.58, 2.64, "x + attention(norm(x))", fontsize=9, color=state)
    label(ax, 5.53, 2.64, "x + mlp(norm(x))", fontsize=9, color=state)
    label(ax, 3.0, 1.32, "Q, K, V: Linear(d_model → d_model), split into heads\n"
          r"softmax($Q K^T / \sqrt{\mathrm{head\_size}}$ [+ mask]) $V$" "\n"
          "heads side by side, then Linear\nweights: (batch, heads, time, time)", fontsize=8,
          color=MUTED, va="top")
    label(ax, 6.1, 1.32, "Linear(d_model → ff_size)\nGELU, dropout\nLinear(ff_size → d_model)",
          fontsize=8, color=MUTED, va="top")
    legend(ax, 1.6, 0.15, ["input", "hidden", "layer", "attention", "output"])
    return fig


def stack_frame(ax, left, right, bottom, top, text):
    """The dashed frame around a repeated block, with its repeat count."""
    ax.add_patch(patches.FancyBboxPatch((left, bottom), right - left, top - bottom, fc="none",
                                        ec="#999999", lw=1.1, ls="--",
                                        boxstyle="round,pad=0,rounding_size=0.1"))
    label(ax, left + 0.08, top - 0.14, text, fontsize=8, color=MUTED, ha="left")


def encoder_decoder():
    fig, ax = canvas(6.3, "Encoder-decoder with cross-attention (CodeLLM/seq2seq)",
                     "every attention and MLP as in the transformer block: LayerNorm first, then "
                     "added to its input")
    line = MUTED
    enc, dec, w = 1.8, 5.3, 2.5
    label(ax, enc, 5.45, "encoder: reads the whole source", fontsize=10, weight="bold")
    label(ax, dec, 5.45, "decoder: writes one token at a time", fontsize=10, weight="bold")
    # encoder, bottom to top
    source = box(ax, enc, 0.65, w, 0.42, "source ids (batch, S)", "input")
    s_embed = box(ax, enc, 1.35, w, 0.42, "source_embed + source_position", "layer")
    stack_frame(ax, enc - w / 2 - 0.15, enc + w / 2 + 0.15, 1.8, 3.95, "× encoder_layers")
    e_self = box(ax, enc, 2.5, w, 0.55, "self-attention: every source\nposition (padding masked out)",
                 "attention")
    e_mlp = box(ax, enc, 3.3, w, 0.42, "MLP", "layer")
    e_norm = box(ax, enc, 4.4, w, 0.42, "encoder_norm (LayerNorm)", "layer")
    memory = box(ax, enc, 5.0, w, 0.42, "memory (batch, S, d_model)", "hidden")
    for a, b in ((source, s_embed), (s_embed, e_self), (e_self, e_mlp), (e_mlp, e_norm),
                 (e_norm, memory)):
        arrow(ax, a.top, b.bottom, color=line)
    # decoder, bottom to top
    target = box(ax, dec, 0.65, w, 0.42, "target so far: <bos> y₁ y₂ … (batch, T)", "input",
                 fontsize=8.5)
    t_embed = box(ax, dec, 1.35, w, 0.42, "target_embed + target_position", "layer")
    stack_frame(ax, dec - w / 2 - 0.15, dec + w / 2 + 0.15, 1.8, 3.95, "× decoder_layers")
    d_self = box(ax, dec, 2.15, w, 0.4, "causal self-attention: steps ≤ t", "attention")
    cross = box(ax, dec, 2.8, w, 0.55, "cross-attention: queries from the\ndecoder, keys and "
                "values from memory", "attention", fontsize=8.5)
    d_mlp = box(ax, dec, 3.42, w, 0.34, "MLP", "layer")
    head = box(ax, dec, 4.4, w, 0.42, "decoder_norm, then head (Linear)", "layer")
    logits = box(ax, dec, 5.0, w, 0.42, "logits (batch, T, target vocabulary)", "output")
    for a, b in ((target, t_embed), (t_embed, d_self), (d_self, cross), (cross, d_mlp), (d_mlp, head),
                 (head, logits)):
        arrow(ax, a.top, b.bottom, color=line)
    # the encoder's output feeds every decoder block's cross-attention
    path(ax, [memory.right, (3.55, memory.y), (3.55, cross.y), cross.left],
         color=ROLES["hidden"][1], lw=1.8)
    label(ax, 3.6, 3.3, "K, V", fontsize=9, color=ROLES["hidden"][1], ha="left", weight="bold")
    # generation feeds each predicted token back in
    path(ax, [logits.right, (6.85, logits.y), (6.85, target.y), target.right], color=line, ls="--",
         lw=1)
    label(ax, 6.95, 2.75, "greedy_decode:\nappend the most\nlikely token and\nrun again, until\n"
          "<eos>; training\nfeeds the true\ntokens instead\n(teacher forcing)", fontsize=8,
          color=MUTED, ha="left")
    legend(ax, 1.0, 0.15, ["input", "hidden", "layer", "attention", "output"])
    return fig


def mask_grid(ax, left, top, allowed, words, cell=0.3):
    """A (query, key) grid: filled where the query may attend to the key."""
    n = len(words)
    fill, edge = ROLES["attention"]
    for i in range(n):
        for j in range(n):
            ok = allowed[i, j]
            ax.add_patch(patches.Rectangle((left + j * cell, top - (i + 1) * cell), cell, cell,
                                           fc=edge if ok else "#f2f2f2", ec="white", lw=1.2,
                                           alpha=0.85 if ok else 1))
        label(ax, left - 0.06, top - (i + 0.5) * cell, words[i], fontsize=8, ha="right")
        label(ax, left + (i + 0.5) * cell, top + 0.06, words[i], fontsize=8, va="bottom",
              rotation=45, rotation_mode="anchor", ha="left")
    label(ax, left - 0.5, top - n * cell / 2, "query", fontsize=8, color=MUTED, rotation=90)
    label(ax, left + n * cell / 2, top + 0.48, "key", fontsize=8, color=MUTED)


def token_strip(ax, left, y, inputs, targets, cell=0.58):
    """Tokens in, and above each the token its position is trained to predict (or none)."""
    for j, (word, goal) in enumerate(zip(inputs, targets, strict=True)):
        x = left + j * cell + cell / 2
        box(ax, x, y, cell - 0.06, 0.3, word, "input", fontsize=8)
        if goal:
            arrow(ax, (x, y + 0.15), (x, y + 0.42), lw=1)
            box(ax, x, y + 0.58, cell - 0.06, 0.3, goal, "output", fontsize=8)
        else:
            label(ax, x, y + 0.58, "–", color=MUTED)


def gpt_vs_bert():
    fig, ax = canvas(5.5, "Decoder (GPT) against encoder (BERT): the mask and the objective")
    words = ["the", "cat", "sat", "on", "the", "mat"]
    n = len(words)
    panels = (
        (0.1, "GPT: causal, predicts the next token", "the mini-GPT (stage 4), SmolLM2 (stage 5)",
         np.tril(np.ones((n, n), dtype=bool)), words, [*words[1:], "."],
         "loss at every position: token i + 1 from tokens ≤ i",
         "filled: may attend\ngrey: masked (score\n−∞ before softmax)"),
        (4.1, "BERT: bidirectional, fills in masked tokens", "MiniLM (stage 5)",
         np.ones((n, n), dtype=bool), ["the", "[MASK]", "sat", "on", "the", "[MASK]"],
         ["", "cat", "", "", "", "mat"], "loss only at the masked tokens (BERT hides about 15%)",
         "no mask: every\nposition sees\nthe whole text"),
    )
    for ox, title, used, allowed, inputs, targets, objective, note in panels:
        label(ax, ox + 1.9, 4.85, title, fontsize=10, weight="bold")
        label(ax, ox + 1.9, 4.6, used, fontsize=8.5, color=MUTED)
        mask_grid(ax, ox + 1.0, 3.8, allowed, words)
        label(ax, ox + 2.9, 2.9, note, fontsize=8, color=MUTED, ha="left")
        token_strip(ax, ox + 0.15, 0.95, inputs, targets)
        label(ax, ox + 1.9, 0.52, objective, fontsize=8.5)
    legend(ax, 2.2, 0.15, ["input", "attention", "output"])
    return fig


def default_arguments(path: Path, function: str) -> dict:
    """A function's keyword defaults, read from its source file without importing it (importing
    shared/prices/windows.py would load scikit-learn, seconds for two numbers)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == function)
    names = [a.arg for a in found.args.args][-len(found.args.defaults):]
    return {name: ast.literal_eval(value) for name, value in zip(names, found.args.defaults, strict=True)}


def forecaster_numbers():
    """The defaults the forecaster figure shows, from the code: the window length and target of
    the stage 3 settings (which stage 4 inherits), the features, and make_dataset's split."""
    memory = load_stage_config(ROOT / "MemoryLLM" / "config.py").MemoryConfig()
    split = default_arguments(ROOT / "shared" / "prices" / "windows.py", "make_dataset")
    val, test = split["val_fraction"], split["test_fraction"]
    return {"lookback": memory.lookback, "target": memory.target, "ticker": memory.ticker,
            "features": len(FEATURES), "split": (1 - val - test, val, test)}


def window_grid(ax, x, y, w, h):
    """A window drawn as a grid of days (columns) by features (rows), a few lines standing in
    for many."""
    fill, edge = ROLES["input"]
    ax.add_patch(patches.Rectangle((x, y), w, h, fc=fill, ec=edge, lw=1.3))
    for k in range(1, 12):
        ax.plot([x + w * k / 12] * 2, [y, y + h], color=edge, lw=0.4, alpha=0.6)
    for k in range(1, 6):
        ax.plot([x, x + w], [y + h * k / 6] * 2, color=edge, lw=0.4, alpha=0.6)
    return Box(x + w / 2, y + h / 2, w, h)


def forecaster_flow():
    numbers = forecaster_numbers()
    lookback, n_features, (train, val, test) = numbers["lookback"], numbers["features"], numbers["split"]
    fig, ax = canvas(4.75, "Stages 3 and 4: from daily prices to a next-day forecast",
                     f"the defaults in the code: --ticker {numbers['ticker']}, --lookback {lookback} "
                     f"(L), {n_features} features (F), --target {numbers['target']}")
    line = MUTED
    y1, y2 = 3.5, 2.3
    prices = box(ax, 0.9, y1, 1.5, 0.62, "daily OHLCV\nopen high low\nclose volume", "input",
                 fontsize=8.5)
    indicators = box(ax, 2.85, y1, 1.9, 0.62, "+ indicators (SMA, EMA,\nRSI, MACD, Bollinger, …)"
                     f"\n= F = {n_features} features", "input", fontsize=8.5)
    scaler = box(ax, 4.85, y1, 1.6, 0.62, "StandardScaler\nfit on training\nrows only", "layer",
                 fontsize=8.5)
    window = window_grid(ax, 6.3, y1 - 0.3, 1.1, 0.6)
    label(ax, window.x, y1 + 0.45, f"a window: L = {lookback} days", fontsize=8.5)
    label(ax, window.right[0] + 0.08, y1, f"F = {n_features}", fontsize=8.5, ha="left")
    for a, b in ((prices, indicators), (indicators, scaler), (scaler, window)):
        arrow(ax, a.right, b.left, color=line)
    model = box(ax, 1.5, y2, 2.2, 0.62, "LSTM (stage 3, Keras)\nor transformer (stage 4)",
                "layer", fontsize=8.5)
    path(ax, [window.bottom, (window.x, 2.95), (0.2, 2.95), (0.2, y2), model.left], color=line)
    label(ax, 3.7, 3.07, "(batch, L, F), scaled", fontsize=8, color=MUTED)
    if numbers["target"] == "return":
        target, back = ("next day's log return\nlog(close$_{t+1}$ / close$_t$)",
                        "inverse scale, then\nclose$_t$ × exp(return)")
    else:
        target, back = "next day's close", "inverse scale"
    predicted = box(ax, 4.1, y2, 1.95, 0.62, f"{target}, scaled", "output", fontsize=8.5)
    forecast = box(ax, 6.65, y2, 1.95, 0.62, f"{back}\n= forecast close$_{{t+1}}$", "output",
                   fontsize=8.5)
    arrow(ax, model.right, predicted.left, color=line)
    arrow(ax, predicted.right, forecast.left, color=line)
    # the chronological split: grey, since it is neither input nor output but time
    left, right, bar_y = 0.62, 7.4, 1.05
    span = right - left
    x = left
    for name, share, fill in (("train", train, "#eeeeee"), ("validation", val, "#dddddd"),
                              ("test", test, "#cccccc")):
        ax.add_patch(patches.Rectangle((x, bar_y - 0.17), span * share, 0.34, fc=fill, ec="#777777",
                                       lw=1.1))
        label(ax, x + span * share / 2, bar_y, f"{name} {share:.0%}", fontsize=9)
        x += span * share
    label(ax, left, 1.48, "the windows in time order, split by the day they predict; never "
          "shuffled across the splits", fontsize=8.5, ha="left")
    label(ax, left - 0.06, bar_y, "oldest", fontsize=8, color=MUTED, ha="right")
    label(ax, right + 0.06, bar_y, "newest", fontsize=8, color=MUTED, ha="left")
    fitted = left + span * train
    ax.plot([left, left, fitted, fitted], [0.75, 0.67, 0.67, 0.75],
            color=ROLES["layer"][1], lw=1.2)
    label(ax, (left + fitted) / 2, 0.53, "the scaler's means and deviations come from "
          "these rows only", fontsize=8.5, color=ROLES["layer"][1])
    legend(ax, 1.9, 0.15, ["input", "layer", "output"])
    return fig


def lora_numbers():
    """One SmolLM2 q_proj (width x width) with the decoder's default rank and scale, and the
    whole adapter of the reference run."""
    cfg = load_stage_config(ROOT / "LLMind" / "decoder" / "config.py").DecoderConfig()
    run = json.loads(SMOLLM2_RUN.read_text(encoding="utf-8"))
    d = k = run["base"]["hidden_size"]  # q_proj maps the width to itself (9 heads of 64)
    r = cfg.lora_rank
    return {"d": d, "k": k, "r": r, "alpha": cfg.lora_alpha, "frozen": d * k, "A": r * k, "B": d * r,
            "targets": cfg.lora_targets, "layers": run["base"]["layers"],
            "trainable": run["params_trainable"], "total": run["params_total"]}


def lora():
    n = lora_numbers()
    d, k, r, alpha = n["d"], n["k"], n["r"], n["alpha"]
    fig, ax = canvas(4.5, "LoRA: a frozen weight plus a trainable low-rank update",
                     rf"$h = W x + (\alpha / r)\, B A x$,   with LLMind/decoder's defaults "
                     rf"$r$ = {r}, $\alpha$ = {alpha:g}")
    line, layer = MUTED, ROLES["layer"][1]
    x_in = box(ax, 0.45, 2.1, 0.42, 1.3, f"x\n\n({k})", "input", fontsize=9)
    weight = box(ax, 2.35, 3.05, 1.3, 0.95, "", "layer", hatch="///")
    label(ax, weight.x, weight.y, f"W   {d} × {k}\nfrozen", fontsize=9.5, weight="bold",
          bbox=dict(fc="white", ec="none", alpha=0.85, pad=2))
    # the trainable branch, framed: A brings x down to r numbers, B back up to d
    ax.add_patch(patches.FancyBboxPatch((1.0, 0.42), 3.55, 1.5, fc="none", ec=layer, lw=1,
                                        ls="--", boxstyle="round,pad=0,rounding_size=0.1"))
    label(ax, 2.78, 1.78, "trainable; B starts at zero, so at step 0  h = W x", fontsize=8.5,
          color=layer)
    a = box(ax, 1.85, 1.05, 1.2, 0.32, f"A   {r} × {k}", "layer", fontsize=8.5, weight="bold")
    b = box(ax, 3.2, 1.05, 0.42, 1.0, f"B\n{d}\n×\n{r}", "layer", fontsize=8.5, weight="bold")
    scale = box(ax, 4.05, 1.05, 0.7, 0.42, rf"× $\alpha$/r" f"\n= {alpha / r:g}", "op", fontsize=8.5)
    add = node(ax, 4.95, 2.1, "+")
    out = box(ax, 5.55, 2.1, 0.42, 1.3, f"h\n\n({d})", "output", fontsize=9)
    path(ax, [x_in.right, (0.8, 2.1), (0.8, weight.y), weight.left], color=line)
    path(ax, [(0.8, 2.1), (0.8, a.y), a.left], color=line)
    arrow(ax, a.right, b.left, color=line)
    label(ax, 2.72, 1.2, f"r = {r}", fontsize=8, color=MUTED)
    arrow(ax, b.right, scale.left, color=line)
    path(ax, [weight.right, (add.x, weight.y), add.top], color=line)
    path(ax, [scale.right, (add.x, scale.y), add.bottom], color=line)
    arrow(ax, add.right, out.left, color=line)
    # the arithmetic, for one q_proj and for the whole adapter of the reference run
    trainable = n["A"] + n["B"]
    lines = [
        ("one q_proj of SmolLM2", "bold"),
        (f"W: {d} × {k} = {n['frozen']:,} frozen", "normal"),
        (f"A: {r} × {k} = {n['A']:,}", "normal"),
        (f"B: {d} × {r} = {n['B']:,}", "normal"),
        (f"trainable: {trainable:,}", "bold"),
        (f"= {trainable / n['frozen']:.1%} of W", "bold"),
        ("", "normal"),
        ("reference run, adapters on", "bold"),
        (f"{', '.join(t.removesuffix('_proj') for t in n['targets'])} in all {n['layers']} blocks:", "bold"),
        (f"{n['trainable']:,} trainable of {n['total'] / 1e6:.1f} M", "normal"),
        (f"= {n['trainable'] / n['total']:.2%} of the model", "normal"),
    ]
    for i, (text, weight_) in enumerate(lines):
        label(ax, 5.95, 3.55 - 0.245 * i, text, fontsize=8.5, ha="left", weight=weight_)
    legend(ax, 2.3, 0.15, ["input", "layer", "output"],
           extra=[("frozen", lambda a_, x, y: a_.add_patch(patches.Rectangle(
               (x, y - 0.07), 0.22, 0.14, fc=ROLES["layer"][0], ec=layer, hatch="///")))])
    return fig


FIGURES = {
    "arch-rnn-unrolled.png": rnn_unrolled,
    "arch-gru-lstm.png": gru_lstm,
    "arch-qkv.png": qkv,
    "arch-transformer-block.png": transformer_block,
    "arch-encoder-decoder.png": encoder_decoder,
    "arch-gpt-vs-bert.png": gpt_vs_bert,
    "arch-forecaster-flow.png": forecaster_flow,
    "arch-lora.png": lora,
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT, help="folder of the PNGs (default: docs/img)")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if a PNG in --out differs from the drawing")
    args = parser.parse_args(argv)
    stale = []
    for name, draw in FIGURES.items():
        # matplotlib's own defaults: a user's matplotlibrc must not change the bytes
        with plt.style.context("default"):
            drawn = png_bytes(draw())
        target = args.out / name
        if args.check:
            if not target.is_file() or target.read_bytes() != drawn:
                stale.append(name)
        else:
            args.out.mkdir(parents=True, exist_ok=True)
            target.write_bytes(drawn)
    if stale:
        redraw = "python docs/figures.py" + ("" if args.out == OUT else f" --out {args.out}")
        print(f"error: {', '.join(stale)} in {args.out}: not what docs/figures.py draws now; run "
              f"`{redraw}`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
