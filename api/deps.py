"""Annotated dependencies: what a route needs, built once in the lifespan (the composition root)."""

from __future__ import annotations

from typing import Annotated

import asyncpg
from fastapi import Depends, Request

from api.publisher import Publisher
from laowu.intake import Intake
from laowu.settings import Settings


async def _pool(request: Request) -> asyncpg.Pool:
    return request.app.state.pool


async def _publisher(request: Request) -> Publisher:
    return request.app.state.publisher


async def _intake(request: Request) -> Intake:
    return request.app.state.intake


async def _settings(request: Request) -> Settings:
    return request.app.state.settings


PoolDep = Annotated[asyncpg.Pool, Depends(_pool)]
PublisherDep = Annotated[Publisher, Depends(_publisher)]
IntakeDep = Annotated[Intake, Depends(_intake)]
SettingsDep = Annotated[Settings, Depends(_settings)]
