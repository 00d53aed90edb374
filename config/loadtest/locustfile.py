"""A working day at a large county: 150 officers working cases and 10 team leaders on their queues.

Run by config/scripts/loadtest.sh (which seeds the database, signs the staff in and starts
gunicorn and the nightly run); LOADTEST_PEOPLE names the JSON file config/loadtest/prepare.py
wrote. Each simulated person holds the session of one seeded member of staff (officers first,
then team leaders, one person per session) and works at a person's pace: a page, then a pause
of LOADTEST_THINK_MIN to LOADTEST_THINK_MAX seconds (default 5 to 15) to read or type.

Page kinds (the names in the statistics): my work, search, client page, client statement, case
page, post a note (form and POST), record a payment (form and POST), team queue, decisions
queue, case list.
"""
import itertools
import json
import os
import random
import re
import threading
from datetime import date

from locust import HttpUser, between, task

DATA = json.loads(open(os.environ.get("LOADTEST_PEOPLE", "var/loadtest/people.json")).read())
THINK = between(float(os.environ.get("LOADTEST_THINK_MIN", 5)), float(os.environ.get("LOADTEST_THINK_MAX", 15)))
OFFICERS = [p for p in DATA["people"] if not p["leader"]]
LEADERS = [p for p in DATA["people"] if p["leader"]]
_next = {"officer": itertools.cycle(OFFICERS), "leader": itertools.cycle(LEADERS)}
_lock = threading.Lock()
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
ERROR_PAGE = "Sorry, there is a problem with the service"


class Staff(HttpUser):
    abstract = True
    wait_time = THINK
    kind = "officer"

    def on_start(self):
        with _lock:
            self.person = next(_next[self.kind])
        self.client.cookies.set("sessionid", self.person["session"])

    def page(self, url: str, name: str, params=None):
        with self.client.get(url, params=params, name=name, catch_response=True, allow_redirects=False) as answer:
            if answer.status_code != 200 or ERROR_PAGE in answer.text:
                answer.failure(f"{answer.status_code}")
            return answer

    def post_form(self, url: str, name: str, fields: dict):
        form = self.page(url, f"{name} (form)")
        match = TOKEN.search(form.text or "")
        if not match:
            return
        with self.client.post(url, data={"csrfmiddlewaretoken": match.group(1), **fields}, name=name,
                              headers={"Referer": self.host + url}, allow_redirects=False,
                              catch_response=True) as answer:
            if answer.status_code != 302:  # success redirects; a form with errors would answer 200
                answer.failure(f"{answer.status_code}")


class Officer(Staff):
    weight = 150

    def client_pk(self) -> int:
        return random.choice(self.person["clients"] or DATA["clients"])

    def case_pk(self) -> int:
        return random.choice(self.person["cases"] or DATA["cases"])

    @task(3)
    def my_work(self):
        self.page("/work/", "my work")

    @task(3)
    def search(self):
        term = random.choice(DATA["surnames"])
        self.page("/search/", "search", params={"q": term[: random.choice([4, 6, len(term)])]})

    @task(5)
    def client_page(self):
        self.page(f"/clients/{self.client_pk()}/", "client page")

    @task(1)
    def client_statement(self):
        self.page(f"/clients/{self.client_pk()}/statement/", "client statement")

    @task(5)
    def case_page(self):
        self.page(f"/cases/{self.case_pk()}/", "case page")

    @task(2)
    def post_note(self):
        case = self.case_pk()
        self.post_form(f"/cases/{case}/timeline/new/", "post a note",
                       {"kind": "call", "summary": "Rang the client about the account",
                        "body": "Discussed the balance; the client will call back."})

    @task(1)
    def record_payment(self):
        if not self.person["username"].startswith("load-income-"):
            return self.client_page()  # only income officers record payments
        today = date.today()
        self.post_form(f"/income/clients/{self.client_pk()}/payments/new/", "record a payment",
                       {"amount": f"{random.randint(5, 60)}.00", "method": "card", "received_on_0": today.day,
                        "received_on_1": today.month, "received_on_2": today.year,
                        "reference": f"LOAD-{random.randrange(10**9)}"})


class TeamLeader(Staff):
    weight = 10
    kind = "leader"

    @task(4)
    def team_queue(self):
        self.page("/team-queue/", "team queue")

    @task(2)
    def decisions(self):
        self.page("/income/decisions/", "decisions queue")

    @task(2)
    def case_list(self):
        self.page("/cases/", "case list")

    @task(2)
    def case_page(self):
        self.page(f"/cases/{random.choice(DATA['cases'])}/", "case page")
