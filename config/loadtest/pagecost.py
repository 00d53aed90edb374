"""What each page kind of the load test costs on its own: wall time and CPU, one page at a time.

    python config/loadtest/pagecost.py PEOPLE.json [--pages 40] [--port 58123] [--seed 1]

On the database CARELEDGER_TEST_DATABASE_URL names, seeded and signed in as the load test does it (manage.py seed,
config/loadtest/prepare.py staff and sessions PEOPLE.json), starts gunicorn with production's
config/gunicorn.conf.py as 1 process x 1 thread on 127.0.0.1:PORT (its connection kept between pages,
CONN_MAX_AGE=60), asks for --pages pages of each kind the locustfile asks for, one after another, with
the staff's sessions, and prints for each kind the median wall time, the gunicorn CPU and the CPU of
the PostgreSQL backend serving it, per page (config/loadtest/cpu.py's snapshots of /proc: PostgreSQL
must run on this machine, this user must be able to read its processes, and no other gunicorn should
be running). Stops gunicorn at the end. Only Linux.
"""
import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from config.loadtest import cpu  # noqa: E402

BIN = Path(sys.executable).parent
ERROR_PAGE = b"Sorry, there is a problem with the service"
WEB, DATABASE = "web (gunicorn)", "PostgreSQL for the web"  # cpu.py's kinds


def kinds(data: dict) -> dict:
    """Page kind -> (who asks for it, its URL for a person): the locustfile's pages that are read."""
    def pick(p, key):
        return random.choice(p[key] or data[key])

    return {
        "my work": ("officer", lambda p: "/work/"),
        "search": ("officer", lambda p: "/search/?q=" + random.choice(data["surnames"])[:4]),
        "client page": ("officer", lambda p: f"/clients/{pick(p, 'clients')}/"),
        "client statement": ("officer", lambda p: f"/clients/{pick(p, 'clients')}/statement/"),
        "case page": ("officer", lambda p: f"/cases/{pick(p, 'cases')}/"),
        "post a note (form)": ("officer", lambda p: f"/cases/{pick(p, 'cases')}/timeline/new/"),
        "team queue": ("leader", lambda p: "/team-queue/"),
        "decisions queue": ("leader", lambda p: "/income/decisions/"),
        "case list": ("leader", lambda p: "/cases/"),
    }


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect (to sign in, when a session has expired) is an answer, not followed


OPENER = urllib.request.build_opener(_NoRedirects)


def fetch(base: str, session: str, url: str) -> None:
    """The page, which must be a 200 and not the error page (a redirect raises HTTPError)."""
    request = urllib.request.Request(base + url, headers={"Cookie": f"sessionid={session}"})
    try:
        with OPENER.open(request, timeout=60) as answer:
            body = answer.read()
    except urllib.error.HTTPError as error:
        raise SystemExit(f"{url} answered {error.code} {error.headers.get('Location', '')}: "
                         "signed out? (sessions expire: run prepare.py sessions again)") from None
    if answer.status != 200 or ERROR_PAGE in body:
        raise SystemExit(f"{url} answered {answer.status}{' with the error page' if ERROR_PAGE in body else ''}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("people", help="the JSON file config/loadtest/prepare.py sessions wrote")
    parser.add_argument("--pages", type=int, default=40, help="pages of each kind (default 40)")
    parser.add_argument("--port", type=int, default=58123)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    data = json.loads(Path(args.people).read_text())
    people = {"officer": [p for p in data["people"] if not p["leader"] and p["clients"]],
              "leader": [p for p in data["people"] if p["leader"]]}
    random.seed(args.seed)
    base = f"http://127.0.0.1:{args.port}"
    env = {**os.environ, "GUNICORN_BIND": f"127.0.0.1:{args.port}", "GUNICORN_WORKERS": "1",
           "GUNICORN_THREADS": "1", "GUNICORN_ACCESS_LOG": "/dev/null", "CONN_MAX_AGE": "60"}
    web = subprocess.Popen([str(BIN / "gunicorn"), "-c", "config/gunicorn.conf.py", "config.wsgi:application"],
                           cwd=ROOT, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(base + "/health/", timeout=5).read()
                break
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > deadline or web.poll() is not None:
                    raise SystemExit("gunicorn did not answer within 60 s")
                time.sleep(0.5)
        print(f"{'Page kind':20s} {'wall median':>12s} {'gunicorn CPU':>13s} {'PostgreSQL CPU':>15s}   "
              f"(per page, {args.pages} pages each)")
        for name, (who, url_for) in kinds(data).items():
            for _ in range(3):  # warm: templates compiled, plans cached
                person = random.choice(people[who])
                fetch(base, person["session"], url_for(person))
            walls = []
            before = cpu.snapshot()
            for _ in range(args.pages):
                person = random.choice(people[who])
                started = time.perf_counter()
                fetch(base, person["session"], url_for(person))
                walls.append((time.perf_counter() - started) * 1000)
            used = cpu.used_by_kind(before, cpu.snapshot())
            web_ms, database_ms = (1000 * used.get(kind, 0.0) / args.pages for kind in (WEB, DATABASE))
            print(f"{name:20s} {statistics.median(walls):9.1f} ms {web_ms:10.1f} ms {database_ms:12.1f} ms", flush=True)
    finally:
        os.killpg(web.pid, signal.SIGTERM)
        web.wait(30)


if __name__ == "__main__":
    main()
