"""Bad input gets a clear error that names who complained, what was expected and what came."""

from __future__ import annotations

import re
import warnings
from types import MappingProxyType

import numpy as np
import pytest

import chainrule as cr
from chainrule.losses import get_loss


def test_wrong_shaped_input_to_layer_k_names_layer_k_and_both_shapes():
    net = cr.Sequential(
        [cr.Dense(10, 64), cr.ReLU(), cr.Dense(64, 30), cr.ReLU(), cr.Dense(30, 1)], seed=0
    )
    with pytest.raises(cr.ShapeError) as info:
        net.layers[2].forward(np.ones((32, 30)))
    assert str(info.value) == "Dense #2 expects X of shape (n_samples, 64), got (32, 30)"
    with pytest.raises(cr.ShapeError, match=re.escape("Dense #4 expects X of shape (n_samples, 30)")):
        net.layers[4].forward(np.ones((8, 64)))


def test_wrong_upstream_gradient_names_the_layer(rng):
    net = cr.mlp([3, 4, 2], seed=0)
    net.forward(rng.normal(size=(5, 3)), training=True)
    with pytest.raises(cr.ShapeError, match=re.escape("Dense #2.backward expects dY of shape (5, 2)")):
        net.backward(np.ones((5, 3)))


def test_network_input_width_is_checked_with_a_hint_for_one_sample():
    net = cr.mlp([3, 4, 1], seed=0)
    with pytest.raises(cr.ShapeError, match=re.escape("expects X of shape (n_samples, 3), got (2, 4)")):
        net.forward(np.ones((2, 4)))
    with pytest.raises(cr.ShapeError, match="must be 2-D, got 1-D"):
        net.forward(np.ones(3))
    with pytest.raises(cr.ShapeError, match=re.escape("X.reshape(1, -1)")):
        net.forward(np.ones((3, 1)))


def test_a_layer_in_a_network_cannot_be_built_again():
    net = cr.mlp([2, 3, 1], dtype=np.float32, seed=0)
    before = net.parameters.copy()
    with pytest.raises(ValueError, match=r"^Dense #0 belongs to a network, which built its "):
        net.layers[0].build(seed=1)
    assert np.shares_memory(net.layers[0].params["W"], net.parameters)  # still linked
    np.testing.assert_array_equal(net.parameters, before)
    assert net.forward(np.ones((4, 2))).dtype == np.float32


def test_inconsistent_layer_sizes_are_refused_at_construction():
    with pytest.raises(cr.ShapeError, match=re.escape("Dense #2 expects 8 input features, but the previous layer gives 4")):
        cr.Sequential([cr.Dense(2, 4), cr.ReLU(), cr.Dense(8, 1)])
    with pytest.raises(ValueError, match=r"architecture\[1\]"):
        cr.Sequential.from_architecture([
            {"input_dim": 2, "output_dim": 4, "activation": "relu"},
            {"input_dim": 4, "output_dim": 0, "activation": "relu"},
        ])


@pytest.mark.parametrize(
    "X, error, pattern",
    [
        (np.array([[1.0, np.nan, 0.0]]), ValueError, r"X must be finite, got 1 NaN/inf value\(s\), the first at index \(0, 1\)"),
        (np.array([[1.0, np.inf, 0.0]]), ValueError, "must be finite"),
        (np.array([["a", "b", "c"]]), TypeError, "real numbers"),
        (np.empty((0, 3)), ValueError, "must not be empty"),
        ("abc", TypeError, "array of numbers"),
        ([[1, 2], [3]], TypeError, "array of numbers"),
        (np.array([[1e300, 0, 0]]), ValueError, "beyond the float32 range"),
    ],
)
def test_bad_network_inputs(X, error, pattern):
    net = cr.mlp([3, 2], seed=0)
    with pytest.raises(error, match=pattern):
        net.forward(X)


def test_backward_before_forward():
    layer = cr.Dense(2, 3).build(seed=0)
    with pytest.raises(cr.NotBuiltError, match="forward"):
        layer.backward(np.ones((1, 3)))
    with pytest.raises(cr.NotBuiltError, match="before forward"):
        cr.MSE().backward()


