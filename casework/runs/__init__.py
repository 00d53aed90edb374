"""The batch engine every scheduled job uses: runs keyed to (job, business date), items done at
most once, chunks shared by any number of Celery workers. See services.py for the steps."""
