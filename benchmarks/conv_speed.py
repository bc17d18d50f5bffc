"""conv: seconds per training epoch of the issue's ConvNet, skann vs PyTorch.

The ConvNet of issue 8 on ``load_digits`` (1,797 rows of 8x8 images, X/16):
Conv2D(32, 3, same) - MaxPool(2) - Conv2D(64, 3, same) - MaxPool(2) -
Flatten - Dense(128) - Dropout(0.3) - Dense(10), ReLU, Adam at 1e-3,
minibatches of 200, float32. PyTorch (optional) runs the same layers
(channels first, as it wants them) in the same process. Each library is
warmed up with one epoch outside the timing; a measurement is one more
epoch (skann: ``partial_fit``; torch: its minibatch loop). The libraries
run in turn (:func:`_common.interleaved_medians`), pinned to the thread
counts of ``--threads`` (default 1), and the medians are reported with the
ratio skann / torch (below 1: skann is faster).

Run ``python benchmarks/conv_speed.py`` (about a minute with
``--repeats 5``).
"""

import functools
import warnings

import numpy as np
from sklearn.datasets import load_digits

from _common import interleaved_medians, optional_torch, parse_args, pinned_threads, PROBLEMS
from _peers import optional_skann

BATCH_SIZE = 200


def skann_model(random_state=0):
    """The issue's ConvNet as a skann MLPClassifier."""
    skann = optional_skann()
    from skann.layers import Conv2D, Dense, Dropout, Flatten, MaxPool2D

    layers = [Conv2D(32, 3, padding="same"), MaxPool2D(2), Conv2D(64, 3, padding="same"),
              MaxPool2D(2), Flatten(), Dense(128), Dropout(0.3)]
    return skann.MLPClassifier(layers=layers, input_shape=(8, 8), batch_size=BATCH_SIZE,
                               max_iter=1, random_state=random_state)


class TorchConvNet:
    """The same network in PyTorch, trained by a plain minibatch loop."""

    def __init__(self, X, y):
        torch = optional_torch()
        torch.manual_seed(0)
        nn = torch.nn
        self.model = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(256, 128), nn.ReLU(), nn.Dropout(0.3), nn.Linear(128, 10),
        )
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=1e-3)
        self.X = torch.from_numpy(X.astype(np.float32).reshape(-1, 1, 8, 8))
        self.y = torch.from_numpy(y.astype(np.int64))

    def epoch(self):
        """One shuffled pass over the data."""
        torch = optional_torch()
        self.model.train()
        order = torch.randperm(self.X.shape[0])
        for start in range(0, self.X.shape[0], BATCH_SIZE):
            batch = order[start:start + BATCH_SIZE]
            self.optimizer.zero_grad(set_to_none=True)
            loss = torch.nn.functional.cross_entropy(self.model(self.X[batch]), self.y[batch])
            loss.backward()
            self.optimizer.step()


def seconds_per_epoch(epoch):
    """Wall seconds of one call of ``epoch``."""
    import time

    start = time.perf_counter()
    epoch()
    return time.perf_counter() - start


def measures(X, y):
    """Name to a function timing one epoch, each library warmed up."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning after 1 epoch
        with pinned_threads(1):
            model = skann_model().fit(X, y)
    found = {"skann": functools.partial(seconds_per_epoch, functools.partial(model.partial_fit, X, y))}
    if optional_torch() is None:
        print("torch is not installed: its column is skipped (pip install torch).")
        return found
    torch_net = TorchConvNet(X, y)
    with pinned_threads(1):
        torch_net.epoch()
    found["torch"] = functools.partial(seconds_per_epoch, torch_net.epoch)
    return found


def main(argv=None):
    options = parse_args(__doc__.splitlines()[0], argv)
    X, y = load_digits(return_X_y=True)
    X = X / 16
    timers = measures(X, y)
    print(f"ConvNet on load_digits ({len(X)} rows, batch {BATCH_SIZE}), seconds per epoch, "
          f"median of {options.repeats}")
    print(f"{'threads':>7} {'skann':>8} {'torch':>8} {'skann/torch':>12}")
    for threads in options.threads:
        medians = interleaved_medians(timers, options.repeats, threads, "conv epoch")
        skann_s, torch_s = medians.get("skann"), medians.get("torch")
        ratio = f"{skann_s / torch_s:12.2f}" if skann_s and torch_s else f"{'-':>12}"
        torch_text = f"{torch_s:8.4f}" if torch_s else f"{'-':>8}"
        print(f"{threads:>7} {skann_s:8.4f} {torch_text} {ratio}")
    share = options.cpu_monitor.others_share()
    if share is not None:
        print(f"other processes used {100 * share:.0f}% of the CPUs meanwhile")
    for problem in PROBLEMS:
        print(f"! {problem}")


if __name__ == "__main__":
    main()
