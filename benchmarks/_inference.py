"""Workload 3: inference with the MNIST MLP, one sample at a time and in batches of 1024."""

from __future__ import annotations

from collections.abc import Callable

from _config import INFERENCE_BATCH, MNIST_BATCH, MNIST_WIDTHS, Settings
from _contenders import training_task
from _data import Dataset
from _report import NUMPY_FLOOR
from _timing import alternate, per_call

#: Rows each model is trained on before it is timed (so the weights are a trained model's).
FIT_ROWS = 2048


def inference(classes: dict[str, type], data: Dataset, settings: Settings,
              log: Callable[[str], None]) -> dict:
    """Latency of one sample (1, 784) and time of one batch (1024, 784), to probabilities.

    Every call goes through each library's ordinary prediction path: ``net.forward(x)``
    (chainrule), ``with torch.no_grad(): softmax(model(x))`` (torch, x already a tensor),
    ``predict_proba(x)`` (scikit-learn). Each timed run makes ``*_calls`` back-to-back calls;
    the result is seconds per call.

    The latency table also times :data:`NUMPY_FLOOR`: chainrule's forward pass on the same
    weights as bare NumPy calls, the least any NumPy library could spend.

    Returns
    -------
    dict
        ``latency`` and ``batch``: name -> Stats of seconds per call.
    """
    trained: dict[str, object] = {}
    head = data.head(FIT_ROWS)
    for cls in classes.values():
        training_task(cls, MNIST_WIDTHS, "multiclass", MNIST_BATCH, head, 1, trained)()
    one = data.X[:1]
    batch = data.X[:INFERENCE_BATCH]
    tasks = {name: per_call(model.predictor(one), settings.latency_calls)
             for name, model in trained.items()}
    if "chainrule" in trained:
        tasks[NUMPY_FLOOR] = per_call(trained["chainrule"].floor_predictor(one),
                                      settings.latency_calls)
    latency = alternate(tasks, settings.inference_repeats, log=log)
    throughput = alternate({name: per_call(model.predictor(batch), settings.throughput_calls)
                            for name, model in trained.items()}, settings.inference_repeats, log=log)
    return {"latency": latency, "batch": throughput, "batch_rows": batch.shape[0]}
