import base64
import json
from datetime import UTC, datetime

import numpy as np
import pytest

from omc.lab.analysis import analyze
from omc.lab.artifacts import MODEL_FILE, load_model, read_manifest, save_artifacts
from omc.lab.data import DataQuality, DatasetRef
from omc.lab.errors import ArtifactError
from omc.lab.evaluation import evaluate
from omc.lab.plan import Plan
from omc.lab.report import ReportContent, render_html, render_markdown, render_plots
from omc.lab.training import prepare, train
from tests.lab.synth import candles

GOAL = "Will BTC go up next hour? <script>alert('x')</script>"


@pytest.fixture(scope="module", params=["direction", "return"])
def session(request):
    frame = candles(500, seed=3, driver_strength=0.8)
    frame["has_price"] = True
    plan = Plan(coins=["BTC"], target=request.param, seed=3)
    data = prepare(frame, plan, 1)
    result = train(data, plan)
    evaluation = evaluate(result, plan, bar_minutes=60, horizon_bars=1)
    ref = DatasetRef(
        coins=["BTC"],
        sources=["prices"],
        bar_minutes=60,
        horizon_bars=1,
        start=datetime(2026, 5, 1, tzinfo=UTC),
        end=datetime(2026, 6, 1, tzinfo=UTC),
    )
    quality = DataQuality(
        rows=500, price_rows=500, gaps=0, span_days=20.8, first_at=None, last_at=None,
        sources_present=["prices"], source_rows={"prices": 500},
    )  # fmt: skip
    content = ReportContent(
        goal=GOAL, plan=plan, ref=ref, quality=quality,
        analysis=analyze(data, frame["close"]), evaluation=evaluation,
    )  # fmt: skip
    model = result.last_fold_models[evaluation.best_model]
    return content, model


def test_html_report_is_self_contained_and_escapes_the_goal(session):
    content, _ = session

    page = render_html(content)

    assert "<script>" not in page
    assert "&lt;script&gt;" in page
    assert "src='http" not in page
    encoded = page.split("data:image/png;base64,")[1].split("'")[0]
    assert base64.b64decode(encoded).startswith(b"\x89PNG")


def test_plots_cover_forecasts_importance_and_errors(session):
    content, _ = session

    titles = set(render_plots(content))

    assert {
        "Price and out-of-sample forecasts",
        "Permutation feature importance",
    } <= titles
    if content.plan.is_classification:
        assert {"Confusion matrix", "Equity curve"} <= titles
    else:
        assert "Residuals" in titles


def test_markdown_names_the_test_and_the_verdict(session):
    content, _ = session

    text = render_markdown(content)

    assert f"Verdict: {content.evaluation.verdict}" in text
    assert "moving-block bootstrap" in text
    assert "Bonferroni" in text


def test_saved_model_loads_back_and_predicts_the_same(session, tmp_path):
    content, model = session
    x = np.random.default_rng(0).normal(size=(5, model.n_features_in_))

    manifest = save_artifacts(
        str(tmp_path), "s1", model=model, metadata={"plan": content.plan.model_dump()},
        reports={"report.md": render_markdown(content)},
    )  # fmt: skip

    loaded = load_model(str(tmp_path), "s1")
    np.testing.assert_allclose(loaded.predict(x), model.predict(x))
    assert read_manifest(str(tmp_path), "s1") == manifest
    metadata = json.loads((tmp_path / "s1" / "metadata.json").read_text())
    assert metadata["plan"]["coins"] == ["BTC"]


def test_tampered_model_is_refused(session, tmp_path):
    _, model = session
    save_artifacts(str(tmp_path), "s2", model=model, metadata={}, reports={})
    path = tmp_path / "s2" / MODEL_FILE
    path.write_bytes(path.read_bytes() + b"\0")

    with pytest.raises(ArtifactError, match="SHA-256"):
        load_model(str(tmp_path), "s2")


def test_artifacts_go_to_any_fsspec_url(session):
    _, model = session

    manifest = save_artifacts(
        "memory://omc-test", "s3", model=model, metadata={}, reports={}
    )

    assert manifest.location == "memory://omc-test/s3"
    assert hasattr(load_model("memory://omc-test", "s3"), "predict")
