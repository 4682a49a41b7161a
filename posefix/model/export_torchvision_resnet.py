#!/usr/bin/env python3
"""Exports a torchvision ResNet for posefix's ImportTorchvisionResNet.

Writes, into --out:
  resnetD.pt             TorchScript (torch.jit.save of the scripted model)
  resnetD_state_dict.pt  the state dict as a plain dict saved with torch.save
                         (LibTorch's unpickler cannot rebuild the OrderedDict
                         that model.state_dict() returns; dict() of it works)
With --parity it also writes what the C++ parity test compares against:
  resnetD_input.f32      a seeded input [N, 3, H, W], float32 little-endian
  resnetD_features.f32   torchvision's layer4 features of it (eval mode)
  resnetD_shapes.txt     the two shapes, one per line
  resnetD_ordered_state_dict.pt  torch.save(model.state_dict()) as is, to
                         test that the importer explains the dict() fix

--weights random (default) uses torchvision's random initialization seeded by
--seed, with batch-norm statistics randomized too so that every buffer
matters; --weights imagenet asks torchvision for its ImageNet weights (needs
them downloaded or cached).
"""

import argparse
import os

import torch
import torchvision

from parity_files import randomize_batch_norm, write_parity


def build(depth, weights, seed):
    torch.manual_seed(seed)
    factory = getattr(torchvision.models, "resnet%d" % depth)
    if weights == "imagenet":
        model = factory(weights="DEFAULT")
    else:
        model = factory(weights=None)
        randomize_batch_norm(model)
    return model.eval()


def features(model, x):
    x = model.maxpool(model.relu(model.bn1(model.conv1(x))))
    return model.layer4(model.layer3(model.layer2(model.layer1(x))))


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--depth", type=int, default=50, choices=[18, 34, 50, 101, 152])
    parser.add_argument("--weights", default="random", choices=["random", "imagenet"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True)
    parser.add_argument("--parity", action="store_true")
    parser.add_argument("--height", type=int, default=128)
    parser.add_argument("--width", type=int, default=96)
    args = parser.parse_args()

    os.makedirs(args.out, exist_ok=True)
    model = build(args.depth, args.weights, args.seed)
    stem = os.path.join(args.out, "resnet%d" % args.depth)
    torch.jit.save(torch.jit.script(model), stem + ".pt")
    torch.save(dict(model.state_dict()), stem + "_state_dict.pt")
    if args.parity:
        torch.save(model.state_dict(), stem + "_ordered_state_dict.pt")
        generator = torch.Generator().manual_seed(args.seed + 1)
        x = torch.randn(2, 3, args.height, args.width, generator=generator)
        with torch.no_grad():
            y = features(model, x)
        write_parity(stem, x, y)


if __name__ == "__main__":
    main()
