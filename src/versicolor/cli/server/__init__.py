"""Commands that work on the server's own database, run on the machine that serves Versicolor.

The server's modules are imported inside the commands, so that the commands over HTTP start without loading
them (tests/test_architecture.py checks that importing the command line loads no server module).
"""
