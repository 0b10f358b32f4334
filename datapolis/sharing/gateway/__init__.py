"""The sharing gateway: caller authentication and the interfaces granted resources publish."""