def test_a_fused_loss_pass_leaves_the_output_activation_no_older_cache(rng):
    """The fused pass stops before the softmax: a network backward after it must not pair
    the softmax output of an earlier pass on other data with this pass's Dense inputs."""
    net = cr.mlp([3, 4, 3], output="softmax", seed=0)
    net.forward(rng.normal(size=(5, 3)), training=True)
    cr.Objective(net, "cross_entropy").value_and_gradients(rng.normal(size=(5, 3)),
                                                           np.array([0, 1, 2, 0, 1]))
    with pytest.raises(cr.NotBuiltError, match=r"^Softmax #3: backward\(\) needs the values"):
        net.backward(np.ones((5, 3)))


def test_unbuilt_layer_says_how_to_build_it():
    with pytest.raises(cr.NotBuiltError, match="build"):
        cr.Dense(2, 3).forward(np.ones((1, 2)))


def test_step_backward_points_to_the_perceptron():
    layer = cr.Step()
    layer.forward(np.ones((1, 2)), training=True)
    with pytest.raises(cr.NotDifferentiableError, match="Perceptron"):
        layer.backward(np.ones((1, 2)))
    assert issubclass(cr.NotDifferentiableError, TypeError)


def test_zero_weights_are_refused_with_the_symmetry_explanation():
    with pytest.raises(ValueError, match="symmetry"):
        cr.Dense(2, 3, init="zeros")
    with pytest.raises(ValueError, match="symmetry"):
        cr.Dense(2, 3, init=cr.init.zeros)  # the function itself, not only its name


def test_unknown_names_list_the_valid_ones():
    with pytest.raises(ValueError, match=r"unknown activation 'rectifier'; valid names: .*relu.*sigmoid"):
        cr.mlp([2, 3, 1], activation="rectifier")
    with pytest.raises(ValueError, match=r"unknown initializer 'orthogonal'; valid names: .*glorot_uniform"):
        cr.Dense(2, 3, init="orthogonal")
    with pytest.raises(ValueError, match=r"unknown loss 'hinge'; valid names: .*cross_entropy"):
        cr.Objective(cr.mlp([2, 1], seed=0), "hinge")


@pytest.mark.parametrize("name", ["log_loss", "LogLoss", "log-loss"])
def test_log_loss_is_not_a_loss_name_and_the_error_names_both_losses(name):
    # the "log_loss" metric (and scikit-learn's) is the categorical one: as a loss name it
    # would read two ways, so it names neither loss and the error says which to use
    assert name not in cr.LOSSES
    net = cr.mlp([4, 16, 3], output="softmax", seed=0)
    with pytest.raises(ValueError, match=(
            rf"^unknown loss '{name}': .*'cross_entropy' .*one class per sample.*"
            r"'binary_cross_entropy' .*one probability per output.*; valid names: ")):
        cr.Trainer(net, name)
    with pytest.raises(ValueError, match="'cross_entropy'"):
        get_loss({"name": name, "label_smoothing": 0.1})


@pytest.mark.parametrize(
    "spec, error, pattern",
    [
        ({}, ValueError, r"^loss config needs a 'name'; valid names: \[.*'cross_entropy'"),
        ({"reduction": "sum"}, ValueError, r"^loss config needs a 'name'; valid names: "),
        ({"name": 3}, TypeError, r"^loss name must be a str, got int$"),
        (MappingProxyType({}), ValueError, r"^loss config needs a 'name'"),
        ({"name": "huber", "dlta": 2}, TypeError,
         (r"^Huber config has unknown key\(s\) \['dlta'\]; valid keys: \['name', 'delta', "
          r"'reduction'\]$")),
        (3, TypeError, r"^loss must be a Loss, a name or a dict, got int$"),
    ],
)
def test_bad_loss_specs_are_refused_as_optimizer_specs_are(spec, error, pattern):
    with pytest.raises(error, match=pattern):
        cr.Trainer(cr.mlp([2, 1], seed=0), spec)


@pytest.mark.parametrize(
    "argument, spec, pattern",
    [
        ("optimizer", 3, r"^optimizer must be an Optimizer, a name or a dict, got int$"),
        ("optimizer", cr.Adam,
         r"^optimizer must be an Optimizer, got the class Adam itself: build one, Adam\(\.\.\.\)$"),
        ("schedule", cr.StepLR,
         r"^schedule must be a Schedule, got the class StepLR itself: build one, StepLR\(\.\.\.\)$"),
        ("loss", cr.MSE, r"^loss must be a Loss, got the class MSE itself: build one, MSE\(\.\.\.\)$"),
    ],
)
def test_a_class_where_an_instance_belongs_is_named_as_such(argument, spec, pattern):
    with pytest.raises(TypeError, match=pattern):
        cr.Trainer(cr.mlp([2, 1], seed=0), **{"loss": "mse", argument: spec})


