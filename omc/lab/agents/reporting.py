"""Reporting agent: Markdown and HTML reports, the final model and its artifacts."""

from typing import Any

from omc.lab.agents.analysis import model_data
from omc.lab.agents.training import trained
from omc.lab.artifacts import library_versions, save_artifacts
from omc.lab.report import ReportContent, render_html, render_markdown
from omc.lab.state import LabDeps, LabState, ReportRef, required, updates

__all__ = ["reporting_node"]


def reporting_node(state: LabState, deps: LabDeps) -> dict[str, Any]:
    """Write the reports and save the best model as it was last scored out of sample.

    The saved model is the best family fitted on the last walk-forward fold: the very
    model whose forecasts on the newest rows the evaluation scored. Refitting on every
    row would cost as much again and save a model no test has seen.
    """
    plan, ref = required(state.plan, "plan"), required(state.dataset, "dataset")
    evaluation = required(state.evaluation, "evaluation")
    quality = required(state.quality, "quality")
    content = ReportContent(
        goal=state.goal,
        plan=plan,
        ref=ref,
        quality=quality,
        analysis=required(state.analysis, "analysis"),
        evaluation=evaluation,
    )
    markdown = render_markdown(content)
    data = model_data(state, deps)
    best = next(c for c in state.candidates if c.name == evaluation.best_model)
    model = trained(state, deps).last_fold_models[best.name]
    metadata = {
        "session_id": state.session_id,
        "goal": state.goal,
        "plan": plan.model_dump(mode="json"),
        "dataset": ref.model_dump(mode="json"),
        "quality": quality.model_dump(mode="json"),
        "rows": {"usable": len(data.target), "evaluated": evaluation.test.samples},
        "features": data.feature_names,
        "model": {
            "family": best.name,
            "params": best.params,
            "fitted_on": "the training rows of the last walk-forward fold",
        },
        "metrics": evaluation.metrics,
        "skill_test": evaluation.test.model_dump(mode="json"),
        "verdict": evaluation.verdict,
        "seed": plan.seed,
        "libraries": library_versions(),
    }
    manifest = save_artifacts(
        deps.settings.artifacts_location,
        state.session_id,
        model=model,
        metadata=metadata,
        reports={"report.md": markdown, "report.html": render_html(content)},
    )
    deps.workspace.drop(state.session_id)
    return updates(
        report=ReportRef(markdown=markdown, artifacts=manifest),
        status="done",
        messages=[f"report: saved to {manifest.location}"],
    )
