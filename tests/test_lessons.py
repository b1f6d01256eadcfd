"""CodeLLM/lessons: the NumPy attention library against PyTorch's own implementations, its
symmetries (permutation equivariance without positions), values worked out by hand, and every
lesson script run as a user runs it."""

import math
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import ROOT, run_script

from CodeLLM import blocks

from tools.loader import load_stage_config

attention = load_stage_config(ROOT / "CodeLLM" / "lessons" / "numpy_attention.py")
LESSONS = "CodeLLM/lessons"


def to_numpy_params(mha: torch.nn.MultiheadAttention) -> dict:
    """nn.MultiheadAttention's weights under the names multi_head_attention expects."""
    return {"in_proj_weight": mha.in_proj_weight.detach().numpy(),
            "in_proj_bias": mha.in_proj_bias.detach().numpy(),
            "out_proj_weight": mha.out_proj.weight.detach().numpy(),
            "out_proj_bias": mha.out_proj.bias.detach().numpy()}


def torch_mha(d_model: int = 12, heads: int = 3) -> torch.nn.MultiheadAttention:
    torch.manual_seed(0)
    mha = torch.nn.MultiheadAttention(d_model, heads, batch_first=True, dtype=torch.float64).eval()
    with torch.no_grad():  # torch starts biases at zero; random ones check their placement too
        mha.in_proj_bias.normal_()
        mha.out_proj.bias.normal_()
    return mha


# (a) scaled dot-product attention = torch's

@pytest.mark.parametrize("mask_kind", ["none", "causal", "random"])
def test_scaled_dot_product_matches_torch(mask_kind):
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal(shape) for shape in ((2, 3, 5, 8), (2, 3, 5, 8), (2, 3, 5, 4)))
    mask = {"none": None, "causal": attention.causal_mask(5),
            "random": rng.random((2, 3, 5, 5)) < 0.6}[mask_kind]
    if mask is not None:
        mask[..., 0] = True  # every query must see at least one key
    out, weights = attention.scaled_dot_product_attention(q, k, v, mask)
    expected = F.scaled_dot_product_attention(
        *(torch.from_numpy(a) for a in (q, k, v)),
        attn_mask=None if mask is None else torch.from_numpy(mask))  # True = may attend, as ours
    assert out.shape == (2, 3, 5, 4) and weights.shape == (2, 3, 5, 5)
    np.testing.assert_allclose(out, expected.numpy(), atol=1e-10)
    np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-12)
    if mask is not None:
        assert np.all(weights[~np.broadcast_to(mask, weights.shape)] == 0)  # hidden keys get nothing


def test_causal_mask_equals_torch_is_causal_and_float32_agrees():
    rng = np.random.default_rng(1)
    q, k, v = (rng.standard_normal((4, 6, 16)).astype(np.float32) for _ in range(3))
    out, _ = attention.scaled_dot_product_attention(q, k, v, attention.causal_mask(6))
    expected = F.scaled_dot_product_attention(*(torch.from_numpy(a) for a in (q, k, v)), is_causal=True)
    np.testing.assert_allclose(out, expected.numpy(), atol=1e-5)


def test_a_mask_that_hides_every_key_is_a_clear_error():
    x = np.ones((1, 3, 4))
    with pytest.raises(ValueError, match="hides every key"):
        attention.scaled_dot_product_attention(x, x, x, mask=np.zeros((3, 3), dtype=bool))


# (b) multi-head attention = nn.MultiheadAttention with the same weights

def test_multi_head_self_attention_matches_torch():
    mha, rng = torch_mha(), np.random.default_rng(2)
    x = rng.standard_normal((2, 5, 12))
    out, weights = attention.multi_head_attention(x, x, to_numpy_params(mha), heads=3)
    t = torch.from_numpy(x)
    expected, expected_weights = mha(t, t, t, average_attn_weights=False)
    assert out.shape == (2, 5, 12) and weights.shape == (2, 3, 5, 5)
    np.testing.assert_allclose(out, expected.detach().numpy(), atol=1e-10)
    np.testing.assert_allclose(weights, expected_weights.detach().numpy(), atol=1e-10)


