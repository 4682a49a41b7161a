"""Shared by the export scripts: what the C++ weight-import parity tests read.

For a reference model's input x and features y (eval mode), beside `stem`:
  STEM_input.f32     x, float32 little-endian
  STEM_features.f32  y, float32 little-endian
  STEM_shapes.txt    the two shapes, one per line
"""

import torch


def randomize_batch_norm(model):
    """Random batch-norm weights and statistics, so that every buffer matters."""
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.weight.uniform_(0.5, 1.5)
                module.bias.normal_(0.0, 0.1)
                module.running_mean.normal_(0.0, 0.1)
                module.running_var.uniform_(0.5, 1.5)


def write_parity(stem, x, y):
    x.numpy().astype("<f4").tofile(stem + "_input.f32")
    y.numpy().astype("<f4").tofile(stem + "_features.f32")
    with open(stem + "_shapes.txt", "w") as f:
        f.write(" ".join(map(str, x.shape)) + "\n")
        f.write(" ".join(map(str, y.shape)) + "\n")
