"""Sharing and exchange (共享交换): applications, grants, interfaces, metering, monitoring."""
