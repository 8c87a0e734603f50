"""The dashboard's pages: one blueprint each, listed once here; the navigation,
the range picker's links and the tests all read PAGES."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Page:
    name: str          # blueprint name
    title: str         # navigation label
    path: str          # URL of the page


PAGES = (
    Page("disk", "Disk", "/"),
    Page("cpu", "CPU & scheduler", "/cpu"),
)