def test_an_optimizer_or_schedule_may_be_any_mapping_as_a_loss_may():
    trainer = cr.Trainer(cr.mlp([2, 1], seed=0), "mse",
                         MappingProxyType({"name": "sgd", "lr": 0.5}),
                         schedule=MappingProxyType({"name": "step", "step_size": 2}))
    assert type(trainer.optimizer) is cr.SGD and trainer.optimizer.lr == 0.5
    assert type(trainer.schedule) is cr.StepLR and trainer.schedule.step_size == 2


def test_get_loss_takes_any_mapping_and_refuses_options_with_an_instance():
    loss = get_loss(MappingProxyType({"name": "huber", "delta": 2.0}))
    assert type(loss) is cr.Huber and loss.delta == 2.0
    assert get_loss("huber", delta=3.0).delta == 3.0
    assert get_loss({"name": "huber"}, delta=3.0).delta == 3.0
    with pytest.raises(TypeError, match=r"^options \['reduction'\] cannot be given with a loss "
                                        r"instance \(MSE\(reduction='mean'\)\)"):
        get_loss(cr.MSE(), reduction="sum")


def test_bad_hyperparameters():
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\), got 1.0"):
        cr.Dropout(1.0)
    with pytest.raises(ValueError, match=r"out_features must be in \[1, 2147483647\], got 0"):
        cr.Dense(3, 0)
    with pytest.raises(TypeError, match="in_features must be an integer, got 2.5"):
        cr.Dense(2.5, 3)
    with pytest.raises(TypeError, match="must be a real number, got 'big'"):
        cr.LeakyReLU(alpha="big")
    with pytest.raises(ValueError, match=r"l2 must be in \[0, inf\), got -1.0"):
        cr.Dense(2, 3, l2=-1)
    with pytest.raises(TypeError, match="dtype must be float32 or float64, got int32"):
        cr.mlp([2, 1], dtype=np.int32)
    with pytest.raises(ValueError, match="unknown key"):
        cr.Sequential.from_architecture([{"input_dim": 2, "output_dim": 1, "activaton": "relu"}])
    with pytest.raises(ValueError, match="at least one layer"):
        cr.Sequential([])
    with pytest.raises(TypeError, match=r"layers\[1\] must be a chainrule Layer, got str"):
        cr.Sequential([cr.Dense(2, 2), "relu"])


def test_a_layer_belongs_to_one_network():
    layer = cr.Dense(2, 2)
    net = cr.Sequential([layer])
    assert layer._owner() is net  # as long as the network exists
    with pytest.raises(ValueError, match="already belongs"):
        cr.Sequential([layer])
    cr.Sequential([layer.copy()])  # the suggested fix works


def test_loss_target_errors():
    P = np.array([[0.2, 0.8], [0.6, 0.4]])
    with pytest.raises(ValueError, match=r"y_true must hold class labels in \[0, 2\) \(n_classes=2\), got values in \[0, 2\]"):
        cr.CrossEntropy().forward(P, np.array([0, 2]))
    with pytest.raises(ValueError, match="from_logits=True"):
        cr.CrossEntropy().forward(np.array([[3.0, -1.0]]), np.array([0]))
    with pytest.raises(cr.ShapeError, match=r"same number of samples, got 2 and 3"):
        cr.CrossEntropy().forward(P, np.array([0, 1, 1]))
    with pytest.raises(ValueError, match=r"y_true in \[0, 1\]"):
        cr.BinaryCrossEntropy().forward(np.array([[0.5]]), np.array([2.0]))
    with pytest.raises(cr.ShapeError, match=r"MSE expects y_true of shape \(2, 2\)"):
        cr.MSE().forward(P, np.ones((2, 3)))
    with pytest.raises(ValueError, match="sample_weight must be non-negative"):
        cr.MSE().forward(P, P, sample_weight=np.array([-1.0, 1.0]))
    with pytest.raises(ValueError, match="reduction must be one of 'mean', 'sum'; got 'avg'"):
        cr.MSE(reduction="avg")



@pytest.mark.parametrize("cls", [cr.MSE, cr.MAE, cr.Huber, cr.BinaryCrossEntropy, cr.CrossEntropy])
def test_a_misspelt_loss_option_names_the_loss_class(cls):
    """Python's own message, naming the class called (not a base class it inherits from), as
    the optimizers' constructors do."""
    with pytest.raises(TypeError, match=rf"^{cls.__name__}\.__init__\(\) got an unexpected "
                                        r"keyword argument 'label_smooth'$"):
        cls(label_smooth=0.1)