def test_multi_head_cross_attention_with_mask_matches_torch():
    mha, rng = torch_mha(), np.random.default_rng(3)
    x_q, x_kv = rng.standard_normal((2, 4, 12)), rng.standard_normal((2, 7, 12))
    allowed = np.tril(np.ones((4, 7), dtype=bool), k=2)  # query i sees keys 0 .. i + 2
    params = to_numpy_params(mha)
    for mask in (None, allowed):
        out, weights = attention.multi_head_attention(x_q, x_kv, params, heads=3, mask=mask)
        blocked = None if mask is None else torch.from_numpy(~mask)  # torch's MHA: True = blocked
        expected, expected_weights = mha(torch.from_numpy(x_q), torch.from_numpy(x_kv),
                                         torch.from_numpy(x_kv), attn_mask=blocked)
        assert out.shape == (2, 4, 12)
        np.testing.assert_allclose(out, expected.detach().numpy(), atol=1e-10)
        np.testing.assert_allclose(weights.mean(axis=1), expected_weights.detach().numpy(), atol=1e-10)


def test_transformer_block_matches_torch_pre_norm_encoder_layer():
    torch.manual_seed(4)
    layer = torch.nn.TransformerEncoderLayer(8, 2, dim_feedforward=24, dropout=0.0, activation="gelu",
                                             batch_first=True, norm_first=True, dtype=torch.float64)
    layer.eval()
    with torch.no_grad():  # make every parameter matter, layer-norm scales included
        for parameter in layer.parameters():
            parameter.add_(0.1 * torch.randn_like(parameter))
    params = {"heads": 2, "attn": to_numpy_params(layer.self_attn),
              "ln1_gamma": layer.norm1.weight, "ln1_beta": layer.norm1.bias,
              "ln2_gamma": layer.norm2.weight, "ln2_beta": layer.norm2.bias,
              "ff_w1": layer.linear1.weight, "ff_b1": layer.linear1.bias,
              "ff_w2": layer.linear2.weight, "ff_b2": layer.linear2.bias}
    params = {k: v.detach().numpy() if torch.is_tensor(v) else v for k, v in params.items()}
    x = np.random.default_rng(4).standard_normal((3, 6, 8))
    out, weights = attention.transformer_block(x, params)
    with torch.no_grad():
        expected = layer(torch.from_numpy(x))
    assert out.shape == (3, 6, 8) and weights.shape == (3, 2, 6, 6)
    np.testing.assert_allclose(out, expected.numpy(), atol=1e-8)


# (c) permutation equivariance without positions, and its loss with them

def test_without_positions_attention_is_permutation_equivariant_and_with_them_not():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((7, 16))  # (tokens, d_model)
    perm = np.array([3, 0, 6, 1, 5, 2, 4])
    pe = attention.sinusoidal_positional_encoding(7, 16)
    w_q, w_k, w_v = (rng.standard_normal((16, 8)) for _ in range(3))
    block = attention.random_block_params(16, 4, 32, rng)

    def self_attn(inputs):
        return attention.self_attention(inputs, w_q, w_k, w_v)[0]

    def whole_block(inputs, mask=None):
        return attention.transformer_block(inputs, block, mask)[0]

    for layer in (self_attn, whole_block):
        np.testing.assert_allclose(layer(x[perm]), layer(x)[perm], atol=1e-12)  # equivariant
        # positions are added by slot: the contents move, the encoding stays put
        assert np.abs(layer(x[perm] + pe) - layer(x + pe)[perm]).max() > 1e-2
    # A causal mask states an order too: no longer equivariant even without positions.
    causal = attention.causal_mask(7)
    assert np.abs(whole_block(x[perm], causal) - whole_block(x, causal)[perm]).max() > 1e-2


# (d) values worked out by hand

def test_softmax_by_hand_and_stable_for_large_scores():
    assert attention.softmax(np.array([0.0, math.log(3.0)])) == pytest.approx([0.25, 0.75])
    e = math.e
    assert attention.softmax(np.array([1.0, 2.0, 3.0])) == pytest.approx(
        [1 / (1 + e + e * e), e / (1 + e + e * e), e * e / (1 + e + e * e)])
    assert attention.softmax(np.array([1000.0, 1000.0])) == pytest.approx([0.5, 0.5])  # no overflow
    columns = attention.softmax(np.array([[0.0, math.log(3.0)], [0.0, 0.0]]), axis=0)
    np.testing.assert_allclose(columns, [[0.5, 0.75], [0.5, 0.25]])  # along the axis asked for


