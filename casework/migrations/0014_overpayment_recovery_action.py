"""The money controls name a provider overpayment approved for recovery, so its maker and checker
are on the separation report."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('casework', '0013_money_control_limits'),
    ]

    operations = [
        migrations.AlterField(
            model_name='controllimit',
            name='action',
            field=models.CharField(choices=[('manual_posting', 'Ledger entry posted by hand'), ('ledger_reversal', 'Reversal of a ledger entry'), ('write_off', 'Write-off'), ('credit_note', 'Credit note'), ('refund', 'Refund to a client'), ('death_credit', 'Credit for care after a death'), ('claim_override', 'Provider claim line override'), ('claim_approval', 'Provider claim approval'), ('payment_run', 'Provider payment run release'), ('urgent_payment', 'Urgent provider payment'), ('overpayment_recovery', 'Provider overpayment approved for recovery'), ('overpayment_waiver', 'Provider overpayment waived'), ('dp_surplus_recovery', 'Direct payment surplus recovery'), ('dp_surplus_waiver', 'Direct payment surplus waived'), ('dpa_fee_waiver', 'Deferred payment fee waived'), ('dpa_reversal', 'Deferred payment posting reversed'), ('bank_details', 'Provider bank details change'), ('rate_change', 'Provider rate change'), ('uplift', 'Annual uplift of provider rates')], max_length=30),
        ),
        migrations.AlterField(
            model_name='controlrequest',
            name='action',
            field=models.CharField(choices=[('manual_posting', 'Ledger entry posted by hand'), ('ledger_reversal', 'Reversal of a ledger entry'), ('write_off', 'Write-off'), ('credit_note', 'Credit note'), ('refund', 'Refund to a client'), ('death_credit', 'Credit for care after a death'), ('claim_override', 'Provider claim line override'), ('claim_approval', 'Provider claim approval'), ('payment_run', 'Provider payment run release'), ('urgent_payment', 'Urgent provider payment'), ('overpayment_recovery', 'Provider overpayment approved for recovery'), ('overpayment_waiver', 'Provider overpayment waived'), ('dp_surplus_recovery', 'Direct payment surplus recovery'), ('dp_surplus_waiver', 'Direct payment surplus waived'), ('dpa_fee_waiver', 'Deferred payment fee waived'), ('dpa_reversal', 'Deferred payment posting reversed'), ('bank_details', 'Provider bank details change'), ('rate_change', 'Provider rate change'), ('uplift', 'Annual uplift of provider rates')], max_length=30),
        ),
        migrations.AlterField(
            model_name='historicalcontrolrequest',
            name='action',
            field=models.CharField(choices=[('manual_posting', 'Ledger entry posted by hand'), ('ledger_reversal', 'Reversal of a ledger entry'), ('write_off', 'Write-off'), ('credit_note', 'Credit note'), ('refund', 'Refund to a client'), ('death_credit', 'Credit for care after a death'), ('claim_override', 'Provider claim line override'), ('claim_approval', 'Provider claim approval'), ('payment_run', 'Provider payment run release'), ('urgent_payment', 'Urgent provider payment'), ('overpayment_recovery', 'Provider overpayment approved for recovery'), ('overpayment_waiver', 'Provider overpayment waived'), ('dp_surplus_recovery', 'Direct payment surplus recovery'), ('dp_surplus_waiver', 'Direct payment surplus waived'), ('dpa_fee_waiver', 'Deferred payment fee waived'), ('dpa_reversal', 'Deferred payment posting reversed'), ('bank_details', 'Provider bank details change'), ('rate_change', 'Provider rate change'), ('uplift', 'Annual uplift of provider rates')], max_length=30),
        ),
        migrations.AlterField(
            model_name='moneyaction',
            name='action',
            field=models.CharField(choices=[('manual_posting', 'Ledger entry posted by hand'), ('ledger_reversal', 'Reversal of a ledger entry'), ('write_off', 'Write-off'), ('credit_note', 'Credit note'), ('refund', 'Refund to a client'), ('death_credit', 'Credit for care after a death'), ('claim_override', 'Provider claim line override'), ('claim_approval', 'Provider claim approval'), ('payment_run', 'Provider payment run release'), ('urgent_payment', 'Urgent provider payment'), ('overpayment_recovery', 'Provider overpayment approved for recovery'), ('overpayment_waiver', 'Provider overpayment waived'), ('dp_surplus_recovery', 'Direct payment surplus recovery'), ('dp_surplus_waiver', 'Direct payment surplus waived'), ('dpa_fee_waiver', 'Deferred payment fee waived'), ('dpa_reversal', 'Deferred payment posting reversed'), ('bank_details', 'Provider bank details change'), ('rate_change', 'Provider rate change'), ('uplift', 'Annual uplift of provider rates')], db_index=True, max_length=30),
        ),
    ]
