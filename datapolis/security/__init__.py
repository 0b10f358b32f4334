"""Security: 国产密码 (SM3/SM4) now; classification, de-identification and audit to come."""