@pytest.mark.parametrize("cls, activation", [(cr.BinaryCrossEntropy, "Sigmoid"),
                                               (cr.CrossEntropy, "Softmax")])
def test_cross_entropies_refuse_predictions_outside_0_1_with_the_same_message(cls, activation):
    with pytest.raises(ValueError, match=(
            rf"^{cls.__name__} expects y_pred to be probabilities in \[0, 1\] \(a {activation} "
            r"output\), got values in \[-0.5, 1.5\]; for raw scores \(logits\) use "
            r"from_logits=True$")):
        cls().forward(np.array([[-0.5, 1.5]]), np.array([[0.0, 1.0]]))
    assert cls(from_logits=True).forward(np.array([[-0.5, 1.5]]), np.array([[0.0, 1.0]])) > 0


@pytest.mark.parametrize("dtype", [np.dtype("int32"), np.dtype("float16"), np.dtype("complex128")],
                         ids=str)
def test_a_numpy_dtype_object_that_is_not_float32_or_64_is_refused(dtype):
    with pytest.raises(TypeError, match=f"^dtype must be float32 or float64, got {dtype}$"):
        cr.mlp([2, 1], dtype=dtype)


@pytest.mark.parametrize(
    "init, pattern",
    [
        ({"std": 0.1}, (r"^an initializer dict needs a 'name' key, got \{'std': 0\.1\}; "
                        r"valid names: .*glorot_uniform, .*small_normal")),
        (MappingProxyType({"std": 0.1}), r"^an initializer dict needs a 'name' key"),
        ({"name": "glorot_uniform", "std": 0.1},
         r"initializer 'glorot_uniform' accepts no options, got \['std'\]"),
        ({"name": "small_normal", "mean": 1.0},
         r"initializer 'small_normal' accepts \['std'\], got \['mean'\]"),
    ],
)
def test_bad_initializer_specs(init, pattern):
    with pytest.raises(ValueError, match=pattern):
        cr.Dense(2, 3, init=init)


def test_an_initializer_spec_may_be_any_mapping_and_the_layer_keeps_a_dict():
    layer = cr.Dense(2, 3, init=MappingProxyType({"name": "small_normal", "std": 0.5}))
    assert layer.get_config()["init"] == {"name": "small_normal", "std": 0.5}
    assert type(layer.get_config()["init"]) is dict  # JSON data, as a model file stores it


def _returns(value):
    def wrong_init(shape, rng):
        return value() if callable(value) else value
    return wrong_init


@pytest.mark.parametrize("value, error, problem", [
    (lambda: np.ones(1), cr.ShapeError, "must be 2-D, got 1-D array of shape (1,)"),
    (lambda: np.ones(3), cr.ShapeError, "must be 2-D, got 1-D array of shape (3,)"),
    (lambda: np.ones((5, 5)), cr.ShapeError, "must have shape (2, 3), got (5, 5)"),
    (lambda: np.ones((1, 1)), cr.ShapeError, "must have shape (2, 3), got (1, 1)"),
    (0.5, cr.ShapeError, "must be 2-D, got 0-D array of shape ()"),
    ("abc", TypeError, "must be an array of numbers, got str"),
    (None, TypeError, "must hold real numbers (bool, int or float), got dtype object"),
    (lambda: np.full((2, 3), np.nan), ValueError, "must be finite, got 6 NaN/inf value(s)"),
    (lambda: np.full((2, 3), 1e300), ValueError, "has values beyond the float32 range"),
], ids=["one-value", "a-row", "too-large", "one-by-one", "scalar", "str", "None", "nan",
        "beyond-float32"])
def test_a_custom_initializer_must_return_a_finite_array_of_the_parameters_shape(
        value, error, problem):
    """A value that broadcast into W would make every unit the same (the symmetry problem)."""
    with pytest.raises(error, match=re.escape(
            "Dense #0: the value that initializer wrong_init returned for parameter 'W' of "
            f"shape (2, 3) {problem}")):
        cr.Sequential([cr.Dense(2, 3, init=_returns(value))], seed=0)
    with pytest.raises(error, match=re.escape("Dense: the value that initializer wrong_init")):
        cr.Dense(2, 3, init=_returns(value)).build(np.float32)


