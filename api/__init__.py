"""FastAPI service: takes events in (202 + receipt), answers queries from PostgreSQL."""
