"""The HTTP gateway: the FastAPI application (main.py), its routes, middleware and answers."""
