#!/usr/bin/python3
"""The PyTorch side of bench/train_vs_torch: one timed training epoch of the reference CNN on Fashion-MNIST.

Run with Debian's interpreter (/usr/bin/python3, python3-torch from scripts/setup_bench.sh). Reads the four idx
.gz files itself, trains the same model as experiments/fmnist_cnn.yaml for a short untimed warm-up and then one
timed epoch, evaluates the test accuracy (untimed), and prints one JSON line on stdout. Progress goes to stderr.
"""
import argparse
import copy
import ctypes
import gzip
import json
import os
import resource
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

FORMATS = {"contiguous": torch.contiguous_format, "channels_last": torch.channels_last}
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc <malloc.h>


def log(msg):
    print(f"torch_epoch: {msg}", file=sys.stderr, flush=True)


def tune_malloc():
    """Keeps freed activation buffers in the heap instead of returning them to the kernel.

    glibc serves allocations above its mmap threshold (a few MB: every activation of a batch of 128 here) with
    mmap and unmaps them on free, so each training step page-faults all its activations in afresh: thousands of
    faults a step and 25-40 % system time on this model. Raising the mmap threshold to glibc's maximum (32 MiB on
    64-bit) and the trim threshold removes that, as PyTorch's CPU tuning guide's advice to switch to jemalloc or
    tcmalloc does, without a package beyond python3-torch. Returns a description for the JSON line.
    """
    libc = ctypes.CDLL("libc.so.6")
    if not (libc.mallopt(M_MMAP_THRESHOLD, 32 << 20) and libc.mallopt(M_TRIM_THRESHOLD, 256 << 20)):
        raise RuntimeError("mallopt refused the thresholds")
    return "glibc, mmap threshold 32 MiB, trim threshold 256 MiB"


def read_idx(path):
    """Reads one gzip-compressed idx file: magic (0, 0, type 0x08 = ubyte, ndim), ndim big-endian uint32 sizes."""
    with gzip.open(path, "rb") as f:
        zero, dtype_code, ndim = struct.unpack(">HBB", f.read(4))
        if zero != 0 or dtype_code != 0x08:
            raise ValueError(f"{path}: not an unsigned-byte idx file")
        dims = struct.unpack(">" + "I" * ndim, f.read(4 * ndim))
        data = np.empty(dims, dtype=np.uint8)  # read straight into the array: no second copy of the bytes
        if f.readinto(memoryview(data).cast("B")) != data.size or f.read(1):
            raise ValueError(f"{path}: the data does not match the header's sizes {dims}")
    return data


def load_data(data_dir):
    """Images as N×1×28×28 float32 tensors scaled to [0, 1], then normalised with the training set's mean and std."""
    def read(name):
        return read_idx(os.path.join(data_dir, name))

    train_raw = read("train-images-idx3-ubyte.gz")
    # The training set's mean and standard deviation of the [0, 1] pixels, exactly, from the 256-bin histogram
    # (no float64 copy of the whole set, which would dominate the peak RSS).
    hist = np.zeros(256, dtype=np.float64)
    for chunk in np.array_split(train_raw.reshape(-1), 16):  # bincount widens to int64: a chunk at a time
        hist += np.bincount(chunk, minlength=256)
    values = np.arange(256, dtype=np.float64) / 255.0
    mean = float((hist * values).sum() / hist.sum())
    std = float(np.sqrt((hist * (values - mean) ** 2).sum() / hist.sum()))

    def to_tensor(raw):  # in place after the one conversion: a single float32 copy of each set
        x = raw.astype(np.float32)
        x /= np.float32(255.0)
        x -= np.float32(mean)
        x /= np.float32(std)
        return torch.from_numpy(x).unsqueeze(1)

    x_train = to_tensor(train_raw)
    del train_raw
    x_test = to_tensor(read("t10k-images-idx3-ubyte.gz"))
    y_train = torch.from_numpy(read("train-labels-idx1-ubyte.gz").astype(np.int64))
    y_test = torch.from_numpy(read("t10k-labels-idx1-ubyte.gz").astype(np.int64))
    return x_train, y_train, x_test, y_test, mean, std


class ReferenceCNN(nn.Module):
    """conv3x3 32 -> conv3x3 64 /2 -> conv3x3 64 /2 (each conv without bias, then BatchNorm, ReLU), GAP, linear.

    ReLU in place on the BatchNorm output, as torchvision's models do (BatchNorm's backward needs its input only).
    """

    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(32)
        self.conv2 = nn.Conv2d(32, 64, 3, stride=2, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(64)
        self.conv3 = nn.Conv2d(64, 64, 3, stride=2, padding=1, bias=False)
        self.bn3 = nn.BatchNorm2d(64)
        self.fc = nn.Linear(64, classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)), inplace=True)
        x = F.relu(self.bn2(self.conv2(x)), inplace=True)
        x = F.relu(self.bn3(self.conv3(x)), inplace=True)
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        return self.fc(x)


