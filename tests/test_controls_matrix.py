"""The controls matrix: beside the URL access matrix, every way money is reduced, forgiven or paid
out, with who may do it alone, who may approve it, and that its maker never decides it.

1. Every function in the apps that writes a ledger entry (client or provider) is declared in
   MONEY_PATHS with its control, or with the reason it needs none (it only increases what is owed,
   or it records money actually received). A new money path without a declaration fails the test,
   and so does a declared control whose module no longer calls the shared controls.
2. CONTROLS declares, per action, which roles may act alone up to what, and who approves up to
   what; the limits in force (data) must match, for every role.
3. For every action, the maker of a request can never decide it, and a role without an approval
   limit cannot; both through the one service every web page and API view calls.
"""
import ast
import pathlib
from datetime import date
from decimal import Decimal as D

import pytest

from casework.models import ControlRequest
from casework.models.controls import ControlAction
from casework.roles import Role
from casework.services.controls import limits_for, why_cannot_decide

from .factories import UserFactory

ROOT = pathlib.Path(__file__).resolve().parent.parent
APPS = ["casework", "debt", "deferred_payments", "direct_payments", "provider_payments"]
WRITERS = {"ledger_post", "ledger_rows", "ledger_reverse", "ledger_save", "ledger_post_by_hand",
           "ledger_reverse_by_hand"}
SHARED_CONTROLS = {"require_other_person", "why_same_person", "why_cannot_do_alone", "control_request_raise",
                   "control_request_transition", "money_action_record", "register_control", "limits_for"}

A = ControlAction
#: function -> (the control's action, or None, and why). Executors (`_execute_*`) run only from an
#: approved request (casework.services.controls.register_control).
MONEY_PATHS = {
    # The primitives: every caller of them is listed below.
    "casework.services.ledger:ledger_post": (None, "the primitive every service posts through"),
    "casework.services.ledger:ledger_save": (None, "the primitive set-based runs post through"),
    "casework.services.ledger:ledger_reverse": (None, "the primitive every reversal posts through"),
    "provider_payments.services.common:ledger_post": (None, "the provider ledger's primitive"),
    # By hand, web and API.
    "casework.services.ledger:ledger_post_by_hand": (A.MANUAL_POSTING, "limits per role, kind and direction"),
    "casework.services.ledger:_execute_manual_posting": (A.MANUAL_POSTING, "runs only when approved"),
    "casework.services.ledger:ledger_reverse_by_hand": (A.LEDGER_REVERSAL, "limits per role and direction"),
    "casework.services.ledger:_execute_reversal": (A.LEDGER_REVERSAL, "runs only when approved"),
    "casework.views.clients:ledger_post": (A.MANUAL_POSTING, "calls ledger_post_by_hand"),
    "casework.views.clients:ledger_reverse": (A.LEDGER_REVERSAL, "calls ledger_reverse_by_hand"),
    "casework.api.serializers:create": (A.MANUAL_POSTING, "calls ledger_post_by_hand"),
    # Increases only, or money received.
    "casework.affairs.services:affairs_recover_costs": (None, "charges costs: increases what is owed"),
    "casework.privacy.demo:seed_retention": (None, "demo data, refused outside the demo settings"),
    "debt.services.billing:invoices_issue": (None, "the billing run's invoices from assessed charges"),
    "debt.services.legal:third_party_liability_create": (None, "charges a transferee: increases what is owed"),
    "debt.services.payments:payment_record": (None, "money received, allocated to invoices"),
    "debt.services.payments:payment_reverse": (None, "a returned payment: puts the debt back"),
    "debt.death:reverse_credit": (None, "takes back a death credit: puts the debt back"),
    "deferred_payments.nightly_group:process_group": (None, "the nightly run defers care costs and interest"),
    "deferred_payments.services:_post": (None, "defers a charge, interest or fee: increases the deferred debt"),
    "deferred_payments.services:interest_accrue": (None, "re-accrues interest at the capped rate"),
    "deferred_payments.views:agreement_detail": (None, "an unsaved preview row, never saved"),
    "direct_payments.services.agreements:_post": (None, "the scheduled payment of an approved budget"),
    "provider_payments.services.payment_run:process_payment": (A.PAYMENT_RUN, "released only by a second person"),
    "provider_payments.services.overpayments:overpayment_receipt": (None, "money received from a provider"),
    # Reductions and payments out, each behind its control.
    "debt.services.billing:credit_note_raise": (A.CREDIT_NOTE, "a team leader's decision, limits as data"),
    "debt.services.payments:_refund_post": (A.REFUND, "limits as data; above them a second person"),
    "debt.services.writeoffs:writeoff_transition": (A.WRITE_OFF, "WriteOffLevel per period; never the requester"),
    "deferred_payments.services:_execute_fee_waiver": (A.DPA_FEE_WAIVER, "runs only when approved"),
    "deferred_payments.services:_reverse_posting": (A.DPA_REVERSAL, "limits as data; above them a second person"),
    "provider_payments.services.claims:claim_transition": (A.CLAIM_APPROVAL, "never the importer or overrider"),
    "provider_payments.services.overpayments:_execute_overpayment_waiver": (A.OVERPAYMENT_WAIVER,
                                                                           "runs only when approved"),
    "provider_payments.services.overpayments:overpayment_transition": (A.OVERPAYMENT_WAIVER,
                                                                      "never who found it"),
    "provider_payments.services.urgent:urgent_transition": (A.URGENT_PAYMENT, "never who asked"),
}


