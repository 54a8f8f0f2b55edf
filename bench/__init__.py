"""fastqueue benchmark: `make bench` (python -m bench)."""
