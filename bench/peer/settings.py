"""Settings of the peer: a minimal Django project serving django-meta-whatsapp's webhook.

bench/peer.py copies this file into a temporary project (as `peerproject.settings`) and runs it
from its own venv, so nothing here imports the inbox. It is configured the way the package's
README says (INSTALLED_APPS, the URLs, the WHATSAPP dict), with Django's default middleware, DEBUG
off and persistent database connections, as a production deployment on gunicorn would have.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

_database = urlsplit(os.environ["PEER_DATABASE_URL"])

SECRET_KEY = os.environ["PEER_SECRET_KEY"]
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django_meta_whatsapp",
]

# What `django-admin startproject` writes: the stack a typical host project has.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "peerproject.urls"
WSGI_APPLICATION = "peerproject.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.contrib.messages.context_processors.messages"]},
    }
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": _database.path.lstrip("/"),
        "USER": _database.username or "",
        "PASSWORD": _database.password or "",
        "HOST": _database.hostname or "",
        "PORT": str(_database.port or ""),
        # A sync worker keeps its connection between requests, as any production settings would.
        "CONN_MAX_AGE": 600,
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

USE_TZ = True
TIME_ZONE = "UTC"

# The package's settings (its README, "Configuration"). It does not check X-Hub-Signature-256,
# so there is no app secret to give it; the verify token only answers Meta's GET handshake.
WHATSAPP = {
    "API_TOKEN": "bench-token",
    "PHONE_NUMBER_ID": os.environ["PEER_PHONE_NUMBER_ID"],
    "WEBHOOK_VERIFY_TOKEN": "bench",
    "VERIFY_TOKEN": "bench",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
