"""What the test files share: free ports, a PostgreSQL cluster of a test's own, `fastqueue server` processes."""
