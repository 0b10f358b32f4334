"""Monitoring of the sharing interfaces: an hourly rollup of the call records, the pages and
charts over it, alerts on violations, and call statistics for publication."""
