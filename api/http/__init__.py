"""The HTTP entry point: the FastAPI app factory, routers, schemas and problem documents."""

from api.http.app import create_app

__all__ = ["create_app"]
