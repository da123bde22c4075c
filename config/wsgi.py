import os

from django.core.wsgi import get_wsgi_application

# A WSGI server is production: a launch that forgets DJANGO_SETTINGS_MODULE fails loudly on a
# missing SECRET_KEY instead of running with DEBUG on.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
application = get_wsgi_application()
