"""Language-model, click-through and reconstruction workloads end to end: suite file -> data
(procedural and Hugging Face loaders over local files) -> timed worker -> parent scoring."""

from __future__ import annotations

import math

import pytest

from harness import ttr_evaluation
from harness.errors import ConfigError
from harness.evaluation import EvaluateOptions
from harness.store import Store
from harness.submission import load_submission
from harness.suite import load_suite
from harness.ttr_data import prepare, whole_budget
from harness.ttr_evaluation import evaluate_ttr
from harness.ttr_kinds import WorkloadKind
from harness.ttr_scores import score_suite
from tests.conftest import make_method

HEAD = """
name = "kinds"
description = "tests only"
api = "training-algorithm"

[protocol]
num_trials = 1
num_studies = 1
num_threads = 1
"""

LM = """
[[workload]]
name = "{name}"
{variant}
kind = "language-model"
metric = "loss"
dataset = "{dataset}"
dataset_options = {{ {options} sequence_length = 16 }}
model = "transformer_lm"
model_options = {{ width = 16, depth = 1, heads = 2 }}
target = {target}
max_runtime_s = 0.4
eval_period_s = 0.1
step_hint = 50
"""

REST = """
[[workload]]
name = "clicks"
kind = "click-through"
metric = "auc"
dataset = "synthetic-clicks"
dataset_options = {{ train_samples = 2000, eval_samples = 500 }}
model = "dlrm"
model_options = {{ embed_dim = 4, bottom = [8], top = [8] }}
target = 0.51
max_runtime_s = 0.4
eval_period_s = 0.1
step_hint = 50

[[workload]]
name = "clicks-hub"
kind = "click-through"
metric = "log_loss"
dataset = "hf:csv"
dataset_options = {{ data_files = {{ train = "{csv}", validation = "{csv}" }}, \
dense_columns = ["I1"], categorical_columns = ["C1"], hash_buckets = 8 }}
model = "dlrm"
model_options = {{ embed_dim = 4, bottom = [8], top = [8] }}
target = 5.0
max_runtime_s = 0.3
eval_period_s = 0.1
step_hint = 20

[[workload]]
name = "autoencoder"
kind = "reconstruction"
dataset = "textures"
model = "conv_autoencoder"
model_options = {{ width = 4, latent = 8 }}
target = 0.01
max_runtime_s = 0.4
eval_period_s = 0.1
step_hint = 50
"""


def write_suite(tmp_path):
    text_file = tmp_path / "corpus.txt"
    text_file.write_text("the cat sat on the mat. " * 40)
    csv = tmp_path / "clicks.csv"
    csv.write_text("label,I1,C1\n" + "".join(f"{i % 2},{i},{'ab'[i % 2]}\n" for i in range(40)))
    suite = HEAD
    suite += LM.format(name="lm", variant="", dataset="markov-text",
                       options="train_bytes = 6000, eval_bytes = 1000,", target=10.0)
    suite += LM.format(name="lm-impossible", variant='variant_of = "lm"', dataset="markov-text",
                       options="train_bytes = 6000, eval_bytes = 1000,", target=0.01)
    files = f'data_files = {{ train = "{text_file}", validation = "{text_file}" }},'
    suite += LM.format(name="lm-hub", variant="", dataset="hf:text", options=files, target=10.0)
    suite += REST.format(csv=csv)
    path = tmp_path / "kinds.toml"
    path.write_text(suite)
    return path


def fixed_adamw(root):
    """AdamW at one fixed, sensible setting, so a fraction of a second of training shows."""
    folder = make_method(root, "fixed-adamw", base="adamw")
    (folder / "search_space.json").write_text('{"learning_rate": {"feasible_points": [0.01]}, '
                                              '"weight_decay": {"feasible_points": [0.0]}}')
    return load_submission(folder)


def test_a_hub_text_corpus_is_prepared_from_local_files(tmp_path, tiny_cache):
    suite = load_suite(write_suite(tmp_path))
    hub = next(w for w in suite.workloads if w.name == "lm-hub")
    prepared = prepare(hub, tiny_cache)
    assert prepared.data["sequence_length"] == 16
    assert prepared.data["vocab_size"] == len(set(b"the cat sat on the mat. ")) + 1
    assert set(prepared.files) == {"train_tasks", "eval_inputs"}
    assert prepared.plan.kind is WorkloadKind.LANGUAGE_MODEL and not prepared.plan.target < 10
    assert list(prepared.fingerprints) == ["hf:text/train", "hf:text/eval"]


