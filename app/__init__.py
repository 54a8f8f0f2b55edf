"""fastqueue: a pub/sub message queue whose logic lives in PostgreSQL."""

__version__ = "2.0.0.dev0"