def test_attention_by_hand():
    # One query, two keys with scores 0 and ln(3) * sqrt(2) before scaling: weights 1/4, 3/4.
    q = np.array([[1.0, 0.0]])
    k = np.array([[0.0, 0.0], [math.log(3.0) * math.sqrt(2.0), 0.0]])
    v = np.array([[4.0], [8.0]])
    out, weights = attention.scaled_dot_product_attention(q, k, v)
    assert weights.tolist()[0] == pytest.approx([0.25, 0.75])
    assert out.item() == pytest.approx(0.25 * 4 + 0.75 * 8)


def test_positional_encoding_values():
    table = attention.sinusoidal_positional_encoding(10, 6)
    assert table.shape == (10, 6)
    assert table[0].tolist() == pytest.approx([0, 1, 0, 1, 0, 1])
    for pos in (1, 3, 7):
        assert table[pos, 0] == pytest.approx(math.sin(pos))
        assert table[pos, 1] == pytest.approx(math.cos(pos))
        assert table[pos, 2] == pytest.approx(math.sin(pos / 10000 ** (2 / 6)))
    assert attention.sinusoidal_positional_encoding(4, 5).shape == (4, 5)  # odd widths work
    # the same table as the one the stage's transformer adds
    np.testing.assert_allclose(table, blocks.SinusoidalEncoding(10, 6).table.numpy(), atol=1e-6)


def test_layer_norm_and_gelu_by_hand():
    normed = attention.layer_norm(np.array([1.0, 2.0, 3.0]), np.ones(3), np.zeros(3), eps=0.0)
    assert normed.tolist() == pytest.approx([-math.sqrt(1.5), 0.0, math.sqrt(1.5)])
    assert attention.gelu(np.array([0.0, 1.0]))[1] == pytest.approx(0.8413447460685429)  # Phi(1)
    x = np.linspace(-4, 4, 17)
    np.testing.assert_allclose(attention.gelu(x), F.gelu(torch.from_numpy(x)).numpy(), atol=1e-12)


# (e) every lesson runs as a user runs it

@pytest.mark.parametrize("script, plots, fragments", [
    ("01_scaled_dot_product.py", ["scaling_max_weight.png", "scaling_gradient.png"],
     ["worked example", "largest weight", "entropy (bits)"]),
    ("02_self_attention.py", ["self_attention.png"],
     ["1:cat -> 2:sat", "2:sat -> 1:cat", "0:the -> evenly"]),
    ("03_multi_head.py", ["multi_head.png"], ["positions 0, 3, 6"]),
    ("04_positional_encoding.py", ["positional_encoding.png", "positional_similarity.png"],
     ["PE[0, :8] = [0. 1. 0. 1. 0. 1. 0. 1.]", "depends on the offset k only"]),
    ("05_transformer_block.py", ["block_permutation.png"], ["pre-norm", "shuffled order"]),
])
def test_lesson_script_runs(tmp_path, script, plots, fragments):
    proc = run_script(f"{LESSONS}/{script}", "--out-dir", tmp_path, "--seed", "1", cwd=tmp_path,
                      timeout=120)
    for plot in plots:
        assert (tmp_path / plot).stat().st_size > 5000, plot
    for fragment in fragments:
        assert fragment in proc.stdout, (fragment, proc.stdout[-2000:])
    if script.startswith("01"):  # unscaled, the widest keys give a saturated softmax; scaled, not
        row = next(line for line in proc.stdout.splitlines() if line.strip().startswith("512 "))
        numbers = [float(n) for n in re.findall(r"\d+\.\d+", row)]
        unscaled_max, scaled_max = numbers[2], numbers[3]
        assert unscaled_max > 0.8 and scaled_max < 0.5, row
    if script.startswith("03"):  # head 2 copies the previous word into every later token
        previous = re.findall(r"^\s*\d+:(\w+)\s+positions [\d, ]+\s+(\S+)", proc.stdout, re.M)
        words = [word for word, _ in previous]
        assert len(words) == 8 and [found for _, found in previous[1:]] == words[:-1]
    if script.startswith("05"):
        lines = {name: line for line in proc.stdout.splitlines()
                 for name in ("no positional encoding", "sinusoidal encoding added",
                              "no encoding, causal mask") if line.strip().startswith(name)}
        assert "equivariant: order is invisible" in lines["no positional encoding"]
        assert "NOT equivariant" in lines["sinusoidal encoding added"]
        assert "NOT equivariant" in lines["no encoding, causal mask"]