def _money_writers() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            rel = path.relative_to(ROOT)
            if "migrations" in rel.parts or "management" in rel.parts:
                continue
            module = ".".join(rel.with_suffix("").parts)
            stack: list[str] = []

            class Visitor(ast.NodeVisitor):
                def visit_FunctionDef(self, node):
                    stack.append(node.name)
                    self.generic_visit(node)
                    stack.pop()

                visit_AsyncFunctionDef = visit_FunctionDef

                def visit_Call(self, node):
                    func = node.func
                    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
                    hit = name in WRITERS
                    if (isinstance(func, ast.Attribute) and func.attr in ("create", "bulk_create")
                            and isinstance(func.value, ast.Attribute) and func.value.attr == "objects"
                            and getattr(func.value.value, "id", "") in ("LedgerEntry", "ProviderLedgerEntry")):
                        hit = True
                    if hit:
                        found.setdefault(f"{module}:{'.'.join(stack) or '<module>'}", set()).add(name)
                    self.generic_visit(node)

            Visitor().visit(ast.parse(path.read_text()))
    return found


def test_every_function_that_writes_money_is_declared_with_its_control():
    found = _money_writers()
    undeclared = sorted(set(found) - set(MONEY_PATHS))
    assert not undeclared, (
        "These functions write ledger entries but are not in MONEY_PATHS: declare the control that stops one "
        f"person reducing a debt or paying money out alone (or why none is needed): {undeclared}")
    stale = sorted(set(MONEY_PATHS) - set(found))
    assert not stale, f"MONEY_PATHS names functions that no longer write money: {stale}"


