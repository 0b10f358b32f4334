"""The open-data portal (公共数据开放网): open datasets, the CKAN Action API, DCAT-AP, usage.

datasets (what is open, searched, previewed, streamed) ← ckan (Action API dicts and routes),
dcat (the DCAT-AP 3.0.1 graph and its routes), usage (view, download and API call counters).
"""
