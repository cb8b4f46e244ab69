"""gunicorn settings for Draftflow: `gunicorn -c deploy/gunicorn.conf.py "app:create_app()"`."""

import multiprocessing

# Loopback only: nginx in front terminates HTTPS (TRUSTED_PROXIES=1 in the environment).
bind = "127.0.0.1:8000"
# Sync workers: requests are short and the database does the waiting. Two per core plus
# one keeps a core busy while another worker waits on PostgreSQL.
workers = multiprocessing.cpu_count() * 2 + 1
# The consolidation report of a 3,000-comment round takes a few seconds to build.
timeout = 60
graceful_timeout = 30
# Recycle workers now and then, so a slow leak in a library cannot grow for weeks.
max_requests = 2000
max_requests_jitter = 200
# Logs go to the journal. The access log has paths, never request bodies or
# Authorization headers.
accesslog = "-"
errorlog = "-"
