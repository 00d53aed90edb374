"""gunicorn's settings for the web application: used by the Dockerfile, docker-compose.yml and the load
test (config/scripts/loadtest.sh), so that what is measured is what runs.

    gunicorn -c config/gunicorn.conf.py config.wsgi:application

GUNICORN_WORKERS processes (default 3) of GUNICORN_THREADS threads (default 4). Threads suit these
pages, which spend much of their time waiting on PostgreSQL: on the two-core load test machine 3 x 4
threads answered the working day with a median of 92 ms against 200 ms for 5 single-threaded
workers (docs/reliability.md, "Load"; measured when the load test still opened a database
connection for every page, and not measured again since it keeps them). Each thread keeps its own database connection (CONN_MAX_AGE),
so PostgreSQL's max_connections must exceed workers x threads on every web machine plus the Celery
workers' connections.
"""
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "3"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
# A worker is replaced after this many requests (with jitter, so they are not replaced together):
# bounds the memory a long-running process can gather.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "5000"))
max_requests_jitter = max_requests // 10