def test_an_initializer_that_fails_is_named_in_a_note():
    with pytest.raises(TypeError, match="positional argument") as caught:
        cr.Sequential([cr.Dense(2, 3, init=lambda shape: np.ones(shape))])
    assert caught.value.__notes__ == [
        "in initializer <lambda> of Dense #0's parameter 'W', called as init((2, 3), rng)"]


def test_bad_activation_and_architecture_entries():
    with pytest.raises(ValueError, match=r"^architecture\[0\]\.activation: an activation dict "
                                         r"needs a 'name' key, got \{'alpha': 0\.2\}"):
        cr.Sequential.from_architecture([{"input_dim": 2, "output_dim": 1,
                                          "activation": {"alpha": 0.2}}])
    with pytest.raises(ValueError, match=r"^architecture\[1\] is missing \['input_dim'\]$"):
        cr.Sequential.from_architecture([{"input_dim": 2, "output_dim": 3},
                                         {"output_dim": 1}])
    with pytest.raises(ValueError, match=r"is missing \['input_dim', 'output_dim'\]"):
        cr.Sequential.from_architecture([{"activation": "relu"}])


@pytest.mark.parametrize("build, where", [
    (lambda: cr.mlp([2, 3, 3, 1], activation=cr.Dense(3, 3)), "activation: "),
    (lambda: cr.mlp([2, 3, 1], activation=[cr.Dropout(0.5)]), "activation[0]: "),
    (lambda: cr.mlp([2, 3, 1], output=cr.Dense(1, 4)), "output: "),
    (lambda: cr.mlp([2, 3, 1], output=cr.Dropout(0.5), init="he_uniform"), "output: "),
    (lambda: cr.Sequential.from_architecture(
        [{"input_dim": 2, "output_dim": 3, "activation": cr.Dense(3, 5)}]),
     "architecture[0].activation: "),
], ids=["hidden-dense", "hidden-dropout", "output-dense", "output-dropout", "architecture"])
def test_a_layer_that_is_not_an_activation_is_refused_as_one(build, where):
    """It would be inserted where the activation goes: Dense(2, 3) then Dense(3, 5)."""
    with pytest.raises(TypeError, match=r"^" + re.escape(
            f"{where}an activation must be a name, a {{'name': ...}} dict or an activation "
            "layer (an instance of a class registered in chainrule.layers.ACTIVATIONS: elu, ")
            + r".*, got (Dense|Dropout)\("):
        build()


def _every_built_in_layer():
    fixed = [cr.Dense(3, 3).build(seed=0), cr.Dropout(0.5, seed=0), cr.Rescale([0.0] * 3, [1.0] * 3)]
    activations = {cr.layers.ACTIVATIONS.get(name) for name in cr.layers.ACTIVATIONS}
    layers = fixed + [cls() for cls in sorted(activations, key=lambda cls: cls.__name__)]
    assert {type(layer) for layer in layers} == {cr.LAYERS.get(name) for name in cr.LAYERS}
    return layers


@pytest.mark.parametrize("training", ["False", 0, 1, None])
def test_training_must_be_a_bool(training, rng):
    """Read by truthiness, training="False" turned dropout on."""
    X = rng.normal(size=(4, 3))
    net = cr.Sequential([cr.Dense(3, 3), cr.Dropout(0.5)], dtype=np.float64, seed=0)
    message = re.escape(f"training must be True or False, got {training!r} "
                        f"({type(training).__name__})")
    with pytest.raises(TypeError, match=message):
        net.forward(X, training=training)
    for layer in _every_built_in_layer():
        with pytest.raises(TypeError, match=message):
            layer.forward(X, training=training)
    np.testing.assert_array_equal(net.forward(X, training=np.False_), net.forward(X))
    assert net[1].cache == {} and net.forward(X, training=np.True_).shape == (4, 3)
    assert net[1].cache["mask"] is not None


def test_the_same_layer_twice_in_one_network_is_refused():
    relu = cr.ReLU()
    with pytest.raises(ValueError, match=r"same layer object appears twice.*layer\.copy\(\)"):
        cr.Sequential([cr.Dense(2, 2), relu, cr.Dense(2, 2), relu])
    net = cr.Sequential([cr.Dense(2, 2), relu, cr.Dense(2, 2), relu.copy()])  # the fix works
    assert len(net) == 4


