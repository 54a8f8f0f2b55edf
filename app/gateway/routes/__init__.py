"""HTTP routes, one module per resource. Each handler makes exactly one SQL API call (app/database/queries.py);
errors are answered by app/gateway/errors.py."""
