"""Parameter documentation shared by the estimators (written once)."""

MLP_PARAMETERS = """\
hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
        The ith element is the number of neurons in the ith hidden layer.

    activation : {"identity", "logistic", "tanh", "relu", "leaky_relu", \
"elu", "gelu", "softplus"}, default="relu"
        Activation of the hidden layers. Weights and biases are
        initialised Glorot-uniform for every activation, as in sklearn.

    solver : {"lbfgs", "sgd", "adam", "adamw", "rmsprop"}, default="adam"
        Weight optimisation: L-BFGS-B over all parameters, stochastic
        gradient descent, Adam, Adam with decoupled weight decay
        (``weight_decay``) or RMSprop. The four stochastic solvers follow
        ``learning_rate``'s schedule and have ``partial_fit``.

    alpha : float, default=0.0001
        Strength of the L2 penalty on the weights (not the biases), divided
        by the (weighted) number of samples in each batch. Not applied by
        ``solver="adamw"``, whose decoupled ``weight_decay`` replaces it.

    batch_size : int or "auto", default="auto"
        Minibatch size of the stochastic solvers; "auto" is
        ``min(200, n_samples)``, and in semi-supervised training 32
        labelled rows plus 96 unlabelled ones (32 when ``input_shape``
        gives images). Ignored by lbfgs.

    learning_rate : {"constant", "invscaling", "adaptive", "cosine"}, \
default="constant"
        Step-size schedule of every stochastic solver, epoch by epoch:
        "constant" keeps ``learning_rate_init``; "invscaling" is
        ``learning_rate_init / (t + 1) ** power_t`` with ``t`` the samples
        seen before the epoch; "adaptive" keeps the rate until
        ``n_iter_no_change`` epochs fail to improve (the training loss, or
        the monitored validation value with early stopping), then divides
        it by 5, and stops once it is below 1e-6; "cosine" decays it along
        a half cosine from ``learning_rate_init`` to 0 over ``max_iter``
        epochs, after ``warmup_epochs`` of linear warm-up. The schedule's
        state (samples seen, a reduced rate, the cosine's epoch) carries
        over to ``partial_fit`` calls and ``warm_start`` fits whose
        parameters did not change, except that every ``fit`` starts a new
        cosine cycle; ``partial_fit`` calls are the epochs of one cycle of
        ``max_iter`` epochs, after which the rate stays at 0.

    learning_rate_init : float, default=0.001
        Initial (with "cosine", peak) step size of the stochastic solvers.

    power_t : float, default=0.5
        Exponent of the "invscaling" schedule.

    max_iter : int, default=200
        Maximum number of epochs (stochastic solvers) or iterations (lbfgs).

    shuffle : bool, default=True
        Whether to shuffle samples in each epoch (stochastic solvers).

    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, the early-stopping split and
        shuffling. Pass an int for reproducible results.

    tol : float, default=1e-4
        Improvement of the training loss (with early stopping, of the
        ``monitor``-ed validation value) below which an epoch counts as no
        improvement; for lbfgs, the tolerance on the projected gradient.

    verbose : bool, default=False
        Print one line per epoch (loss, validation loss and score when
        there are validation data, learning rate, seconds) and why
        training stopped.

    warm_start : bool, default=False
        Reuse the previous solution as the starting point of ``fit``. The
        architecture (layer sizes, activation, number of outputs) must not
        change; a change raises a ``ValueError``.

    momentum : float, default=0.9
        Momentum of sgd, in [0, 1].

    nesterovs_momentum : bool, default=True
        Use Nesterov's momentum (sgd with momentum > 0).

    early_stopping : bool, default=False
        Stop when the ``monitor``-ed validation value has not improved by
        ``tol`` for ``n_iter_no_change`` epochs, and restore the weights of
        its best epoch. The validation data are ``fit``'s ``X_val`` and
        ``y_val`` when given; otherwise ``validation_fraction`` of the
        training data is held out (stratified for single-label
        classification), chosen by content, so that duplicated rows never
        straddle the split and a row of integer sample weight k is split
        as k repeated rows would be. Stochastic solvers only; ``partial_fit`` ignores it
        (it runs one epoch).

    validation_fraction : float, default=0.1
        Fraction held out for early stopping when ``fit`` is given no
        ``X_val``, in [0, 1).

    beta_1 : float, default=0.9
        Decay rate of adam's first moment estimate, in [0, 1).

    beta_2 : float, default=0.999
        Decay rate of the running mean of squared gradients (the second
        moment estimate of adam and adamw, the mean square of rmsprop), in
        [0, 1).

    epsilon : float, default=1e-8
        Numerical stability term of adam, adamw and rmsprop.

    n_iter_no_change : int, default=10
        Epochs without improvement tolerated before stopping.

    max_fun : int, default=15000
        Maximum number of loss evaluations of lbfgs.

    monitor : {"val_loss", "val_score"}, default="val_loss"
        What early stopping watches and which epoch's weights it restores:
        the validation loss (lower is better) or the validation score
        (accuracy, or R²; higher is better: sklearn's MLP rule). Both are
        columns of ``history_``. An epoch improves the validation loss when
        it lowers the best by more than ``tol`` plus 1% of the best; the
        score, by more than ``tol``. On small validation sets the score sits
        on plateaus and stops too early: over seeds 0-4 in 5-fold CV
        (``python benchmarks/training_controls.py early_stopping``),
        "val_score" stops digits / breast_cancer / wine after about 41 /
        22 / 29 epochs at accuracies 0.960 / 0.935 / 0.848 (sklearn's MLP:
        0.959 / 0.936 / 0.846, and 0.976 / 0.976 / 0.978 without early
        stopping); "val_loss" stops after about 72 / 65 / 106 epochs at
        0.971 / 0.976 / 0.975.

    weight_decay : float, default=0.01
        Decoupled weight decay of ``solver="adamw"``: each step first
        shrinks the weights (not the biases) by the factor
        ``1 - learning_rate * weight_decay``, then takes an Adam step
        without the L2 penalty ``alpha``. Ignored by the other solvers.

    warmup_epochs : int, default=0
        Epochs of linear warm-up of ``learning_rate="cosine"``: epoch ``e``
        (from 0) of the warm-up runs at
        ``learning_rate_init * (e + 1) / (warmup_epochs + 1)``; they count
        in ``max_iter``. Ignored by the other schedules.

    clip_grad_norm : float or None, default=None
        When set, the gradient of each minibatch is scaled down to at most
        this global L2 norm (over all weights and biases) before the
        optimizer's step. Stochastic solvers only.

    dtype : {"auto", "float32", "float64"}, default="auto"
        Compute dtype of the network. "auto" trains in float32 for float32
        input (as sklearn does); for float64 input it trains the stochastic solvers in float32
        for convolutional networks and for networks of at least 10,000
        weights (the weight matrices and kernels, not biases; BLAS time
        dominates there and float32 halves it) and in float64 otherwise,
        and lbfgs in float64: small networks gain nothing from float32, and
        in float64 their predictions do not depend on how rows are
        batched. Inputs of either float dtype are accepted whatever this
        says."""

