"""Client financial affairs for resource management officers: appointeeship, Court of Protection
deputyship, protection of property (Care Act s.47), finance-only cases and mental capacity
assessments about financial decisions. Models live in casework/models/affairs.py."""
