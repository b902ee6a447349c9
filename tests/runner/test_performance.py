"""GPU-readiness helpers, checked on the CPU: memory format, compilation, bf16 autocast, copies."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from harness.api import Scenario
from harness.data.batches import Normalizer
from harness.models import Backbone, small_cnn
from harness.performance_options import PerformanceOptions
from harness.runner.performance import PreparedFactory, autocast, prepare_model, to_device_pinned
from harness.runner.worker import EvalInputs, predict_all


def test_channels_last_changes_conv_weights_only_and_keeps_outputs():
    model = small_cnn((3, 8, 8), 4, width=4).eval()
    x = torch.randn(2, 3, 8, 8)
    expected = model(x)
    prepared, compile_time_s = prepare_model(model, channels_last=True, compile=False)
    conv = prepared.body[0].weight
    assert conv.is_contiguous(memory_format=torch.channels_last) and not conv.is_contiguous()
    assert prepared.head.weight.is_contiguous()  # 2-d: untouched
    assert compile_time_s == 0.0
    torch.testing.assert_close(prepared(x), expected, rtol=1e-4, atol=1e-5)


def test_no_options_is_the_identity():
    model = nn.Linear(3, 2)
    prepared, compile_time_s = prepare_model(model, channels_last=False, compile=False)
    assert prepared is model and compile_time_s == 0.0


def test_bf16_autocast_on_cpu_gives_bf16_matmuls_and_nothing_otherwise():
    a, b = torch.randn(4, 8), torch.randn(8, 3)
    with autocast("cpu", "bfloat16"):
        assert (a @ b).dtype == torch.bfloat16
        assert nn.functional.linear(a, b.T).dtype == torch.bfloat16
    for dtype in (None, "float32"):
        with autocast("cpu", dtype):
            assert (a @ b).dtype == torch.float32
    with autocast("meta", "bfloat16"):  # a device without autocast: full precision
        assert (a @ b).dtype == torch.float32
    with pytest.raises(ValueError, match="float16"), autocast("cpu", "float16"):
        pass


def test_to_device_on_cpu_is_a_plain_copy_that_never_aliases_read_only_memory():
    array = np.arange(12, dtype=np.uint8).reshape(3, 4)
    array.flags.writeable = False  # like a memory-mapped cache file
    tensor = to_device_pinned(array, "cpu")
    assert tensor.dtype == torch.uint8 and tensor.device.type == "cpu"
    assert np.array_equal(tensor.numpy(), array)
    tensor[0, 0] = 99  # writable, and the source is not touched
    assert array[0, 0] == 0
    source = torch.ones(2)
    assert torch.equal(to_device_pinned(source, torch.device("cpu")), source)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_to_device_on_cuda_goes_through_pinned_memory():
    array = np.random.default_rng(0).random((64, 3), dtype=np.float32)
    tensor = to_device_pinned(array, "cuda")
    assert tensor.is_cuda and np.array_equal(tensor.cpu().numpy(), array)


def _compile_available() -> bool:
    return hasattr(torch, "compile") and torch._dynamo.is_dynamo_supported()


# A counting backend runs the torch.compile path (Dynamo's capture and guards) without code
# generation, which takes about a minute on a 2-core CPU; what is checked here (graphs built
# up front, timing, state restored) does not depend on the code generator.
@pytest.mark.skipif(not _compile_available(), reason="torch.compile unavailable")
def test_compile_is_timed_up_front_and_leaves_the_model_state_unchanged():
    def make() -> nn.Module:  # conv + BatchNorm: layout and running statistics both matter
        return Backbone(nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4),
                                      nn.Flatten()), 4 * 8 * 8, 4)

    graphs = []

    def counting_backend(graph_module, example_inputs):
        graphs.append(graph_module)
        return graph_module.forward

    torch.manual_seed(0)
    model, reference = make(), make()
    reference.load_state_dict(model.state_dict())
    def batch(size: int) -> torch.Tensor:  # what the data path gives with channels_last on
        return torch.randn(size, 3, 8, 8).contiguous(memory_format=torch.channels_last)

    example = batch(5)
    rng_before = torch.get_rng_state()
    prepared, compile_time_s = prepare_model(model, channels_last=True, compile=True,
                                             example_input=example, backend=counting_backend)
    assert compile_time_s > 0.0 and len(graphs) >= 2  # training and inference graphs
    assert prepared is model and prepared.training  # compiled in place, mode kept
    assert torch.equal(torch.get_rng_state(), rng_before)
    assert all(p.grad is None for p in prepared.parameters())
    for name, value in reference.state_dict().items():  # BatchNorm statistics restored
        torch.testing.assert_close(prepared.state_dict()[name], value)
    built = len(graphs)
    x = batch(3)  # another batch size: the batch dimension is dynamic
    torch.testing.assert_close(prepared(x), reference(x), rtol=1e-4, atol=1e-5)
    prepared.eval(), reference.eval()
    with torch.inference_mode():  # as `predict_all`: the input is made in inference mode
        x = x.clone()
        torch.testing.assert_close(prepared(x), reference(x), rtol=1e-4, atol=1e-5)
    assert len(graphs) == built  # nothing compiled inside the run's clock
    torch._dynamo.reset()


def test_the_factory_returns_untouched_models_when_no_option_is_on():
    made = []
    factory = PreparedFactory(lambda: made.append(nn.Linear(2, 2)) or made[-1],
                              PerformanceOptions(autocast="bfloat16"), torch.device("cpu"),
                              torch.zeros(4, 2))
    assert factory() is made[0] and factory.compile_time_s == 0.0


@pytest.mark.skipif(not _compile_available(), reason="torch.compile unavailable")
def test_the_factory_compiles_every_model_it_makes_under_the_runs_autocast():
    graphs = []

    def counting_backend(graph_module, example_inputs):
        graphs.append(graph_module)
        return graph_module.forward

    options = PerformanceOptions(channels_last=True, compile=True, autocast="bfloat16",
                                 compile_backend=counting_backend)  # no code generation
    factory = PreparedFactory(lambda: small_cnn((3, 8, 8), 4, width=4), options,
                              torch.device("cpu"), torch.zeros(6, 3, 8, 8))
    first = factory()
    assert first.body[0].weight.is_contiguous(memory_format=torch.channels_last)
    after_first_s = factory.compile_time_s
    assert after_first_s > 0.0
    built = len(graphs)
    with autocast("cpu", "bfloat16"):  # as the worker calls the learner
        assert first(torch.randn(3, 3, 8, 8)).dtype == torch.bfloat16
        first.eval()
        with torch.inference_mode():  # another batch size, for predictions: no recompiling
            first(torch.randn(10, 3, 8, 8))
    assert len(graphs) == built
    second = factory()  # a learner rebuilding its network: compiled and timed again
    assert second is not first and factory.compile_time_s > after_first_s
    torch._dynamo.reset()


@pytest.mark.skipif(not _compile_available(), reason="torch.compile unavailable")
def test_predicting_normalized_once_evaluation_inputs_does_not_recompile():
    """The worker normalizes small evaluation sets once (`EvalInputs.prepare`); their batches
    must hit the graph compiled up front, as per-batch normalized ones do, and predict the same
    labels."""
    graphs = []

    def counting_backend(graph_module, example_inputs):
        graphs.append(graph_module)
        return graph_module.forward

    torch.manual_seed(0)
    model = Backbone(nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4),
                                   nn.Flatten()), 4 * 8 * 8, 4)
    prepare_model(model, channels_last=False, compile=True,
                  example_input=torch.randn(5, 3, 8, 8), backend=counting_backend)
    built = len(graphs)

    class Learner:
        def predict(self, x, task=None):
            model.eval()
            return model(x)

    images = torch.randint(0, 256, (20, 3, 8, 8), dtype=torch.uint8)
    normalize = Normalizer([0.5] * 3, [0.25] * 3, torch.device("cpu"))
    once = EvalInputs.prepare(images, normalize)
    per_batch = EvalInputs(images, normalize)
    assert once.normalize is not normalize  # small enough to be normalized up front

    def predict(inputs: EvalInputs):
        return predict_all(Learner(), inputs.images, inputs.normalize, [(None, 0, 20)],
                           [(0, 1), (2, 3)], Scenario.CLASS, 4, 7, 0)

    np.testing.assert_array_equal(predict(once), predict(per_batch))
    assert len(graphs) == built
    torch._dynamo.reset()
