"""Models and data sources of the language-model, click-through and reconstruction workloads."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from harness.data.click_logs import PlantedClickModel, criteo_logs
from harness.data.text_corpus import Vocabulary, hub_text, markov_text, sequences
from harness.errors import UserError
from harness.metrics.ssim import ssim_per_image
from harness.metrics.validation import log_loss
from harness.ttr_models import DLRM, ConvAutoencoder, TransformerLM


def test_transformer_lm_is_causal_and_shaped():
    torch.manual_seed(0)
    model = TransformerLM(vocab_size=11, context=8, width=16, depth=1, heads=2).eval()
    tokens = torch.randint(0, 11, (2, 8))
    logits = model(tokens)
    assert logits.shape == (2, 8, 11)
    changed = tokens.clone()
    changed[:, 5] = (changed[:, 5] + 1) % 11
    after = model(changed)
    assert torch.allclose(logits[:, :5], after[:, :5], atol=1e-6)  # no peeking ahead
    assert not torch.allclose(logits[:, 5:], after[:, 5:])
    rms = TransformerLM(vocab_size=11, context=8, width=16, depth=1, heads=2, norm="rms")
    assert any(isinstance(m, torch.nn.RMSNorm) for m in rms.modules())


def test_dlrm_and_autoencoder_shapes():
    model = DLRM(num_dense=3, cardinalities=(5, 7), embed_dim=4, bottom=(8,), top=(8,))
    logits = model(torch.randn(6, 3), torch.tensor([[0, 1]] * 6))
    assert logits.shape == (6,)
    ae = ConvAutoencoder((3, 8, 12), width=4, latent=5)
    out = ae(torch.rand(2, 3, 8, 12))
    assert out.shape == (2, 3, 8, 12) and out.min() >= 0 and out.max() <= 1


@pytest.fixture
def one_thread():
    """One torch thread: on a loaded 2-core machine two threads spin-wait and crawl."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_the_autoencoder_learns_to_reconstruct(one_thread):
    torch.manual_seed(0)
    images = torch.rand(64, 1, 8, 8).round()  # binary noise patterns
    model = ConvAutoencoder((1, 8, 8), width=8, latent=16)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    before = ssim_per_image(model(images).detach(), images).mean()
    for _ in range(60):
        opt.zero_grad()
        torch.nn.functional.mse_loss(model(images), images).backward()
        opt.step()
    after = ssim_per_image(model(images).detach(), images).mean()
    assert after > before + 0.2


def test_markov_text_is_one_language_per_grammar_seed():
    train, held = markov_text(3, 1, 4000), markov_text(3, 2, 4000)
    assert train == markov_text(3, 1, 4000) and train != held and len(train) == 4000
    assert set(train.split()) & set(held.split())  # the same lexicon
    assert not set(markov_text(4, 1, 4000).split()) >= set(train.split())
    vocab = Vocabulary.of(train)
    ids = vocab.encode(b"zz" + train[:10])
    assert ids.max() < vocab.size and (vocab.encode(b"\x00") == 0).all()  # unseen byte -> 0
    windows = sequences(np.arange(10), 3)
    assert windows.tolist() == [[0, 1, 2, 3], [3, 4, 5, 6], [6, 7, 8, 9]]


def test_planted_click_model_has_a_learnable_signal():
    model = PlantedClickModel(0)
    logs = model.sample(1, 5000)
    assert logs.categorical.max(axis=0).tolist() < list(model.cardinalities)
    constant = log_loss(np.full(len(logs.clicks), logs.clicks.mean()), logs.clicks)
    assert model.bayes_log_loss(logs) < constant - 0.1
    again = PlantedClickModel(0).sample(1, 5000)
    assert (again.clicks == logs.clicks).all()


def test_hub_text_and_criteo_logs_read_local_files_through_datasets(tmp_path):
    (tmp_path / "train.txt").write_text("hello world\n\nsecond line\n")
    text = hub_text("text", "train", data_files={"train": str(tmp_path / "train.txt")},
                    cache_dir=tmp_path / "hf")
    assert text == b"hello world\nsecond line"
    header = "label,I1,I2,C1,C2\n"
    rows = "1,3,,a9,ff\n0,-2,7,,ff\n"
    (tmp_path / "clicks.csv").write_text(header + rows)
    logs = criteo_logs("csv", "train", data_files={"train": str(tmp_path / "clicks.csv")},
                       cache_dir=tmp_path / "hf", dense_columns=("I1", "I2"),
                       categorical_columns=("C1", "C2"), hash_buckets=50)
    assert logs.clicks.tolist() == [1, 0]
    assert logs.dense[:, 0] == pytest.approx([np.log1p(3), 0.0])  # log1p(max(x, 0))
    assert logs.dense[:, 1] == pytest.approx([0.0, np.log1p(7)])  # missing -> 0
    assert logs.categorical[1, 0] == 0 and logs.categorical[0, 0] > 0  # missing -> bucket 0
    assert logs.categorical[0, 1] == logs.categorical[1, 1]  # same value, same bucket
    with pytest.raises(UserError, match="lacks columns C3"):
        criteo_logs("csv", "train", data_files={"train": str(tmp_path / "clicks.csv")},
                    cache_dir=tmp_path / "hf", dense_columns=("I1",),
                    categorical_columns=("C3",))
