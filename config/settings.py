"""Settings for the inbox, all read from the environment.

With no environment at all this runs the embedded default (`make run`): SQLite, the in-memory
channel layer, Celery tasks run eagerly, DEBUG on, a generated dev secret, and the local
simulator standing in for Meta. DATABASE_URL and REDIS_URL switch to the real services.
"""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config import env

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env.env_bool("DEBUG", True)

SECRET_KEY = env.env_str("SECRET_KEY")
SECRET_KEY_FROM_ENV = bool(SECRET_KEY)
if not SECRET_KEY:
    # Production refuses to start without one (config/checks.py); development gets its own.
    SECRET_KEY = env.dev_secret_key(BASE_DIR) if DEBUG else "missing-secret-key-see-system-checks"

ALLOWED_HOSTS = env.env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "channels",
    "django_htmx",
    "template_partials",
    "ninja",
    "core",
    "whatsapp",
    "conversations",
    "templates_app",
    "billing",
    "notifications",
    "campaigns",
    "webhooks",
    "inbox",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "inbox.middleware.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "inbox.middleware.ReadsPlannedOnceMiddleware",
    "inbox.middleware.DatabaseUnavailableMiddleware",
    "inbox.middleware.UserTimezoneMiddleware",
    "inbox.middleware.ErrorPagesInRequestThreadMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = None
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "inbox.context_processors.navigation",
            ],
        },
    },
]

