"""Security: how data may leave the bureau, and proof of who let it.

- `grades`: the grade vocabulary (核心 > 重要 > L4 … L1, GB/T 43697-2024) everyone reads.
- `classify`: suggested field kinds and grades from names, comments and sample values.
- `grading`: the classification scheme (sector → business) and every catalog field's grade,
  suggested and then confirmed by a person with who and when; a table's grade is its highest.
- `deid`: de-identification methods compiled into the reading SQL, and the grade × audience
  policy (`view_for`) that reads only confirmed grades.
- `crypto`, `fields`: 国产密码 (SM3/SM4) for secrets and protected warehouse columns.
- `audit`: the tamper-evident Merkle audit log with signed checkpoints.
"""
