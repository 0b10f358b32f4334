"""Source kinds of the data highway: databases, files and HTTP APIs behind one contract."""
