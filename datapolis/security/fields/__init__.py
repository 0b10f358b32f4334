"""Field encryption (国产密码): designated sensitive warehouse columns stored as SM4-GCM
ciphertext with an HMAC-SM3 blind index, so equality lookups and joins still work in SQL.
See docs/security.md, "Field encryption"."""