LAYERS_PARAMETERS = """layers : list of skann.layers objects, default=None
        The hidden part of the network, layer by layer (see
        :ref:`layers`), e.g. ``[Dense(64), Dropout(0.2), Dense(32)]``; the
        estimator adds the output layer (a linear ``Dense`` of one unit per
        output) as it does for ``hidden_layer_sizes``. {layers_role}When
        given, ``hidden_layer_sizes``, ``activation`` and ``dropout`` do not
        apply and must keep their defaults (a ``ValueError`` otherwise).
        Each layer's parameters are parameters of the estimator, as
        ``layers__<i>__<name>`` (``layers__0__units``), for ``set_params``,
        ``clone`` and ``GridSearchCV``; ``set_params`` and ``fit`` never
        change the layer objects given (the network is built from copies).

    input_shape : tuple of int, default=None
        Shape of one sample, ``(height, width)`` or ``(height, width,
        channels)``, channels last: each row of X is a flattened image
        (``n_features = height * width * channels``), reshaped once inside
        the network for image layers such as ``Conv2D``. One entry may be
        -1, inferred from ``n_features`` as in ``numpy.reshape``. A shape
        that does not fit X raises a ``ValueError`` at fit. None: flat rows.
        With ``hidden_layer_sizes`` the network takes flat rows (there
        ``input_shape`` only serves ``augment``, where it exists).

    dropout : float, default=0.0
        With ``hidden_layer_sizes``: a ``Dropout(dropout)`` after every
        hidden layer, which zeroes each hidden activation with this
        probability in training (and none at prediction). In [0, 1).
        Needs a stochastic solver (not "lbfgs"); with ``layers=``, put
        ``Dropout`` layers in the list instead."""

