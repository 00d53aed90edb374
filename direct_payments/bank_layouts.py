"""The column layouts of UK banks' and prepaid card providers' CSV exports, as data.

An officer uploading the first statement from one of these names it and nothing else: its saved
mapping (a BankFormat row) is made from the layout here, and every later statement uses that row.
A bank not listed is mapped by hand on the upload form and saved the same way. Each layout is the
bank's published export as its customers download it (docs/formats.md, "Direct payment statements");
tests/data/bank_statements/ holds a sample of each.
"""
from .constants import DateFormat

#: name -> BankFormat fields. A blank balance column: the export has none, so the officer enters the
#: opening and closing balance on upload.
LAYOUTS: dict[str, dict[str, str]] = {
    "Barclays": {"date_column": "Date", "description_column": "Memo", "amount_column": "Amount",
                 "balance_column": ""},
    "Lloyds Bank": {"date_column": "Transaction Date", "description_column": "Transaction Description",
                    "paid_out_column": "Debit Amount", "paid_in_column": "Credit Amount", "balance_column": "Balance"},
    "Halifax": {"date_column": "Transaction Date", "description_column": "Transaction Description",
                "paid_out_column": "Debit Amount", "paid_in_column": "Credit Amount", "balance_column": "Balance"},
    "NatWest": {"date_column": "Date", "description_column": "Description", "amount_column": "Value",
                "balance_column": "Balance", "date_format": DateFormat.UK_SHORT_MONTH},
    "HSBC UK": {"date_column": "Date", "description_column": "Description", "amount_column": "Amount",
                "balance_column": ""},
    "Santander": {"date_column": "Date", "description_column": "Description", "amount_column": "Amount",
                  "balance_column": "Balance"},
    "Nationwide": {"date_column": "Date", "description_column": "Description", "paid_out_column": "Paid out",
                   "paid_in_column": "Paid in", "balance_column": "Balance",
                   "date_format": DateFormat.UK_SHORT_MONTH},
    "TSB": {"date_column": "Transaction date", "description_column": "Transaction description",
            "paid_out_column": "Debit amount", "paid_in_column": "Credit amount", "balance_column": "Balance",
            "date_format": DateFormat.ISO},
    "Monzo": {"date_column": "Date", "description_column": "Description", "payee_column": "Name",
              "amount_column": "Amount", "balance_column": ""},
    "Starling Bank": {"date_column": "Date", "description_column": "Reference", "payee_column": "Counter Party",
                      "amount_column": "Amount (GBP)", "balance_column": "Balance (GBP)"},
    # Prepaid card providers
    "Allpay prepaid card": {"date_column": "Date", "description_column": "Transaction Details",
                            "paid_in_column": "Money In", "paid_out_column": "Money Out", "balance_column": "Balance"},
    "PFS prepaid card": {"date_column": "Transaction Date", "description_column": "Description",
                         "payee_column": "Merchant", "amount_column": "Amount", "balance_column": "Balance"},
}

FIELDS = ("date_column", "description_column", "payee_column", "amount_column", "paid_in_column", "paid_out_column",
          "balance_column")


def layout_for(name: str) -> dict[str, str] | None:
    """The known layout for a bank named as an officer might type it ("lloyds bank", "TSB "), or None."""
    wanted = " ".join(name.split()).lower()
    for known, layout in LAYOUTS.items():
        if known.lower() == wanted:
            return {"name": known, "date_format": layout.get("date_format", DateFormat.UK),
                    **{f: layout.get(f, "") for f in FIELDS}}
    return None
