"""Celery finds each app's tasks in <app>/tasks.py: the casework tasks live with the runs engine."""
from casework.runs.tasks import process_chunk, start_scheduled_run

__all__ = ["process_chunk", "start_scheduled_run"]
