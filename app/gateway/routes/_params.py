"""Query parameters shared by the list routes, bounded as the SQL functions bound them."""

from typing import Annotated

from fastapi import Query

from ...limits import MAX_PAGE_SIZE
from ..schemas import INT4_MAX

Offset = Annotated[int, Query(ge=0, le=INT4_MAX, description="How many items to skip.")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Page size.")]
