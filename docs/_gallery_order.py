"""Order of the gallery (``within_subsection_order`` in docs/conf.py): the
quickstart first, then roughly the order of the user guide; examples not
listed come last, by file name. A class named by its import path, because
Sphinx pickles its configuration and a function defined in conf.py cannot be
pickled."""

import os

GALLERY_ORDER = [
    "plot_quickstart.py",
    "plot_loss_curves.py",
    "plot_class_weight.py",
    "plot_tabular_house_prices.py",
    "plot_convnet_filters.py",
    "plot_few_labels.py",
    "plot_skops.py",
    "plot_dask_incremental.py",
    "plot_onnx_export.py",
]


class GalleryOrder:
    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        name = os.path.basename(filename)
        rank = GALLERY_ORDER.index(name) if name in GALLERY_ORDER else len(GALLERY_ORDER)
        return rank, name

    def __repr__(self):
        return "GalleryOrder"
