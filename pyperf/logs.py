"""Logging: one line per event, with its level and logger, as text
(`ts level logger: message`) or JSON (`--log-format json`: one object per
line, for journald/Loki/ELK). Secrets never reach a line: every record passes
a filter that masks URL credentials and query strings, and the values
registered with `secret()` (tokens, the store password) wherever they appear."""

from __future__ import annotations

import json
import logging
import re
import sys
import threading

MASK = "***"
# scheme://user:password@host -> scheme://user:***@host; a URL's query (tokens ride there) -> ?***
_URL_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^\s/:@]*:)[^\s@/]+@", re.I)
_URL_QUERY = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^\s?#]+)\?[^\s#\"']+", re.I)
_secrets: set[str] = set()
_lock = threading.Lock()


def secret(value: str | None) -> None:
    """Mask this value in every log line from now on (values under 6 characters
    are too common to mask without damaging lines)."""
    if value and len(value) >= 6:
        with _lock:
            _secrets.add(value)


def mask(text: str) -> str:
    text = _URL_PASSWORD.sub(rf"\g<1>{MASK}@", text)
    text = _URL_QUERY.sub(rf"\g<1>?{MASK}", text)
    for s in tuple(_secrets):
        if s in text:
            text = text.replace(s, MASK)
    return text


class _Masking(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg, record.args = mask(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        return True


class _Json(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {"ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}",
               "level": record.levelname.lower(), "logger": record.name, "msg": record.getMessage()}
        if record.exc_text:
            out["error"] = record.exc_text
        return json.dumps(out, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup(verbose: bool, fmt: str = "text") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Json() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    handler.addFilter(_Masking())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
