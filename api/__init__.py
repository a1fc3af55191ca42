"""The REST API (FastAPI). `create_app()` builds it; nothing runs at import."""