def test_from_config_errors_name_the_entry():
    with pytest.raises(TypeError, match=r"config must be a dict with a 'layers' list, got \[\]"):
        cr.Sequential.from_config([])
    with pytest.raises(TypeError, match="config must be a dict with a 'layers' list"):
        cr.Sequential.from_config({"layers": "Dense"})
    with pytest.raises(ValueError, match=r"^config\['layers'\]\[1\] must be a dict with a 'type' key$"):
        cr.Sequential.from_config({"layers": [{"type": "ReLU"}, {"config": {}}]})
    with pytest.raises(ValueError, match=r"^config\['layers'\]\[0\] \(Dense\): .*out_features"):
        cr.Sequential.from_config({"layers": [{"type": "Dense", "config": {"in_features": 2}}]})


def test_a_layer_whose_sizes_disagree_with_a_rescale_layer():
    with pytest.raises(cr.ShapeError, match=re.escape(
            "layer sizes do not agree: Rescale #1 expects 3 input features, but the previous "
            "layer gives 2")):
        cr.Sequential([cr.Dense(2, 2), cr.Rescale([0.0, 0.0, 0.0], [1.0, 1.0, 1.0])])


def test_rescale_from_scaler_needs_a_fitted_scaler():
    from chainrule.preprocessing import MinMaxScaler, Standardizer

    with pytest.raises(TypeError, match=re.escape(
            "expected a fitted Standardizer or MinMaxScaler, got Standardizer()")):
        cr.Rescale.from_scaler(Standardizer())
    with pytest.raises(TypeError, match=re.escape(
            "got MinMaxScaler(feature_range=[-1.0, 1.0])")):
        cr.Rescale.from_scaler(MinMaxScaler(feature_range=(-1, 1)))
    with pytest.raises(TypeError, match="got 'standardize'"):
        cr.Rescale.from_scaler("standardize")


@pytest.mark.parametrize("offset, scale, problem", [
    ([0.0, 1.0], [1.0, 9.5e-51], "feature 1 has scale 9.5e-51, which is 0 in float32"),
    ([0.0, 1e39], [1.0, 1.0], "feature 1 has offset 1e+39, which is beyond the float32 range"),
    ([0.0, 0.0], [1e39, 1.0], "feature 0 has scale 1e+39, which is beyond the float32 range"),
])
def test_rescale_statistics_a_float32_network_cannot_hold(offset, scale, problem):
    """A tiny (or huge) feature standardised in float64 gives statistics that float32 rounds
    to 0 or infinity: the layer says so, instead of a non-finite output blamed on X."""
    net = cr.Sequential([cr.Rescale(offset, scale), cr.Dense(2, 1)], seed=0)
    X = np.array([[0.0, 1.0]])
    with pytest.raises(ValueError, match=re.escape(
            f"Rescale #0: {problem} (the dtype the layer computes in); float32 cannot represent "
            "this feature's values: build the network with dtype='float64', or rescale the "
            "feature")):
        net.forward(X)
    with pytest.raises(ValueError, match=re.escape(problem)):
        cr.Trainer(net, "mse", verbose=0).fit(X, [0.0], epochs=1)
    assert np.isfinite(net.copy(dtype="float64").forward(X)).all()


def test_existing_parameter_of_the_wrong_shape_is_refused():
    layer = cr.Dense(2, 3).build(seed=0)
    layer.params["W"] = np.ones((3, 2))  # transposed: the tutorials' (out, in) convention
    with pytest.raises(ValueError, match=re.escape(
            "Dense #0: existing parameter 'W' has shape (3, 2), expected (2, 3)")):
        cr.Sequential([layer])


class _WithState(cr.Layer):
    """A layer declaring a parameter of a role the network does not store."""

    def parameter_specs(self):
        return [cr.layers.ParameterSpec("m", (2,), "buffer", cr.init.zeros)]

    def forward(self, X, training=False):
        return X


def test_a_parameter_role_other_than_weight_or_bias_is_refused():
    with pytest.raises(ValueError, match=re.escape(
            "_WithState #0: parameter 'm' has role 'buffer'; expected 'weight' or 'bias'")):
        cr.Sequential([_WithState()])


def test_a_network_beyond_the_parameter_limit_is_refused_before_allocating():
    from chainrule.layers.parameters import MAX_PARAMETERS

    with pytest.raises(ValueError) as info:
        cr.Sequential([cr.Dense(4, 300_000), cr.ReLU(), cr.Dense(300_000, 300_000)])
    total = 4 * 300_000 + 300_000 + 300_000**2 + 300_000
    assert str(info.value) == (
        f"the network would have {total:,} parameters ({total * 4 / 2**30:.3g} GiB of values, "
        "as much of gradients), the largest layer Dense #2 (in_features=300000, "
        f"out_features=300000) {300_000**2:,}: more than the {MAX_PARAMETERS:,} allowed"
    )


