"""Classification and grading (分类分级): the category scheme, field grades and their confirmation.

`scheme` keeps the bureau's categories (sector → business); `service` stores each catalog
item's suggested grade (from `datapolis.security.classify`) and the grade a person confirmed,
with who and when, and computes an entry's grade as its highest field grade.
"""