def make_optimizer(model, args):
    # Weight decay on every parameter (BatchNorm and biases included), constant learning rate, not Nesterov.
    return torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum, nesterov=False,
                           weight_decay=args.weight_decay)


def train_step(model, optimizer, images, labels):
    optimizer.zero_grad(set_to_none=True)
    loss = F.cross_entropy(model(images), labels)
    loss.backward()
    optimizer.step()
    return loss.detach()


def run_steps(model, optimizer, x, y, batch, steps, memory_format):
    """`steps` training steps on the first batches of the training set, in file order (wrapping around)."""
    per_epoch = (x.shape[0] + batch - 1) // batch
    for step in range(steps):
        start = (step % per_epoch) * batch
        images = x[start : start + batch].contiguous(memory_format=memory_format)
        train_step(model, optimizer, images, y[start : start + batch])


def pick_memory_format(model, x, y, args):
    """Times 30 steps in each memory format, after 10 warm-up steps, each on a throwaway copy of the model."""
    trials = {}
    for name, fmt in FORMATS.items():
        trial = copy.deepcopy(model).to(memory_format=fmt)
        trial.train()
        optimizer = make_optimizer(trial, args)
        run_steps(trial, optimizer, x, y, args.batch, 10, fmt)
        start = time.perf_counter()
        run_steps(trial, optimizer, x, y, args.batch, 30, fmt)
        trials[name] = time.perf_counter() - start
        log(f"format trial {name}: 30 steps in {trials[name]:.3f} s")
        del trial, optimizer
    return min(trials, key=trials.get), trials


def train_epoch(model, optimizer, x, y, batch, seed, memory_format):
    """One epoch over a seeded permutation, the last partial batch included. Returns (seconds, mean batch loss)."""
    order = torch.from_numpy(np.random.RandomState(seed).permutation(x.shape[0]))
    model.train()
    total_loss = torch.zeros((), dtype=torch.float64)
    batches = 0
    start = time.perf_counter()
    for first in range(0, x.shape[0], batch):
        idx = order[first : first + batch]
        images = x.index_select(0, idx).contiguous(memory_format=memory_format)
        total_loss += train_step(model, optimizer, images, y.index_select(0, idx))
        batches += 1
    seconds = time.perf_counter() - start
    return seconds, float(total_loss) / batches


def evaluate(model, x, y, memory_format, batch=1000):
    model.eval()
    correct = 0
    with torch.no_grad():
        for first in range(0, x.shape[0], batch):
            images = x[first : first + batch].contiguous(memory_format=memory_format)
            correct += int((model(images).argmax(1) == y[first : first + batch]).sum())
    return correct / x.shape[0]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--warmup-steps", type=int, default=20)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--weight-decay", type=float, default=5e-4)
    p.add_argument("--memory-format", choices=["contiguous", "channels_last", "best"], default="best")
    p.add_argument("--malloc", choices=["tuned", "default"], default="tuned",
                   help="tuned (default): raise glibc's mmap and trim thresholds so freed buffers are reused; "
                        "default: glibc as it comes")
    args = p.parse_args()

    malloc = tune_malloc() if args.malloc == "tuned" else "glibc defaults"

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(args.seed)

    x_train, y_train, x_test, y_test, mean, std = load_data(args.data_dir)
    log(f"data: {x_train.shape[0]} train, {x_test.shape[0]} test images; mean {mean:.4f}, std {std:.4f}")

    model = ReferenceCNN(classes=int(y_train.max()) + 1)
    trials = None
    if args.memory_format == "best":
        format_name, trials = pick_memory_format(model, x_train, y_train, args)
    else:
        format_name = args.memory_format
    fmt = FORMATS[format_name]
    model = model.to(memory_format=fmt)
    optimizer = make_optimizer(model, args)
    log(f"memory format {format_name}; {args.warmup_steps} warm-up steps, then one timed epoch")

    model.train()
    run_steps(model, optimizer, x_train, y_train, args.batch, args.warmup_steps, fmt)
    seconds, train_loss = train_epoch(model, optimizer, x_train, y_train, args.batch, args.seed, fmt)
    log(f"epoch {seconds:.2f} s, mean train loss {train_loss:.4f}")
    accuracy = evaluate(model, x_test, y_test, fmt)

    out = {
        "impl": "torch",
        "torch_version": torch.__version__,
        "mkldnn": torch.backends.mkldnn.is_available(),
        "memory_format": format_name,
        "malloc": malloc,
        "threads": args.threads,
        "batch": args.batch,
        "warmup_steps": args.warmup_steps,
        "epoch_seconds": seconds,
        "images_per_second": x_train.shape[0] / seconds,
        "train_loss": train_loss,
        "test_accuracy": accuracy,
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }
    if trials is not None:
        out["format_trial_seconds"] = trials
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
