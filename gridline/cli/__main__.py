"""python -m gridline.cli: the `gridline` command, for a child process of the same Python."""

from gridline.cli import main

main()
