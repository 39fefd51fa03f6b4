"""Background work of account self-service (Celery; in-process in the embedded default)."""

from celery import shared_task


@shared_task(name="privacy.tasks.export_build")
def export_build_task(export_id: int) -> str:
    from privacy.export import export_build

    return export_build(export_id=export_id).status


@shared_task(name="privacy.tasks.exports_sweep")
def exports_sweep_task() -> int:
    """Delete the files of expired exports (beat, hourly)."""
    from privacy.export import exports_sweep

    return exports_sweep()


@shared_task(name="privacy.tasks.erasure_run")
def erasure_run_task(erasure_id: int, force: bool = False) -> str:
    from privacy.erasure import erasure_run

    erasure = erasure_run(erasure_id=erasure_id, force=force)
    return erasure.state if erasure is not None else "missing"


@shared_task(name="privacy.tasks.erasures_run_due")
def erasures_run_due_task() -> int:
    """Erase the accounts whose grace period ended (beat, every 15 minutes)."""
    from privacy.erasure import erasures_run_due

    return erasures_run_due()
