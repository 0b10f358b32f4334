"""The data highway (数据高速通道): sources, snapshot, incremental and log-based sync into ods."""