def test_every_kind_runs_scores_in_its_direction_and_applies_the_variant_rule(tmp_path,
                                                                             tiny_cache,
                                                                             monkeypatch):
    # Whole runs, as calibration makes them: the learning checks below need more than the
    # first evaluation, which already meets most of these easy targets (and would stop there).
    monkeypatch.setattr(ttr_evaluation, "prepare",
                        lambda workload, cache: whole_budget(prepare(workload, cache)))
    path = write_suite(tmp_path)
    suite = load_suite(path)
    suite = type(suite)(**{**vars(suite), "workloads": tuple(
        w for w in suite.workloads if w.name != "lm-hub")})
    assert [w.kind for w in suite.workloads][:1] == [WorkloadKind.LANGUAGE_MODEL]
    sub = fixed_adamw(tmp_path)
    with Store(tmp_path / "r.db") as store:
        report = evaluate_ttr(suite, [sub], store, EvaluateOptions(num_trials=1, num_seeds=1),
                              cache=tiny_cache)
    assert report.failed == [], [r.reason for r in report.failed]
    runs = {r.spec.scenario: r for r in report.results}
    lm = runs["lm"].curves["eval_trace"]
    assert lm["metric"] == "loss" and not lm["higher_is_better"]
    assert lm["value"][-1] < lm["value"][0] - 0.05  # it learns: the loss falls
    assert runs["lm"].metrics["best_metric"] == pytest.approx(min(lm["value"]), abs=1e-5)
    assert runs["lm"].metrics["time_to_target_s"] < 0.05  # loss 10 is met at the first eval
    assert math.isinf(runs["lm-impossible"].metrics["time_to_target_s"])
    clicks = runs["clicks"].curves["eval_trace"]
    assert clicks["higher_is_better"] and 0 <= min(clicks["value"]) <= 1
    assert runs["clicks"].metrics["best_metric"] > 0.55  # AUC well above chance
    assert math.isfinite(runs["clicks-hub"].metrics["time_to_target_s"])
    ae = runs["autoencoder"].curves["eval_trace"]
    assert ae["metric"] == "ssim" and -1 <= min(ae["value"]) <= max(ae["value"]) <= 1
    assert runs["autoencoder"].metrics["time_to_target_s"] < 0.05  # SSIM 0.01: met at once
    scored = score_suite(suite, report.results)
    lm_column = scored.workloads.index("lm")
    assert math.isinf(scored.times[0, lm_column])  # missed variant -> base workload infinite
    assert "markov" not in str(runs["lm"].spec.hparams)
    assert runs["clicks"].metrics["num_steps"] > 5


@pytest.mark.parametrize(("change", "message"), [
    (('metric = "loss"', 'metric = "acuracy"', 1), 'metric "acuracy" .* does not fit kind'),
    (("target = 10.0", "target = 0.5", 1), None),  # a loss target of 0.5 is fine
    (('kind = "reconstruction"', 'kind = "reconstruct"', 1), 'unknown kind "reconstruct"'),
    (('metric = "auc"\n', 'metric = "auc"\n', 1), None),
    (("target = 0.51", "target = 0.3", 1), "validation auc; it must be greater than 0.5"),
    (('model = "dlrm"', 'model = "mlp"', 1), 'unknown model "mlp" for kind "click-through"'),
    (("hash_buckets = 8", "hash_bucket = 8", 1), 'unknown key "hash_bucket"'),
    (('dataset = "synthetic-clicks"', 'dataset = "clicks"', 1), "reads \"synthetic-clicks\""),
    (("train_samples = 2000", "train_samples = -5", 1), '"train_samples" .* positive integer'),
])
def test_suite_errors_of_the_new_kinds(tmp_path, change, message):
    path = write_suite(tmp_path)
    path.write_text(path.read_text().replace(*change))
    if message is None:
        load_suite(path)
        return
    with pytest.raises(ConfigError, match=message):
        load_suite(path)
