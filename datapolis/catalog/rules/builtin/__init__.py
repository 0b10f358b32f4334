"""The built-in normalisation rules, one module per GB/T 21063 metadata group."""
