import os

from django.core.wsgi import get_wsgi_application

from config.heap import freeze_startup_heap

# A WSGI server is production: a launch that forgets DJANGO_SETTINGS_MODULE fails loudly on a
# missing SECRET_KEY instead of running with DEBUG on.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
application = get_wsgi_application()
# Start-up's objects live as long as the process: keep full collections from walking them in the
# middle of a request (config/heap.py).
freeze_startup_heap()
