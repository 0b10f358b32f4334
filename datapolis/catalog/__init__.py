"""The resource catalog (政务信息资源目录): entries, information items, data standards."""
