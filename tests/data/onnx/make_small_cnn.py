#!/usr/bin/python3
"""Writes the ONNX test models of tests/supernet/onnx_import_test.cpp and tests/integration/onnx_seed_test.sh with
Debian's PyTorch (python3-torch; test-only, nas never runs PyTorch), and PyTorch's own outputs for them:

  small_cnn.onnx          exported in eval mode (PyTorch folds each BatchNorm into its convolution's bias)
  small_cnn_bn.onnx       the same network with its BatchNormalization nodes kept (training=PRESERVE, no folding)
  small_cnn_input.f32     5 random images, float32 little-endian, NCHW [5][1][12][12]
  small_cnn_output.f32    PyTorch's logits for them, float32 [5][4]
  unsupported.onnx        a network with a Sigmoid, which the import must refuse by name

The network is a chain of the blocks the search space knows (a 3x3 convolution, a 5x5 one at stride 2, a
depthwise-separable 3x3, an inverted residual 3x3 with expansion 2 and its residual join) and the global-pooling
classifier head, with random weights and random BatchNorm statistics, so every folding path is exercised.

  /usr/bin/python3 tests/data/onnx/make_small_cnn.py tests/data/onnx
"""
import sys

import torch
from torch import nn


def conv_bn(cin, cout, k, stride=1, groups=1, act=nn.ReLU):
    layers = [nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]
    if act is not None:
        layers.append(act())
    return layers


class InvertedResidual(nn.Module):
    def __init__(self, channels, expansion):
        super().__init__()
        hidden = channels * expansion
        self.body = nn.Sequential(*conv_bn(channels, hidden, 1, act=nn.ReLU6),
                                  *conv_bn(hidden, hidden, 3, groups=hidden, act=nn.ReLU6),
                                  *conv_bn(hidden, channels, 1, act=None))

    def forward(self, x):
        return self.body(x) + x


def small_cnn(unsupported=False):
    return nn.Sequential(*conv_bn(1, 8, 3),
                         *conv_bn(8, 16, 5, stride=2),
                         *conv_bn(16, 16, 3, groups=16), *conv_bn(16, 24, 1),
                         InvertedResidual(24, 2),
                         nn.Sigmoid() if unsupported else nn.Identity(),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(24, 4))


def randomise(model):
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.3, 0.3)
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 2.0)
    return model.eval()


def main(out):
    torch.manual_seed(7)
    model = randomise(small_cnn())
    images = torch.randn(5, 1, 12, 12)
    example = images[:1]
    torch.onnx.export(model, example, f"{out}/small_cnn.onnx", opset_version=13, input_names=["image"],
                      output_names=["logits"])
    torch.onnx.export(model, example, f"{out}/small_cnn_bn.onnx", opset_version=13, input_names=["image"],
                      output_names=["logits"], training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
    torch.onnx.export(randomise(small_cnn(unsupported=True)), example, f"{out}/unsupported.onnx", opset_version=13)
    with torch.no_grad():
        logits = model(images)
    images.numpy().astype("<f4").tofile(f"{out}/small_cnn_input.f32")
    logits.numpy().astype("<f4").tofile(f"{out}/small_cnn_output.f32")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
