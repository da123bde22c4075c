import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

from config.heap import freeze_startup_heap

# A WSGI server is production: a launch that forgets DJANGO_SETTINGS_MODULE fails loudly on a
# missing SECRET_KEY instead of running with DEBUG on.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
application = get_wsgi_application()
# Import every URLconf and view module, and index the names `reverse()` reads, while starting:
# left to the first request, that request (a page after a deploy, a webhook delivery) paid
# ~210 ms of CPU for it, once per server process.
get_resolver().reverse_dict  # noqa: B018 (the property builds the resolver's indexes)
# Start-up's objects live as long as the process: keep full collections from walking them in the
# middle of a request (config/heap.py).
freeze_startup_heap()
