"""Does AutoEncoder pre-training help a classifier trained on few labels?

digits, standardised; a denoising AutoEncoder((256, 64), noise=1.0) is fit
on all rows; MLPClassifier((256, 64)) is trained on L stratified labelled
rows, from random weights or from the encoder (``init_network``), and
scored on the remaining rows. Five seeds, mean ± std test accuracy.

Run: ``python benchmarks/autoencoder_pretraining.py``
"""

import time
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skann import AutoEncoder, MLPClassifier

HIDDEN = (256, 64)


def accuracies(ae, X, y, n_labels, seeds=range(5)):
    """Test accuracy of each seed, from scratch and pre-trained."""
    results = {"scratch": [], "pretrained": []}
    for seed in seeds:
        labelled, test = train_test_split(
            np.arange(len(y)), train_size=n_labels, stratify=y, random_state=seed
        )
        for kind in results:
            clf = MLPClassifier(HIDDEN, max_iter=300, random_state=seed)
            if kind == "pretrained":
                ae.init_network(clf, X[labelled], y[labelled])
            clf.fit(X[labelled], y[labelled])
            results[kind].append(clf.score(X[test], y[test]))
    return {kind: 100 * np.array(scores) for kind, scores in results.items()}


def main():
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    start = time.perf_counter()
    ae = AutoEncoder(HIDDEN, noise=1.0, max_iter=100, random_state=0).fit(X)
    print(f"AutoEncoder fit on {len(X)} rows in {time.perf_counter() - start:.1f} s")
    print(f"{'labels':>6}  {'scratch':>12}  {'pretrained':>12}  paired gain per seed")
    for n_labels in (50, 100):
        scores = accuracies(ae, X, y, n_labels)
        scratch, pretrained = scores["scratch"], scores["pretrained"]
        print(
            f"{n_labels:>6}  {scratch.mean():5.1f} ± {scratch.std():3.1f}  "
            f"{pretrained.mean():5.1f} ± {pretrained.std():3.1f}  "
            f"{np.round(pretrained - scratch, 1).tolist()}"
        )


if __name__ == "__main__":
    main()
