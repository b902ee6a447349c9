"""Models of the time-to-result workloads that are not image classifiers, written in the project.

- `transformer_lm`: a decoder-only transformer (GPT-style, pre-norm) over a byte vocabulary,
  learned positional embeddings, causal `scaled_dot_product_attention`, output tied to the
  input embedding (fewer parameters; standard since Press & Wolf 2017).
- `dlrm`: DLRM (Naumov et al. 2019): a bottom MLP embeds the dense features, one embedding
  table per categorical field, pairwise dot products of all embeddings (the feature
  interaction), concatenated with the bottom output into a top MLP giving one click logit.
- `conv_autoencoder`: two strided convolutions down to a linear bottleneck and two
  upsample-convolutions back, sigmoid output in [0, 1] (images are reconstructed in [0, 1]).

Each takes an `activation` (and the LM a `norm`) so held-out variants can change them.
`build_model` builds a workload's model from its kind, name, the data's description and the
suite's `model_options`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from harness.configfile import did_you_mean
from harness.errors import ConfigError
from harness.models import _activation, backbone_factory
from harness.ttr_kinds import WorkloadKind

NORMS = {"layer": nn.LayerNorm, "rms": nn.RMSNorm}


class _Block(nn.Module):
    def __init__(self, width: int, heads: int, mlp_ratio: int, activation: str, norm: str):
        super().__init__()
        if norm not in NORMS:
            raise ConfigError(f'unknown norm "{norm}"{did_you_mean(norm, NORMS)}')
        self.heads = heads
        self.norm1, self.norm2 = NORMS[norm](width), NORMS[norm](width)
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)
        self.mlp = nn.Sequential(nn.Linear(width, mlp_ratio * width), _activation(activation),
                                 nn.Linear(mlp_ratio * width, width))

    def forward(self, x: Tensor) -> Tensor:
        b, t, c = x.shape
        q, k, v = self.qkv(self.norm1(x)).view(b, t, 3, self.heads, c // self.heads) \
            .permute(2, 0, 3, 1, 4)
        attended = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.proj(attended.transpose(1, 2).reshape(b, t, c))
        return x + self.mlp(self.norm2(x))


class TransformerLM(nn.Module):
    """tokens (B, T) int64 -> next-token logits (B, T, vocab_size)."""

    def __init__(self, vocab_size: int, context: int, width: int = 64, depth: int = 2,
                 heads: int = 4, mlp_ratio: int = 4, activation: str = "gelu",
                 norm: str = "layer"):
        super().__init__()
        if width % heads:
            raise ConfigError(f"transformer_lm: width {width} is not divisible by {heads} heads")
        self.context = context
        self.embed = nn.Embedding(vocab_size, width)
        self.position = nn.Parameter(torch.zeros(context, width))
        self.blocks = nn.ModuleList(_Block(width, heads, mlp_ratio, activation, norm)
                                    for _ in range(depth))
        self.norm = NORMS[norm](width)
        nn.init.normal_(self.embed.weight, std=0.02)
        nn.init.normal_(self.position, std=0.02)

    def forward(self, tokens: Tensor) -> Tensor:
        x = self.embed(tokens) + self.position[: tokens.shape[1]]
        for block in self.blocks:
            x = block(x)
        return self.norm(x) @ self.embed.weight.T


def _mlp(sizes: Sequence[int], activation: str, last_activation: bool) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2 or last_activation:
            layers.append(_activation(activation))
    return nn.Sequential(*layers)


class DLRM(nn.Module):
    """(dense (B, D) float, categorical (B, F) int64) -> click logit (B,)."""

    def __init__(self, num_dense: int, cardinalities: Sequence[int], embed_dim: int = 16,
                 bottom: Sequence[int] = (64,), top: Sequence[int] = (64,),
                 activation: str = "relu"):
        super().__init__()
        self.bottom = _mlp([num_dense, *bottom, embed_dim], activation, last_activation=True)
        self.tables = nn.ModuleList(nn.Embedding(n, embed_dim) for n in cardinalities)
        for table in self.tables:
            nn.init.uniform_(table.weight, -1 / math.sqrt(table.num_embeddings),
                             1 / math.sqrt(table.num_embeddings))
        vectors = len(cardinalities) + 1
        self.pairs = torch.triu_indices(vectors, vectors, offset=1)
        self.top = _mlp([embed_dim + self.pairs.shape[1], *top, 1], activation,
                        last_activation=False)

    def forward(self, dense: Tensor, categorical: Tensor) -> Tensor:
        bottom = self.bottom(dense)
        vectors = torch.stack([bottom, *(t(categorical[:, i]) for i, t in
                                         enumerate(self.tables))], dim=1)  # (B, F+1, E)
        dots = vectors @ vectors.transpose(1, 2)
        interactions = dots[:, self.pairs[0], self.pairs[1]]
        return self.top(torch.cat([bottom, interactions], dim=1)).squeeze(1)


class ConvAutoencoder(nn.Module):
    """images (B, C, H, W) in [0, 1] -> reconstructions of the same shape in [0, 1]."""

    def __init__(self, input_shape: Sequence[int], width: int = 16, latent: int = 32,
                 activation: str = "relu"):
        super().__init__()
        c, h, w = input_shape
        if h % 4 or w % 4:
            raise ConfigError(f"conv_autoencoder needs image sides divisible by 4, got {h}×{w}")
        self.inner = (2 * width, h // 4, w // 4)
        flat = math.prod(self.inner)
        self.encoder = nn.Sequential(
            nn.Conv2d(c, width, 3, stride=2, padding=1), _activation(activation),
            nn.Conv2d(width, 2 * width, 3, stride=2, padding=1), _activation(activation),
            nn.Flatten(), nn.Linear(flat, latent))
        self.decoder_in = nn.Sequential(nn.Linear(latent, flat), _activation(activation))
        # Nearest upsampling + convolution rather than transposed convolutions: no checkerboard
        # artefacts (Odena et al. 2016), and about 2.5x faster on CPU at these sizes.
        self.decoder = nn.Sequential(
            nn.Upsample(scale_factor=2), nn.Conv2d(2 * width, width, 3, padding=1),
            _activation(activation),
            nn.Upsample(scale_factor=2), nn.Conv2d(width, c, 3, padding=1))

    def forward(self, images: Tensor) -> Tensor:
        z = self.decoder_in(self.encoder(images)).view(-1, *self.inner)
        return torch.sigmoid(self.decoder(z))


def build_model(kind: WorkloadKind, name: str, data: dict[str, Any],
                options: dict[str, Any]) -> nn.Module:
    """The workload's model; `data` is the prepared data's description (shapes, vocabulary)."""
    try:
        if kind is WorkloadKind.CLASSIFICATION:
            return backbone_factory(name, tuple(data["input_shape"]), data["num_outputs"],
                                    **options)()
        if kind is WorkloadKind.LANGUAGE_MODEL:
            return TransformerLM(data["vocab_size"], data["sequence_length"], **options)
        if kind is WorkloadKind.CLICK_THROUGH:
            return DLRM(data["num_dense"], data["cardinalities"], **options)
        return ConvAutoencoder(data["input_shape"], **options)
    except TypeError as exc:  # an unknown model option
        raise ConfigError(f"model {name}: {exc}") from exc
