"""The floor of the load test: a bare WSGI "hello" app served by the same gunicorn settings.

gunicorn bench.load.hello_wsgi:application -b 127.0.0.1:8101 -w 4 --threads 2
"""


def application(environ, start_response):
    body = b"hello\n"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
