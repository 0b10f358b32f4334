"""Log-based change capture: PostgreSQL logical replication and MySQL/MariaDB binlog."""
