"""``python -m index`` is ``spotindex``."""

from index.cli import main

main()
