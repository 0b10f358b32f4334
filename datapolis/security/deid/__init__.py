"""De-identification (GB/T 37964): methods applied in the SQL that reads the data, the
k-anonymity check, and the policy of what each audience may see."""

from datapolis.security.deid import aligned
from datapolis.security.deid.kanon import Report, Suggestion, check, suggest
from datapolis.security.deid.keys import KeyContext, consumer_key, release_key
from datapolis.security.deid.methods import METHODS, DeidError, Method, Param, method, register
from datapolis.security.deid.plans import Plan, Rule, deidentified_select, read, read_batches
from datapolis.security.deid.policy import POLICY, default, view_for

__all__ = ["METHODS", "POLICY", "DeidError", "KeyContext", "Method", "Param", "Plan", "Report",
           "Rule", "Suggestion", "aligned", "check", "consumer_key", "default",
           "deidentified_select", "method", "read", "read_batches", "register", "release_key",
           "suggest", "view_for"]
