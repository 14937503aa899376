"""The demo archive (demo.mbox, built by make_demo.py) and what a maintainer did with it."""