def test_a_network_that_does_not_fit_in_memory_is_a_valueerror(monkeypatch):
    n_params = 30 * 20 + 20
    real_zeros = np.zeros

    def zeros(shape, *args, **kwargs):  # the gradient buffer cannot be allocated
        if shape == n_params:
            raise MemoryError
        return real_zeros(shape, *args, **kwargs)

    monkeypatch.setattr(np, "zeros", zeros)
    with pytest.raises(ValueError, match=re.escape(
            "the network would have 620 parameters (4.62e-06 GiB of values, as much of "
            "gradients), the largest layer Dense #0 (in_features=30, out_features=20) 600: more "
            "memory than this machine has")) as info:
        cr.Sequential([cr.Dense(30, 20)], dtype=np.float64)
    assert info.value.__suppress_context__


class _Unfinished(cr.Layer):
    """A custom layer whose author has not written forward and backward yet."""


def test_a_custom_layer_without_forward_or_backward_says_what_to_implement():
    layer = _Unfinished()
    with pytest.raises(NotImplementedError, match=re.escape(
            "_Unfinished must implement forward(X, training)")):
        layer.forward(np.ones((1, 2)))
    with pytest.raises(NotImplementedError, match=re.escape("_Unfinished must implement backward(dY)")):
        layer.backward(np.ones((1, 2)))
    with pytest.raises(NotImplementedError, match="forward"):
        layer.infer(np.ones((1, 2)))  # the default inference runs forward


def test_logits_loss_of_a_loss_without_fused_form():
    with pytest.raises(TypeError, match="^MSE has no fused form$"):
        cr.MSE().logits_loss()
    assert cr.BinaryCrossEntropy().logits_loss().from_logits


def test_a_loss_of_ones_own_needs_a_registered_name_for_its_config_only():
    class PositiveBCE(cr.BinaryCrossEntropy):  # registered under no name of its own
        pass

    loss = PositiveBCE(label_smoothing=0.1)
    with pytest.raises(ValueError, match=r"PositiveBCE is not a registered loss.*"
                                         r"@chainrule\.losses\.LOSSES\.register\('positivebce'\)"):
        loss.get_config()
    assert repr(loss) == "PositiveBCE(from_logits=False, label_smoothing=0.1, reduction='mean')"
    fused = loss.logits_loss()  # needs no name: built from the constructor arguments
    assert type(fused) is PositiveBCE and fused.from_logits and fused.label_smoothing == 0.1


def test_the_abstract_loss_says_what_to_implement():
    with pytest.raises(NotImplementedError, match="^Loss must implement _values"):
        cr.Loss().forward(np.ones((2, 1)), np.ones((2, 1)))


def test_objective_needs_a_network():
    with pytest.raises(TypeError, match="^net must be a Sequential, got Dense$"):
        cr.Objective(cr.Dense(2, 1), "mse")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_an_overflow_inside_the_network_is_a_clear_error_without_warnings(dtype):
    net = cr.mlp([2, 3, 1], dtype=dtype, seed=0)
    net.layers[0].params["W"][:] = 1e10
    big = np.finfo(dtype).max / 1e9  # finite, accepted at the edge; X @ W overflows
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=re.escape(
                "the network's output is not finite: an intermediate value overflowed "
                f"{np.dtype(dtype).name}; scale the inputs X down (e.g. standardise them)")):
            net.forward(np.full((2, 2), big))
        with pytest.raises(ValueError, match="overflowed"):
            net(np.full((2, 2), big))  # __call__ is forward


def test_non_finite_weights_are_named_as_the_cause_without_warnings():
    net = cr.mlp([2, 3, 1], seed=0)
    net.layers[2].params["W"][0, 0] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=re.escape(
                "the network's output is not finite: the weights are not finite (did training "
                "diverge?)")):
            net.forward(np.ones((2, 2)))
    net.layers[2].params["W"][0, 0] = np.inf  # inf weights times zero activations: NaN
    with pytest.raises(ValueError, match="weights are not finite"):
        net.forward(np.ones((2, 2)))


