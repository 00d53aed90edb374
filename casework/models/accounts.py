#: Seeded demo logins belong to this group. Only where DEMO_RELAX_TWO_FACTOR is on (the embedded
#: demo) may its members skip two-factor sign-in.
DEMO_GROUP = "Demo login (two-factor relaxed in the demo)"
