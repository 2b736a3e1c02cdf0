#!/usr/bin/env python
"""Django's command-line utility for administrative tasks (the same as ``valueportrait``)."""

from config.manage import main

if __name__ == "__main__":
    main()