AUGMENT_PARAMETER = """augment : {"shift"} or None, default=None
        Image augmentation of every training batch: "shift" moves each
        image by -1, 0 or 1 pixel vertically and horizontally (drawn per
        image and batch; pixels shifted in are 0), so the network learns
        to recognise slightly displaced images. Needs ``input_shape`` and
        a stochastic solver (not "lbfgs"); not used by semi-supervised
        training. Validation rows (``early_stopping``) and predictions are
        never shifted."""

MLP_ATTRIBUTES = """\
loss_ : float
        Loss at the end of training (including the L2 penalty).

    best_loss_ : float or None
        Lowest training loss (mean over an epoch's batches) seen so far;
        None when early stopping is on. For lbfgs, the final loss.

    loss_curve_ : list of float
        Loss after each epoch (stochastic solvers); for lbfgs, the one
        final loss.

    validation_scores_ : list of float or None
        Score (accuracy, or R²) on the validation data after each epoch,
        with early stopping (otherwise None; ``history_`` has the scores
        whenever ``X_val`` is given).

    best_validation_score_ : float or None
        Validation score of the restored weights (those of the best
        ``monitor``-ed epoch), with early stopping.

    history_ : list of dict
        One record per epoch (per iteration for lbfgs) of every fit and
        ``partial_fit`` call since the network was built:
        ``epoch`` (from 1), ``loss``, ``learning_rate`` (None for lbfgs),
        ``samples`` (rows processed), ``seconds``, and with validation data
        (``X_val``, or the early-stopping split) ``val_loss`` and
        ``val_score``; with early stopping, ``restored`` is True on the
        epoch whose weights were kept. ``pandas.DataFrame(est.history_)`` is the
        epoch table. ``partial_fit`` keeps the last 10,000 records, so that
        a stream of calls does not grow the model without bound (``epoch``
        and ``t_`` still count every call).

    t_ : int
        Number of training samples seen by the solver.

    coefs_ : list of ndarray of shape (n_fan_in, n_fan_out)
        Weight matrix of each Dense layer. Assigning a list of arrays of
        the same shapes replaces the weights. Networks with weights in
        other layers (Conv2D, BatchNorm, LayerNorm) raise an
        ``AttributeError`` here: use ``layer_weights_``.

    intercepts_ : list of ndarray of shape (n_fan_out,)
        Bias vector of each Dense layer; assignable like ``coefs_``.

    layer_weights_ : list of dict
        One dict per layer of the network, the output layer included
        (``{}`` for layers without weights): name to array, views of the
        fitted parameters. ``"W"`` and ``"b"`` for Dense and Conv2D
        (kernels of shape ``(kh, kw, c_in, filters)``), ``"gamma"`` and
        ``"beta"`` for BatchNorm and LayerNorm, and BatchNorm's running
        statistics ``"moving_mean"`` and ``"moving_var"``.

    network_ : skann.nn.Network
        The fitted network of the engine (:class:`skann.nn.Network`): its
        layers, flat parameter buffers, and ``output(X, stop=k)``, the
        output of the first ``k`` layers, such as a Conv2D layer's feature
        maps.

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X has string column names.

    n_iter_ : int
        Number of epochs (iterations for lbfgs) run by the last fit.

    n_layers_ : int
        Number of layers, input and output included (every layer of the
        network counts: Dropout, pooling and Flatten too).

    n_outputs_ : int
        Number of output neurons.

    out_activation_ : str
        Name of the output activation."""


CLASS_WEIGHT_PARAMETER = """\
class_weight : dict, list of dict, "balanced" or None, default=None
        Factors multiplied into the sample weights, by class: a dict
        ``{label: weight}`` (missing classes weigh 1), or "balanced",
        ``n_samples / (n_classes * count of the class)`` with weighted
        counts (as sklearn). For a multilabel target, each output has the
        two classes 0 and 1: give a list of one dict ``{0: w, 1: w}`` per
        output, or "balanced" (per output), and a row weighs the product of
        its outputs' factors, as :func:`sklearn.utils.class_weight.\
compute_sample_weight`; a row weight cannot weigh one output more than
        another. ``fit`` computes "balanced" from its own data;
        ``partial_fit`` from every batch seen so far, so early batches are
        weighed by the class counts known then. Validation rows take the
        training rows' factors, so that ``val_loss`` and ``val_score`` are
        weighted like the training loss."""

