"""chainrule: neural networks in plain NumPy, with every gradient derived and written by hand.

The public API is re-exported here::

    import chainrule as cr
    net = cr.mlp([2, 16, 16, 1], activation="relu", output="sigmoid", seed=0)
    report = cr.gradcheck(net, "binary_cross_entropy", X, y)
"""

from ._version import __version__
from .errors import (
    DataNotFoundError,
    ModelFormatError,
    MonitorNotLoggedError,
    NotBuiltError,
    NotDifferentiableError,
    ShapeError,
    TrainingDivergedError,
)
from .gradcheck import GradcheckReport, gradcheck
from .init import INITIALIZERS
from .io import load, save
from .layers import (
    ACTIVATIONS,
    ELU,
    GELU,
    LAYERS,
    Dense,
    Dropout,
    Identity,
    Layer,
    LeakyReLU,
    ParameterSpec,
    ReLU,
    Rescale,
    Sequential,
    Sigmoid,
    Softmax,
    Softplus,
    Step,
    Tanh,
    mlp,
)
from .losses import LOSSES, MAE, MSE, BinaryCrossEntropy, CrossEntropy, Huber, Loss
from .objective import Objective
from .optim import (
    OPTIMIZERS,
    SCHEDULES,
    SGD,
    Adagrad,
    Adam,
    AdamW,
    ConstantLR,
    CosineLR,
    ExponentialLR,
    InverseScalingLR,
    Optimizer,
    RMSprop,
    Schedule,
    StepLR,
)
from .perceptron import Perceptron
from .training import (
    METRICS,
    Callback,
    EarlyStopping,
    GradientMonitor,
    History,
    LambdaCallback,
    ModelCheckpoint,
    ReduceLROnPlateau,
    Trainer,
    batches,
)

__all__ = [  # noqa: RUF022 - grouped by topic, as the docs list them
    "__version__",
    # errors
    "DataNotFoundError",
    "ModelFormatError",
    "MonitorNotLoggedError",
    "NotBuiltError",
    "NotDifferentiableError",
    "ShapeError",
    "TrainingDivergedError",
    # layers and networks
    "Layer",
    "ParameterSpec",
    "Dense",
    "Dropout",
    "Rescale",
    "Sigmoid",
    "Tanh",
    "ReLU",
    "LeakyReLU",
    "ELU",
    "GELU",
    "Softplus",
    "Identity",
    "Softmax",
    "Step",
    "Sequential",
    "mlp",
    # losses
    "Loss",
    "MSE",
    "MAE",
    "Huber",
    "BinaryCrossEntropy",
    "CrossEntropy",
    "Objective",
    # optimizers and schedules
    "Optimizer",
    "SGD",
    "Adam",
    "AdamW",
    "RMSprop",
    "Adagrad",
    "Schedule",
    "ConstantLR",
    "StepLR",
    "ExponentialLR",
    "CosineLR",
    "InverseScalingLR",
    # training
    "Trainer",
    "History",
    "Callback",
    "EarlyStopping",
    "GradientMonitor",
    "ReduceLROnPlateau",
    "LambdaCallback",
    "ModelCheckpoint",
    "batches",
    "Perceptron",
    # model files
    "save",
    "load",
    # checking
    "gradcheck",
    "GradcheckReport",
    # registries
    "ACTIVATIONS",
    "INITIALIZERS",
    "LAYERS",
    "LOSSES",
    "METRICS",
    "OPTIMIZERS",
    "SCHEDULES",
]
