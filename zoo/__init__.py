"""zoo: the classic recurrent networks for NLP, in Keras 3.

`import zoo` is light: the subpackages (`zoo.cells`, `zoo.layers`, `zoo.models`, `zoo.data`,
`zoo.export`, ...) import Keras when they are imported. The `zoo` command line quietens
TensorFlow's start-up log; a library import leaves the user's logging settings alone.
"""
__version__ = "0.1.0"


def __getattr__(name: str):
    # `zoo.load` and `zoo.inference_model` are imported on first use, so `import zoo` does not
    # import Keras.
    if name == "load":
        from zoo.loading import load

        return load
    if name == "inference_model":
        from zoo.models.inference import inference_model

        return inference_model
    raise AttributeError(f"module 'zoo' has no attribute {name!r}")
