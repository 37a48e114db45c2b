"""Units of I/O and computation: database reads and writes, notifications, files."""
