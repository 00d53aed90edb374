"""The surplus working (rule DPy-05, worked example WE-12), pure arithmetic to the penny.

surplus      = closing balance − liabilities still to pay − contingency
contingency  = contingency weeks × gross weekly budget
recoverable  = surplus − client contribution overpaid in the period (refunded to the client
               first), never below zero
"""
from dataclasses import dataclass
from decimal import Decimal

from casework.money import ZERO, format_pounds, to_pennies


@dataclass(frozen=True)
class Working:
    closing_balance: Decimal
    liabilities: tuple[tuple[str, Decimal], ...]
    weekly_budget: Decimal
    contingency_weeks: int
    contribution_refund: Decimal = ZERO

    @property
    def liabilities_total(self) -> Decimal:
        return to_pennies(sum((amount for _, amount in self.liabilities), ZERO))

    @property
    def contingency(self) -> Decimal:
        return to_pennies(self.weekly_budget * self.contingency_weeks)

    @property
    def surplus(self) -> Decimal:
        return max(to_pennies(self.closing_balance - self.liabilities_total - self.contingency), ZERO)

    @property
    def recoverable(self) -> Decimal:
        return max(to_pennies(self.surplus - self.contribution_refund), ZERO)

    def steps(self) -> list[tuple[str, str]]:
        """The working as lines an officer (and the recipient's letter) can follow."""
        rows = [("Closing balance", format_pounds(self.closing_balance))]
        rows += [(f"Less {label}", format_pounds(-amount)) for label, amount in self.liabilities]
        rows.append((f"Less contingency: {self.contingency_weeks} weeks × {format_pounds(self.weekly_budget)}",
                     format_pounds(-self.contingency)))
        rows.append(("Surplus", format_pounds(self.surplus)))
        if self.contribution_refund:
            rows.append(("Less client contribution overpaid, refunded to the client first",
                         format_pounds(-self.contribution_refund)))
        rows.append(("To recover", format_pounds(self.recoverable)))
        return rows


def contribution_overpaid(*, paid_in: Decimal, weekly_contribution: Decimal, days: int) -> Decimal:
    """What the client paid into the account above their assessed contribution for the days."""
    expected = to_pennies(weekly_contribution * days / 7)
    return max(to_pennies(paid_in - expected), ZERO)
