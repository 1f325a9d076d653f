"""Training: the Trainer, callbacks, history, metrics, minibatches and splits."""

from .batching import batches
from .callbacks import Callback, EarlyStopping, LambdaCallback, ReduceLROnPlateau
from .checkpoint import ModelCheckpoint, checkpoint_network
from .data import one_hot, train_test_split, train_val_test_split
from .history import History
from .metrics import (
    METRICS,
    accuracy,
    confusion_matrix,
    log_loss,
    mean_absolute_error,
    mean_squared_error,
    multilabel_accuracy,
    multilabel_log_loss,
    r2_score,
)
from .monitor import GradientMonitor, GradientWarning
from .trainer import Trainer

__all__ = [
    "METRICS",
    "Callback",
    "EarlyStopping",
    "GradientMonitor",
    "GradientWarning",
    "History",
    "LambdaCallback",
    "ModelCheckpoint",
    "ReduceLROnPlateau",
    "Trainer",
    "accuracy",
    "batches",
    "checkpoint_network",
    "confusion_matrix",
    "log_loss",
    "mean_absolute_error",
    "mean_squared_error",
    "multilabel_accuracy",
    "multilabel_log_loss",
    "one_hot",
    "r2_score",
    "train_test_split",
    "train_val_test_split",
]
