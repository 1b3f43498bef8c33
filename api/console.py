"""The console: a static page served at / (its third-party assets come from the npm registry
at setup and ship in the package; nothing is fetched from the internet at run time), what it
needs to know of this deployment at /api/v1/console/config, and the names of the
supervision vocabulary in both languages at /api/v1/console/words (the catalogue the API and
text messages use, so the page says what they say)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from api.auth import CurrentUser
from api.deps import services
from domain import AlertKind, Severity, SupervisionLevel, names

STATIC = Path(__file__).parent / "console" / "static"

router = APIRouter(tags=["console"])


class ConsoleConfig(BaseModel):
    tiles_url: str | None = Field(
        default=None,
        description="a basemap tile URL template ({z}/{x}/{y}); None: a plain background",
    )
    tiles_attribution: str = ""
    tiles_crs: Literal["wgs84", "gcj02"] = Field(
        default="wgs84",
        description="gcj02: the provider's tiles are shifted (Chinese providers); positions"
        " and zones are drawn shifted to match",
    )
    tiles_max_zoom: int = 18
    max_body_bytes: int = Field(
        default=4 * 1024 * 1024,
        description="the largest request body the API takes (a zone imported from a file)",
    )
    stale_after_s: float = Field(
        default=900.0, description="a position older than this is drawn greyed with its age"
    )


@router.get("/console/config")
async def console_config(request: Request) -> ConsoleConfig:
    """The basemap and display settings (no sign-in needed: the login page uses them)."""
    config = services(request.app).console
    return config


class Words(BaseModel):
    """Each kind, severity and level in the order to list them, and every name by language,
    keyed `kind_zone_exit`, `severity_high`, `level_strict`."""

    kinds: list[AlertKind]
    severities: list[Severity]
    levels: list[SupervisionLevel]
    en: dict[str, str]
    zh: dict[str, str]


@router.get("/console/words")
async def console_words(user: CurrentUser) -> Words:
    return Words(
        kinds=list(AlertKind),
        severities=list(Severity),
        levels=list(SupervisionLevel),
        en=names("en"),
        zh=names("zh"),
    )


def mount(app: FastAPI) -> None:
    """Serve the page and its assets at /, and the API's documentation at /docs (after
    every API route, which take precedence). Files answer GET and HEAD only, as a route
    rather than a mount at /: a mount would take every other method of every path, and an
    API path asked with the wrong method would answer with the files' Allow header."""

    @app.get("/docs", include_in_schema=False)
    async def docs() -> FileResponse:
        return FileResponse(STATIC / "docs.html")

    files = StaticFiles(directory=STATIC, html=True, check_dir=False)

    async def console_file(request: Request) -> Response:
        return await files.get_response(files.get_path(request.scope), request.scope)

    app.add_route("/{path:path}", console_file, methods=["GET", "HEAD"], include_in_schema=False)
