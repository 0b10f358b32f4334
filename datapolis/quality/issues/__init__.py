"""问题工单: the rectification loop between the bureau's quality checks and the provider
departments. Models in models.py, the state machine in states.py, the service in service.py,
the API, pages and CLI beside them; docs/quality-issues.md describes the loop."""