DATABASE_URL = env.env_str("DATABASE_URL")
DATABASES = {
    "default": env.database_config(
        DATABASE_URL,
        base_dir=BASE_DIR,
        pool_max_size=env.env_int("DATABASE_POOL_MAX_SIZE", 10),
        conn_max_age=env.env_int("DATABASE_CONN_MAX_AGE", 0),
        pool_timeout=env.env_int("DATABASE_POOL_TIMEOUT", 10),
        prepare_threshold=env.env_prepare_threshold("DATABASE_PREPARE_THRESHOLD", 5),
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.validate_redis_url(env.env_str("REDIS_URL"))
CHANNEL_LAYERS = env.channel_layers(REDIS_URL)

_celery = env.celery_config(REDIS_URL, eager=env.env_bool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL))
CELERY_BROKER_URL = _celery["broker_url"]
CELERY_RESULT_BACKEND = _celery["result_backend"]
CELERY_TASK_ALWAYS_EAGER = _celery["task_always_eager"]
CELERY_TASK_EAGER_PROPAGATES = _celery["task_eager_propagates"]
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_TIME_LIMIT = 120
CELERY_TASK_SOFT_TIME_LIMIT = 90
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE: dict[str, dict] = {}
# Snoozed conversations reopen when their time comes (conversations.tasks).
CELERY_BEAT_SCHEDULE["conversations-wake-snoozed"] = {
    "task": "conversations.tasks.conversations_wake_snoozed",
    "schedule": 60.0,
}
# Old webhook events are purged (the processor needs no sweep: stored events are its queue).
CELERY_BEAT_SCHEDULE["webhooks-purge"] = {"task": "webhooks.tasks.webhook_events_purge", "schedule": 86400.0}
# Meta's throughput per business number (80 by default, up to 1,000 after an upgrade): the
# shared pacing in Redis keeps every worker together under it (conversations/pacing.py).
NUMBER_RATE_PER_SECOND = env.env_int("NUMBER_RATE_PER_SECOND", 80)
# Unique customers reachable outside the window in 24 h (Meta's messaging-limit tier); the
# campaign dry run lists recipients beyond it.
CAMPAIGN_MESSAGING_LIMIT = env.env_int("CAMPAIGN_MESSAGING_LIMIT", 2000)
# Queued messages whose delivery publish was lost (Redis down, a worker killed) are sent: those
# older than this many seconds that no worker claimed.
DELIVERY_SWEEP_AFTER_SECONDS = env.env_int("DELIVERY_SWEEP_AFTER_SECONDS", 60)
# Queued messages whose delivery publish was lost (Redis down, a worker killed) are sent.
CELERY_BEAT_SCHEDULE["conversations-deliver-queued"] = {
    "task": "conversations.tasks.messages_deliver_queued",
    "schedule": 30.0,
}
# Idempotency-Keys of the notifications API are kept 48 hours (24 promised).
CELERY_BEAT_SCHEDULE["notifications-purge-idempotency"] = {
    "task": "notifications.tasks.idempotency_records_purge",
    "schedule": 3600.0,
}
# Outbound messages whose delivery worker died mid-send are failed, never resent.
CELERY_BEAT_SCHEDULE["conversations-stuck-sending"] = {
    "task": "conversations.tasks.messages_stuck_sending_fail",
    "schedule": 300.0,
}
# Templates made in Meta's manager are imported, and statuses a missed webhook left stale fixed.
CELERY_BEAT_SCHEDULE["templates-sync"] = {"task": "templates_app.tasks.templates_sync_all", "schedule": 900.0}
# Status webhooks parked for a wamid that never became ours (conversations.EarlyStatus).
CELERY_BEAT_SCHEDULE["conversations-purge-early-statuses"] = {
    "task": "conversations.tasks.early_statuses_purge",
    "schedule": 3600.0,
}
# Running campaigns whose sender task was lost are woken; recipients follow their messages' statuses.
CELERY_BEAT_SCHEDULE["campaigns-resume"] = {"task": "campaigns.tasks.campaigns_resume_running", "schedule": 60.0}
CELERY_BEAT_SCHEDULE["campaigns-sync"] = {"task": "campaigns.tasks.campaigns_sync", "schedule": 10.0}
# Callback deliveries whose retry publish was lost are tried when due (queue "callbacks").
CELERY_BEAT_SCHEDULE["notifications-callbacks-due"] = {"task": "notifications.tasks.callbacks_due", "schedule": 60.0}

if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# The user, profile, groups and permissions in one query a request (inbox/auth_backend.py).
# Django's own backend stays second only so that sessions signed in before it still resolve (a
# session names its backend). It makes the same password check, so it lets in no one the first
# refused; a wrong password is merely checked twice, within the sign-in throttle.
AUTHENTICATION_BACKENDS = ["inbox.auth_backend.InboxBackend", "django.contrib.auth.backends.ModelBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_HTTPONLY = True
# Wrong passwords per username and per address within LOGIN_THROTTLE_WINDOW seconds before sign-in
# is refused for that long, even with the right password (counted in the cache: Redis in production).
LOGIN_THROTTLE_ATTEMPTS = env.env_int("LOGIN_THROTTLE_ATTEMPTS", 5)
LOGIN_THROTTLE_WINDOW = env.env_int("LOGIN_THROTTLE_WINDOW", 600)
# An office behind one address makes more honest typos than one person: a higher limit there.
LOGIN_THROTTLE_ADDRESS_ATTEMPTS = env.env_int("LOGIN_THROTTLE_ADDRESS_ATTEMPTS", 20)

# --- HTTPS in production (DEBUG off); see the README's Production section ------------------------
# http is redirected to https. Switch it off only where there is no TLS at all (a local smoke test).
SECURE_SSL_REDIRECT = env.env_bool("SECURE_SSL_REDIRECT", not DEBUG)
# Behind a proxy that terminates TLS, name the header it sets (X-Forwarded-Proto): only when the
# proxy always overwrites it, since whoever sets it is believed about https.
if env.env_str("SECURE_PROXY_SSL_HEADER"):
    SECURE_PROXY_SSL_HEADER = (env.meta_header(env.env_str("SECURE_PROXY_SSL_HEADER")), "https")
# Browsers keep to https for a year after their first visit (sent on https answers only).
SECURE_HSTS_SECONDS = env.env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
# Preloading is a promise to browsers' built-in lists that is slow to undo: the operator's choice.
SECURE_HSTS_PRELOAD = env.env_bool("SECURE_HSTS_PRELOAD", False)
SILENCED_SYSTEM_CHECKS = ["security.W021"] if not SECURE_HSTS_PRELOAD else []
SESSION_COOKIE_SECURE = env.env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env.env_bool("CSRF_COOKIE_SECURE", not DEBUG)
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_HTTPONLY = True
# /api/v1/docs and /api/v1/openapi.json without signing in (by default only in development).
API_DOCS_PUBLIC = env.env_bool("API_DOCS_PUBLIC", DEBUG)

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("de", _("German"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.env_str("STATIC_ROOT") or BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# Serve static files straight from the apps in development and tests; production runs collectstatic.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_ROOT = Path(env.env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
MEDIA_URL = "media/"

# --- WhatsApp Cloud API -------------------------------------------------------------------
WHATSAPP_APP_SECRET = env.env_str("WHATSAPP_APP_SECRET", "dev-app-secret" if DEBUG else "")
WHATSAPP_VERIFY_TOKEN = env.env_str("WHATSAPP_VERIFY_TOKEN", "dev-verify-token" if DEBUG else "")
WHATSAPP_ACCESS_TOKEN = env.env_str("WHATSAPP_ACCESS_TOKEN", "dev-access-token" if DEBUG else "")
# The default is the local simulator (`python manage.py simulator`), never Meta by accident.
WHATSAPP_GRAPH_URL = env.validate_base_url(
    "WHATSAPP_GRAPH_URL", env.env_str("WHATSAPP_GRAPH_URL", "http://127.0.0.1:8001")
)
WHATSAPP_API_VERSION = env.validate_api_version(env.env_str("WHATSAPP_API_VERSION", "v26.0"))
WHATSAPP_HTTP_TIMEOUT = env.env_int("WHATSAPP_HTTP_TIMEOUT", 10)
# Inbound media larger than this is not downloaded (Meta itself refuses over 100 MB).
WHATSAPP_MEDIA_MAX_BYTES = env.env_int("WHATSAPP_MEDIA_MAX_BYTES", 100 * 1024 * 1024)
# Meta may batch up to 1000 updates; bodies reach 3 MB.
WEBHOOK_MAX_BODY_BYTES = env.env_int("WEBHOOK_MAX_BODY_BYTES", 3 * 1024 * 1024)
# Raw webhook events are kept this long (webhooks_purge, and daily on beat).
WEBHOOK_RETENTION_DAYS = env.env_int("WEBHOOK_RETENTION_DAYS", 90)
# Apply each stored webhook in the request that stored it, after commit: the single-process
# default (`make run`, no Redis), where no processor runs. With Redis, `process_webhooks` applies
# them in batches and the request only stores.
WEBHOOKS_PROCESS_INLINE = env.env_bool("WEBHOOKS_PROCESS_INLINE", not REDIS_URL)
# Free service messages per business number and calendar month from 2026-10-01 (billing rules).
BILLING_SERVICE_FREE_TIER = env.env_int("BILLING_SERVICE_FREE_TIER", 1000)
DATA_UPLOAD_MAX_MEMORY_SIZE = WEBHOOK_MAX_BODY_BYTES + 1024
# A customer message that is only one of these words (any case, punctuation ignored) opts the
# contact out of marketing; so does a quick-reply button with one of the button payloads/titles.
CONVERSATIONS_OPT_OUT_KEYWORDS = env.env_list(
    "CONVERSATIONS_OPT_OUT_KEYWORDS", ["STOP", "STOPP", "ABMELDEN", "UNSUBSCRIBE", "PARAR", "SAIR"]
)
CONVERSATIONS_OPT_OUT_BUTTONS = env.env_list(
    "CONVERSATIONS_OPT_OUT_BUTTONS", ["STOP_PROMO", "STOP_PROMOTIONS", "Stop promotions", "Werbung stoppen"]
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # An expected 403 or 404 is one line; 500s keep their traceback (config/log_filters.py). On
    # django.request itself, so every handler gets the short record; on the console too, for the
    # 400s of django.security's loggers.
    "filters": {"client_errors_short": {"()": "config.log_filters.ClientErrorsWithoutTraceback"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["client_errors_short"]}
    },
    "loggers": {
        # Naming "django" drops the handlers Django gives it by default (its own console in DEBUG,
        # mail to ADMINS, which we do not set): its records reach the root's console once.
        "django": {"level": "INFO"},
        "django.request": {"filters": ["client_errors_short"]},
    },
    "root": {"handlers": ["console"], "level": env.env_str("LOG_LEVEL", "INFO")},
}

if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG is off (comma-separated host names)")
