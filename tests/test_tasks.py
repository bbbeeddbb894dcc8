from omc.collectors.registry import collector_names
from omc.settings import Settings
from omc.tasks import periodic_jobs


def test_the_scheduler_runs_every_collector_on_its_cadence_by_default() -> None:
    settings = Settings(_env_file=None, coinspot_cadence_s=120)

    jobs = {job.kwargs.get("collector"): job for job in periodic_jobs(settings)}

    assert set(collector_names()) <= set(jobs)
    assert jobs["coinspot"].interval_s == 120


def test_collector_jobs_can_be_left_to_cronjobs() -> None:
    settings = Settings(_env_file=None, scheduler_collectors=False)

    jobs = periodic_jobs(settings)

    assert not [job for job in jobs if "collector" in job.kwargs]
