"""Database access: the connection pool, the SQL API calls, and where the SQL files are."""