FIT_VALIDATION_PARAMETERS = """\
X_val : {array-like, sparse matrix} of shape (n_val_samples, n_features), \
default=None
            Validation data: when given, its loss and score are recorded
            in ``history_`` after every epoch (every lbfgs iteration), and
            early stopping watches them instead of holding out
            ``validation_fraction`` of X. Pass it through a Pipeline's
            preprocessing with ``Pipeline(transform_input=["X_val"])`` and
            metadata routing.
        y_val : array-like of shape (n_val_samples,) or \
(n_val_samples, n_outputs), default=None
            Targets of ``X_val``; ``X_val`` and ``y_val`` go together.
            With ``semi_supervised``, rows marked unlabelled are dropped
            (they have no target to score).
        sample_weight_val : array-like of shape (n_val_samples,), default=None
            Weights of the validation rows."""


SEMI_SUPERVISED_PARAMETERS = """\
semi_supervised : {methods} or None, default=None
        Learn from unlabelled samples too (see :ref:`semi_supervised`).
        Samples whose target is ``unlabelled_marker`` are unlabelled; each
        step adds a loss term on a batch of them to the supervised loss:
        {method_list}
        None trains on every sample as labelled ({none_note}).
        The methods that use unlabelled samples need a stochastic solver
        (not "lbfgs"); "labelled_only" takes any solver.

    unlabelled_marker : str, int or float, default="auto"
        The target value of unlabelled samples when ``semi_supervised`` is
        set: "auto" means {auto_marker}.

    unsupervised_weight : float, default=1.0
        Weight of the unsupervised loss relative to the supervised one.
        It ramps up from about 0 over the first quarter of ``max_iter``
        epochs (and of the epochs of successive ``partial_fit`` calls),
        while the network's own predictions are still unreliable.

    confidence_threshold : float, default=0.6
        Confidence the teacher's prediction needs to become a pseudo-label
        (``semi_supervised="pseudo_label"``), in [0, 1].

    perturbation_scale : float, default=1.0
        Standard deviation of the gaussian noise of a strongly perturbed
        view of an unlabelled sample, as a fraction of each feature's
        standard deviation on the training data; such views also hide 10%
        of the features (set to their mean). Weakly perturbed views (the
        teacher's, and the labelled samples in semi-supervised training)
        get half the noise.

    supervised_fallback : bool, default=True
        Guard against unlabelled samples that hurt: ``fit`` holds out 20%
        of the labelled samples, trains the network on the rest alone to
        score them (the bar), then trains semi-supervised with the
        held-out samples among the unlabelled ones. If that network
        scores lower on the held-out labels by more than one held-out
        sample's worth of accuracy (``1 / n_held_out`` of R²), the final
        network trains on the labelled samples alone, from the state
        before the call. Costs one small supervised fit, and the
        held-out labels are not trained on; skipped when fewer than 4
        labelled samples can be held out, and by ``partial_fit``."""

SEMI_SUPERVISED_ATTRIBUTES = """\
transduction_ : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        After a semi-supervised ``fit``: the targets of every training
        sample, given ones for labelled samples and predictions for
        unlabelled ones (as sklearn's ``LabelSpreading``).

    used_unlabelled_ : bool
        After a semi-supervised ``fit``: whether the unlabelled samples
        were used (False when there were none, or when the
        ``supervised_fallback`` guard found they hurt).

    guard_scores_ : dict or None
        After a semi-supervised ``fit``: the held-out scores of the
        guard, ``{"supervised": ..., "semi_supervised": ...}``, or None
        when it did not run."""


def insert_before(text, marker, insertion):
    """``text`` with the parameter ``insertion`` placed before ``marker``."""
    position = text.index(marker)
    return text[:position] + insertion + "\n\n    " + text[position:]


def fill_doc(**sections):
    """Class decorator: format ``{name}`` fields of the docstring.

    Examples
    --------
    >>> from skann._docstrings import fill_doc
    >>> @fill_doc(params="a : int")
    ... class A:
    ...     '''Parameters: {params}'''
    >>> A.__doc__
    'Parameters: a : int'
    """

    def decorate(cls):
        cls.__doc__ = cls.__doc__.format(**sections)
        return cls

    return decorate
