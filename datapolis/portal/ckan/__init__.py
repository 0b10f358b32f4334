"""CKAN Action API: dicts (our records as CKAN shapes), actions (the registry), api (routes)."""
