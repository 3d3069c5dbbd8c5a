"""Small networks in the official Real-ESRGAN (BasicSR) key layout, built from random tensors, for tests."""
from __future__ import annotations

import math
from typing import Dict

import torch


def _conv(state: Dict[str, torch.Tensor], name: str, out_ch: int, in_ch: int, generator: torch.Generator) -> None:
    state[f"{name}.weight"] = torch.randn(out_ch, in_ch, 3, 3, generator=generator) * 0.05
    state[f"{name}.bias"] = torch.randn(out_ch, generator=generator) * 0.01


def rrdbnet(scale: int = 4, blocks: int = 1, features: int = 8, growth: int = 32, seed: int = 0) -> Dict[str, torch.Tensor]:
    """RRDBNet like RealESRGAN_x4plus / x2plus (x2 and x1 use pixel-unshuffle in front, as in BasicSR)."""
    g = torch.Generator().manual_seed(seed)
    state: Dict[str, torch.Tensor] = {}
    unshuffle = {4: 1, 2: 2, 1: 4}[scale]
    _conv(state, "conv_first", features, 3 * unshuffle * unshuffle, g)
    for b in range(blocks):
        for r in (1, 2, 3):
            for c in range(1, 5):
                _conv(state, f"body.{b}.rdb{r}.conv{c}", growth, features + (c - 1) * growth, g)
            _conv(state, f"body.{b}.rdb{r}.conv5", features, features + 4 * growth, g)
    for name in ("conv_body", "conv_up1", "conv_up2", "conv_hr"):
        _conv(state, name, features, features, g)
    _conv(state, "conv_last", 3, features, g)
    return state


def compact(scale: int = 4, convs: int = 4, features: int = 8, seed: int = 0) -> Dict[str, torch.Tensor]:
    """SRVGGNetCompact like realesr-animevideov3 / realesr-general-x4v3 (``convs`` body convolutions)."""
    g = torch.Generator().manual_seed(seed)
    state: Dict[str, torch.Tensor] = {}
    _conv(state, "body.0", features, 3, g)
    state["body.1.weight"] = torch.full((features,), 0.25)
    index = 2
    for _ in range(convs):
        _conv(state, f"body.{index}", features, features, g)
        state[f"body.{index + 1}.weight"] = torch.full((features,), 0.25)
        index += 2
    _conv(state, f"body.{index}", 3 * scale * scale, features, g)
    return state


def gfpgan(seed: int = 15) -> Dict[str, torch.Tensor]:
    """GFPGANv1.4's layout (spandrel's own GFPGAN class with its loader's settings: 512x512, 87 M parameters),
    random weights: loads and runs exactly like the release, at the release's cost."""
    from spandrel.architectures.GFPGAN import GFPGAN
    with torch.device("meta"):   # only the shapes: the random tensors are drawn below
        module = GFPGAN(out_size=512, num_style_feat=512, channel_multiplier=2, decoder_load_path=None,
                        fix_decoder=False, num_mlp=8, input_is_latent=True, different_w=True, narrow=1, sft_half=True)
    g = torch.Generator().manual_seed(seed)
    state: Dict[str, torch.Tensor] = {}
    for key, tensor in module.state_dict().items():
        scale = 1 / math.sqrt(tensor[0].numel()) if tensor.dim() >= 2 else 0.1
        state[key] = torch.randn(tensor.shape, generator=g) * scale
    return state
