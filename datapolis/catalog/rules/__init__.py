"""Catalog normalisation rules (目录梳理规则): declarative checks on entries, a report per
provider organisation, and the gate that keeps an entry failing a blocking rule unpublished.

`registry` holds the rules (the built-ins in `builtin/` register like any plugin), `context`
preloads what they look at, `checks` runs them, `report` sums them up per organisation.
"""