@pytest.mark.parametrize("call, error, message", [
    # a width is named by its place in sizes, not as the internal Dense argument
    (lambda: cr.mlp([3, 0, 2]), ValueError,
     "sizes[1] must be a positive integer (at most 2147483647), got 0 (int)"),
    (lambda: cr.mlp([3, 2.5, 2]), TypeError,
     "sizes[1] must be a positive integer (at most 2147483647), got 2.5 (float)"),
    (lambda: cr.mlp([3, 4, "8"]), TypeError,
     "sizes[2] must be a positive integer (at most 2147483647), got '8' (str)"),
    # mlp's options are named as passed, not as architecture[i] entries
    (lambda: cr.mlp([3, 4, 2], init="xavier"), ValueError, "init: unknown initializer 'xavier'"),
    (lambda: cr.mlp([3, 4, 2], l2=-1.0), ValueError, "l2 must be in [0, inf), got -1.0"),
    (lambda: cr.mlp([3, 4, 2], bias="yes"), TypeError, "bias must be True or False, got 'yes'"),
    (lambda: cr.mlp([3, 4, 2], activation="rectifier"), ValueError,
     "activation: unknown activation 'rectifier'"),
    (lambda: cr.mlp([3, 4, 4, 2], activation=["relu", "rectifier"]), ValueError,
     "activation[1]: unknown activation 'rectifier'"),
    (lambda: cr.mlp([3, 4, 2], output="softmaxx"), ValueError,
     "output: unknown activation 'softmaxx'"),
    # a misspelt option is named with the options mlp takes (not mlp_architecture's TypeError)
    (lambda: cr.mlp([2, 3, 1], activaton="tanh"), TypeError,
     ("mlp() got an unexpected option 'activaton'; allowed: activation, output, dtype, seed, "
     "dropout, l1, l2, init, bias")),
    (lambda: cr.mlp([2, 3, 1], sed=0), TypeError, "mlp() got an unexpected option 'sed'"),
], ids=["zero-width", "float-width", "str-width", "init", "l2", "bias", "activation",
        "activation-list", "output", "activaton", "sed"])
def test_mlp_errors_name_the_argument_as_passed(call, error, message):
    with pytest.raises(error, match="^" + re.escape(message)):
        call()


def test_a_whole_float_width_is_that_width():
    net = cr.mlp([3, 4.0, 2], seed=0)
    assert [layer.out_features for layer in net.layers if isinstance(layer, cr.Dense)] == [4, 2]


@pytest.mark.parametrize("entry, error, message", [
    ({"output_dim": 0}, ValueError,
     "architecture[0].output_dim must be a positive integer (at most 2147483647), got 0 (int)"),
    ({"input_dim": 2.5}, TypeError,
     "architecture[0].input_dim must be a positive integer (at most 2147483647), got 2.5"),
    ({"l2": -1.0}, ValueError, "architecture[0].l2 must be in [0, inf), got -1.0"),
    ({"l1": "big"}, TypeError, "architecture[0].l1 must be a real number, got 'big'"),
    ({"bias": "yes"}, TypeError, "architecture[0].bias must be True or False, got 'yes'"),
    ({"dropout": 1.5}, ValueError, "architecture[0].dropout must be in [0, 1), got 1.5"),
    ({"init": "xavier"}, ValueError, "architecture[0].init: unknown initializer 'xavier'"),
    ({"activation": "rectifier"}, ValueError,
     "architecture[0].activation: unknown activation 'rectifier'"),
], ids=["output_dim", "input_dim", "l2", "l1", "bias", "dropout", "init", "activation"])
def test_an_architecture_entry_error_names_the_entry_and_key(entry, error, message):
    with pytest.raises(error, match="^" + re.escape(message)):
        cr.Sequential.from_architecture([{"input_dim": 2, "output_dim": 3, **entry}])


@pytest.mark.parametrize("spec, message", [
    ({"name": "relu", "alpha": 0.1}, "activation 'relu' accepts no options, got ['alpha']"),
    ({"name": "leaky_relu", "slope": 0.1},
     "activation 'leaky_relu' accepts ['alpha'], got ['slope']"),
])
def test_an_activation_dict_with_an_unknown_option_names_the_activation_and_its_options(
        spec, message):
    with pytest.raises(ValueError, match="^" + re.escape(f"activation: {message}")):
        cr.mlp([2, 3, 1], activation=spec)
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        cr.layers.make_activation(spec)
    assert cr.layers.make_activation({"name": "leaky_relu", "alpha": 0.2}).alpha == 0.2
