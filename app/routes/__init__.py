"""HTTP routes, one module per resource. Each handler makes exactly one SQL API call (app/queries.py);
errors are answered by app/errors.py."""