def test_every_controlled_path_lives_beside_the_shared_controls():
    """A controlled path's module calls the shared controls (casework.services.controls)."""
    missing = []
    for name, (action, _) in MONEY_PATHS.items():
        if action is None:
            continue
        module = name.split(":")[0]
        tree = ast.parse((ROOT / (module.replace(".", "/") + ".py")).read_text())
        called = {getattr(n.func, "attr", None) or getattr(n.func, "id", None)
                  for n in ast.walk(tree) if isinstance(n, ast.Call)}
        names = called | {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        if not names & (SHARED_CONTROLS | {"ledger_post_by_hand", "ledger_reverse_by_hand"}):
            missing.append(name)
    assert not missing, f"These money paths do not use the shared controls: {missing}"


# The limits in force, per role ----------------------------------------------------------------

OFFICERS = [Role.INCOME_OFFICER, Role.DEFERRED_PAYMENT_OFFICER, Role.DIRECT_PAYMENT_OFFICER,
            Role.RESOURCE_MANAGEMENT_OFFICER]
NOBODY: dict = {}
#: (action, kind, direction) -> {role: (alone up to, approve up to)}; None alone: never alone;
#: False approve: may not approve; None approve: any amount. Roles not named may do neither.
CONTROLS = {
    (A.MANUAL_POSTING, "charge", "increase"): {
        **{r: (D("2000.00"), False) for r in OFFICERS}, Role.TEAM_LEADER: (D("2000.00"), D("10000.00")),
        Role.SYSTEM_ACCOUNT: (D("5000.00"), False)},
    (A.MANUAL_POSTING, "payment", "reduce"): {Role.TEAM_LEADER: (None, D("10000.00")),
                                              Role.SYSTEM_ACCOUNT: (D("5000.00"), False)},
    (A.MANUAL_POSTING, "credit", "reduce"): {Role.TEAM_LEADER: (None, D("10000.00"))},
    (A.MANUAL_POSTING, "adjustment", "reduce"): {Role.TEAM_LEADER: (None, D("10000.00"))},
    (A.MANUAL_POSTING, "refund", "increase"): {Role.TEAM_LEADER: (None, D("10000.00"))},
    (A.LEDGER_REVERSAL, "", "reduce"): {Role.TEAM_LEADER: (D("1000.00"), D("10000.00"))},
    (A.REFUND, "", ""): {Role.INCOME_OFFICER: (D("250.00"), False),
                         Role.RESOURCE_MANAGEMENT_OFFICER: (D("250.00"), False),
                         Role.TEAM_LEADER: (D("1000.00"), D("10000.00"))},
    (A.CREDIT_NOTE, "", ""): {Role.TEAM_LEADER: (D("2500.00"), D("10000.00"))},
    (A.DEATH_CREDIT, "", ""): {Role.TEAM_LEADER: (None, None)},
    (A.CLAIM_OVERRIDE, "", ""): {Role.TEAM_LEADER: (None, D("25000.00"))},
    (A.OVERPAYMENT_WAIVER, "", ""): {Role.TEAM_LEADER: (None, D("5000.00"))},
    (A.DP_SURPLUS_WAIVER, "", ""): {Role.TEAM_LEADER: (None, D("5000.00"))},
    (A.DPA_FEE_WAIVER, "", ""): {Role.TEAM_LEADER: (None, D("1000.00"))},
    (A.DPA_REVERSAL, "", ""): {Role.TEAM_LEADER: (D("1000.00"), D("10000.00"))},
}


@pytest.mark.django_db
@pytest.mark.parametrize("key", list(CONTROLS), ids=["-".join(filter(None, k)) for k in CONTROLS])
def test_the_limits_in_force_are_the_declared_matrix(key):
    action, kind, direction = key
    wrong = []
    for role in Role:
        user = UserFactory(username=f"limits-{role.name.lower()}", roles=[role])
        limits = limits_for(user, action, entry_kind=kind, direction=direction, on=date.today())
        expected = CONTROLS[key].get(role, (None, False))
        if (limits.alone, limits.approve) != expected:
            wrong.append(f"{role.value}: alone {limits.alone}, approve {limits.approve}; declared {expected}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.django_db
@pytest.mark.parametrize("action", [a for a in ControlAction if any(k[0] == a for k in CONTROLS)])
def test_the_maker_never_decides_and_a_role_without_an_approval_limit_cannot(action):
    key = next(k for k in CONTROLS if k[0] == action)
    approvers = [r for r, (_, approve) in CONTROLS[key].items() if approve is not False]
    maker = UserFactory(username="matrix-maker", roles=approvers)
    request = ControlRequest.objects.create(
        action=action, amount=D("1.00"), subject="Matrix", summary="Matrix", reason="Matrix",
        payload={"kind": key[1], "direction": key[2]}, requested_by=maker)
    assert "someone else must decide" in why_cannot_decide(request, maker)
    for role in Role:
        decider = UserFactory(username=f"matrix-decider-{role.name.lower()}", roles=[role])
        reason = why_cannot_decide(request, decider)
        if role in approvers:
            assert reason is None, (role, reason)
        else:
            assert reason is not None, role


@pytest.mark.django_db
def test_every_action_that_can_be_requested_has_someone_who_may_decide_it():
    """A request nobody may approve would wait for ever: every registered executor's action has a
    role with an approval limit in force."""
    from django.apps import apps

    from casework.services.controls import _EXECUTORS

    assert apps.ready and {A.MANUAL_POSTING, A.LEDGER_REVERSAL} <= set(_EXECUTORS)
    nobody = []
    for action in _EXECUTORS:
        deciders = [role for role in Role
                    if limits_for(UserFactory(username=f"decide-{action}-{role.name.lower()}", roles=[role]), action,
                                  entry_kind="credit", direction="reduce").approve is not False]
        if not deciders:
            nobody.append(action)
    assert not nobody, f"Nobody may approve: {nobody}"
