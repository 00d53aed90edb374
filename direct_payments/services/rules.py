"""The finance administrator's categorisation rules, and applying them again to an audit."""
from django.db import transaction

from casework.services import DomainError

from .. import rules as rule_logic
from ..constants import AuditStatus, Category, Direction, MatchOn
from ..models import Audit, CategoryRule, StatementLine
from .audits import _rules, audit_analyse


@transaction.atomic
def category_rule_save(*, actor, rule: CategoryRule | None = None, pattern: str, category: str,
                       match_on: str = MatchOn.EITHER, direction: str = Direction.ANY, priority: int = 100,
                       active: bool = True) -> CategoryRule:
    """Add a rule or change one; history keeps every version. Lines already imported keep their
    category until an officer applies the rules again to their audit."""
    if not pattern.strip():
        raise DomainError("Enter the text to find", field="pattern")
    if category not in Category.values:
        raise DomainError("Choose a category", field="category")
    rule = rule or CategoryRule()
    rule.pattern, rule.category, rule.match_on, rule.direction = pattern.strip()[:100], category, match_on, direction
    rule.priority, rule.active, rule.updated_by = priority, active, actor
    rule._history_user = actor
    rule.save()
    return rule


@transaction.atomic
def audit_recategorise(*, audit: Audit, actor) -> dict:
    """Apply the current rules to every line of an audit in review, then analyse it again."""
    if audit.status != AuditStatus.IN_REVIEW:
        raise DomainError("Only an audit in review can have its lines categorised again")
    rules = _rules()
    changed = []
    for line in audit.lines.all():
        category, rule = rule_logic.categorise(line, rules)
        if category != line.category or (rule.pk if rule else None) != line.category_rule_id:
            line.category, line.category_rule_id = category, rule.pk if rule else None
            changed.append(line)
    StatementLine.objects.bulk_update(changed, ["category", "category_rule"], batch_size=2000)
    return {"changed": len(changed), **audit_analyse(audit=audit)}
