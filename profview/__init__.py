"""profview: a desktop viewer for the request profiles of Flask and WSGI apps."""

__version__ = "0.1.0"
