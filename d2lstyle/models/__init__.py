"""The trained networks of notebook 8: NAME.pt, each with its training record (see d2lstyle/fast.py)."""
