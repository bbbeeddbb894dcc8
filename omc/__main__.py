"""Allow `python -m omc`."""

from omc.cli import main

main()
