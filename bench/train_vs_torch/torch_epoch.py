#!/usr/bin/python3
"""The PyTorch side of bench/train_vs_torch: one timed training epoch of the reference CNN on Fashion-MNIST.

The same model as experiments/fmnist_cnn.yaml, the same data (idx files scaled to [0, 1], normalised with the
training set's mean and standard deviation, no augmentation), batch 128, SGD with momentum 0.9 and weight decay 5e-4
at a constant learning rate, after an untimed warm-up of the same number of steps as the mcunas side. Prints one
JSON line on stdout. Run it with Debian's /usr/bin/python3, which has python3-torch.
"""
import argparse
import copy
import gzip
import json
import resource
import sys
import time

import numpy as np
import torch
from torch import nn


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def reference_cnn():
    def block(cin, cout, stride):
        return [nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]

    return nn.Sequential(*block(1, 32, 1), *block(32, 64, 2), *block(64, 64, 2),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))


def steps(model, optimizer, images, labels, order, batch, limit=None):
    loss_fn = nn.CrossEntropyLoss()
    count = 0
    for start in range(0, len(order), batch):
        if limit is not None and count >= limit:
            break
        index = order[start:start + batch]
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(images[index]), labels[index])
        loss.backward()
        optimizer.step()
        count += 1
    return count


def make(fmt, lr, seed):
    torch.manual_seed(seed)
    model = reference_cnn()
    if fmt == "channels_last":
        model = model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=5e-4)
    return model, optimizer


def to_format(x, fmt):
    return x.contiguous(memory_format=torch.channels_last) if fmt == "channels_last" else x.contiguous()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--warmup-steps", type=int, default=20)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--memory-format", choices=["contiguous", "channels_last", "best"], default="best")
    a = p.parse_args()

    torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(1)
    d = a.data_dir
    train_x = read_idx(f"{d}/train-images-idx3-ubyte.gz").astype(np.float32) / 255.0
    train_y = read_idx(f"{d}/train-labels-idx1-ubyte.gz").astype(np.int64)
    test_x = read_idx(f"{d}/t10k-images-idx3-ubyte.gz").astype(np.float32) / 255.0
    test_y = read_idx(f"{d}/t10k-labels-idx1-ubyte.gz").astype(np.int64)
    mean, std = train_x.mean(), train_x.std()
    train_x = torch.from_numpy((train_x - mean) / std).unsqueeze(1)
    test_x = torch.from_numpy((test_x - mean) / std).unsqueeze(1)
    train_y, test_y = torch.from_numpy(train_y), torch.from_numpy(test_y)
    order = torch.from_numpy(np.random.default_rng(a.seed).permutation(len(train_y)))

    # Measure the peer at its best: time 30 steps in each memory format (after 10 untimed) on a throwaway model.
    fmt = a.memory_format
    if fmt == "best":
        rates = {}
        for candidate in ("contiguous", "channels_last"):
            model, optimizer = make(candidate, a.lr, a.seed)
            x = to_format(train_x, candidate)
            steps(model, optimizer, x, train_y, order, a.batch, limit=10)
            start = time.perf_counter()
            steps(model, optimizer, x, train_y, order, a.batch, limit=30)
            rates[candidate] = time.perf_counter() - start
        fmt = min(rates, key=rates.get)
        print(f"torch: 30 steps contiguous {rates['contiguous']:.2f} s, channels_last {rates['channels_last']:.2f} s;"
              f" using {fmt}", file=sys.stderr)

    model, optimizer = make(fmt, a.lr, a.seed)
    train_x = to_format(train_x, fmt)
    test_x = to_format(test_x, fmt)
    model.train()
    steps(model, optimizer, train_x, train_y, order, a.batch, limit=a.warmup_steps)
    start = time.perf_counter()
    steps(model, optimizer, train_x, train_y, order, a.batch)
    seconds = time.perf_counter() - start

    model.eval()
    correct = 0
    with torch.no_grad():
        for s in range(0, len(test_y), 1000):
            correct += (model(test_x[s:s + 1000]).argmax(1) == test_y[s:s + 1000]).sum().item()
    print(json.dumps({
        "impl": "torch", "torch_version": torch.__version__, "memory_format": fmt,
        "mkldnn": torch.backends.mkldnn.is_available(), "threads": a.threads, "batch": a.batch,
        "warmup_steps": a.warmup_steps, "epoch_seconds": seconds, "images_per_second": len(train_y) / seconds,
        "test_accuracy": correct / len(test_y),
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }))


if __name__ == "__main__":
    main()
