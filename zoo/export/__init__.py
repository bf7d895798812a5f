"""SavedModel export for serving raw text (TensorFlow Serving, or plain `tf.saved_model.load`).

`export_saved_model(model, vectorizer, path)` and `export_run(run_dir)` live in
`zoo.export.saved_model`; `zoo.export.client` reads an export with TensorFlow alone (no zoo
model code), as `zoo predict` does. Attributes load lazily, so importing the package stays light.
"""
from __future__ import annotations

import importlib

_LAZY = {
    "export_saved_model": "zoo.export.saved_model",
    "export_run": "zoo.export.saved_model",
    "next_version": "zoo.export.saved_model",
    "versions": "zoo.export.saved_model",
    "graph_op_types": "zoo.export.saved_model",
    "generic_recurrent_path": "zoo.export.saved_model",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'zoo.export' has no attribute {name!r}")
