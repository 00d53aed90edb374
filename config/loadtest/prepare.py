"""Staff and signed-in sessions for the load test, on the database CARELEDGER_TEST_DATABASE_URL names
(the test settings, config/settings/test.py).

    python config/loadtest/prepare.py staff                 # before manage.py seed: officers in teams
    python config/loadtest/prepare.py sessions OUT.json     # after it: a session per person, and work

`staff` adds 150 officers across the five finance teams (in proportion to a large county's
teams) and 10 team leaders, so that `manage.py seed` assigns them cases. `sessions` signs each of
them in (config/loadtest/sessions.py) and writes, for the locustfile, each person's session key,
role and a sample of the clients and cases they work on.
"""
import json
import os
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEAMS = {  # team: (role, officers)
    "Income and debt recovery": ("Income officer", 60),
    "Deferred payments": ("Deferred payment officer", 30),
    "Direct payments monitoring": ("Direct payment officer", 25),
    "Provider payments": ("Provider payment officer", 20),
    "Resource management": ("Resource management officer", 15),
}
LEADERS_PER_TEAM = 2
PREFIX = "load-"


def staff() -> None:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from casework.models import Team
    from casework.roles import Role

    User = get_user_model()
    for role in Role:
        Group.objects.get_or_create(name=role.value)
    made = 0
    for team_name, (role, count) in TEAMS.items():
        team, _ = Team.objects.get_or_create(name=team_name)
        slug = team_name.split()[0].lower()
        for n in range(count):
            user, created = User.objects.get_or_create(username=f"{PREFIX}{slug}-{n:03d}",
                                                       defaults={"first_name": "Officer", "last_name": f"{slug} {n}"})
            if created:
                user.set_unusable_password()
                user.save()
                user.groups.add(Group.objects.get(name=role))
                made += 1
            team.members.add(user)
        for n in range(LEADERS_PER_TEAM):
            user, created = User.objects.get_or_create(username=f"{PREFIX}{slug}-leader-{n}",
                                                       defaults={"first_name": "Leader", "last_name": f"{slug} {n}"})
            if created:
                user.set_unusable_password()
                user.save()
                user.groups.add(Group.objects.get(name=Role.TEAM_LEADER.value))
                made += 1
            team.leaders.add(user)
    print(f"{made} load-test staff added")


def sessions(out: str) -> None:
    from django.contrib.auth import get_user_model

    from casework.models import Case, Client
    from config.loadtest.sessions import signed_in_session

    rnd = random.Random(2026)
    User = get_user_model()
    people = []
    for user in User.objects.filter(username__startswith=PREFIX).order_by("username").prefetch_related("groups"):
        leader = "-leader-" in user.username
        cases = list(Case.objects.filter(assigned_officer=user).exclude(status="closed")
                     .values_list("pk", "client_id")[:40]) if not leader else []
        people.append({"username": user.username, "session": signed_in_session(user), "leader": leader,
                       "cases": [c for c, _ in cases], "clients": [c for _, c in cases]})
    clients = list(Client.objects.order_by("?").values_list("pk", "last_name")[:2000])
    open_cases = list(Case.objects.exclude(status="closed").order_by("?").values_list("pk", flat=True)[:2000])
    for person in people:  # officers without cases of their own work on others' (cover, enquiries)
        if not person["cases"] and not person["leader"]:
            person["cases"] = rnd.sample(open_cases, min(20, len(open_cases)))
        if not person["clients"]:
            person["clients"] = [pk for pk, _ in rnd.sample(clients, min(20, len(clients)))]
    data = {"people": people, "surnames": sorted({name for _, name in clients})[:500],
            "clients": [pk for pk, _ in clients], "cases": open_cases}
    Path(out).write_text(json.dumps(data))
    print(f"{len(people)} sessions, {len(clients)} sample clients, {len(open_cases)} sample cases written to {out}")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    if sys.argv[1:2] == ["staff"]:
        staff()
    elif sys.argv[1:2] == ["sessions"] and len(sys.argv) == 3:
        sessions(sys.argv[2])
    else:
        sys.exit(__doc__)
