# `python -m app` runs the command line, which lives with the other front doors in server/.
# This launcher is the one file in app/ that names a front door; nothing imports it.
from server.cli import main

main()
