import os

from django.core.wsgi import get_wsgi_application

from helpdesk.heap import freeze_startup_heap

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
application = get_wsgi_application()
# Only servers import this module (gunicorn, granian, runserver): see helpdesk/heap.py.
freeze_startup_heap()
