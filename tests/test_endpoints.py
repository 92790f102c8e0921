"""Requests grouped by view function, seeing through decorators and auth callbacks."""
from __future__ import annotations

import pytest

from profiles import capture_flask, import_fresh, write_modules
from profview.analysis.endpoints import group
from profview.loading.scan import load_capture

LIBRARY = {
    # An auth library, installed like any other (its path holds site-packages): its decorator
    # calls back into the app (a user loader) before it calls the view.
    "site-packages/fakeauth/__init__.py": """
        import functools
        _loader = None

        def user_loader(func):
            global _loader
            _loader = func
            return func

        def _lookup():
            return _loader()

        def _verify():
            user = _lookup()
            if user is None:
                raise PermissionError
            return user

        def token_required(view):
            @functools.wraps(view)
            def wrapper(*args, **kwargs):
                _verify()
                return view(*args, **kwargs)
            return wrapper
    """,
}

APP = {
    "shop/__init__.py": """
        import functools
        from flask import Flask, g
        from fakeauth import token_required, user_loader

        app = Flask(__name__)

        @user_loader
        def load_user():
            return {"name": "alice"}

        def check_admin():
            return sum(range(2000)) > 0

        def admin_only(view):
            @functools.wraps(view)
            def decorated(*args, **kwargs):
                if not check_admin():
                    return "no", 403
                return view(*args, **kwargs)
            return decorated

        def render(items):
            return ",".join(str(i) for i in items)

        @app.get("/")
        def index():
            return render(range(100))

        @app.get("/user/<name>")
        @token_required
        def user(name):
            return render(range(len(name) * 50))

        @app.get("/orders/<int:order_id>")
        @token_required
        def order(order_id):
            return render(range(order_id * 30))

        @app.get("/admin/stats")
        @admin_only
        def stats():
            return render(range(500))

        @app.get("/admin/users")
        @admin_only
        def admin_users():
            return render(range(300))
    """,
}

ALL = [("GET", p, None) for p in (
    "/", "/", "/user/alice", "/user/bob", "/user/carol", "/orders/1", "/orders/2",
    "/admin/stats", "/admin/stats", "/admin/users")]


@pytest.fixture
def shop(tmp_path):
    write_modules(tmp_path / "lib", LIBRARY)
    write_modules(tmp_path / "src", APP)
    import sys
    sys.path.insert(0, str(tmp_path / "lib" / "site-packages"))
    try:
        import_fresh(tmp_path / "lib" / "site-packages", "fakeauth")
        yield import_fresh(tmp_path / "src", "shop").app
    finally:
        sys.path.remove(str(tmp_path / "lib" / "site-packages"))


def _endpoints(path):
    return {e.name: e for e in group(load_capture([path], workers=1))}


def test_views_not_wrappers_or_callbacks(tmp_path, shop):
    assert capture_flask(tmp_path / "cap", shop, ALL) == [200] * len(ALL)
    eps = _endpoints(tmp_path / "cap")
    views = {name: e.view[2] for name, e in eps.items()}
    assert views == {
        "GET /": "index",
        "GET /user/<...>": "user",
        "GET /orders/<...>": "order",
        "GET /admin/stats": "stats",
        "GET /admin/users": "admin_users",
    }
    assert len(eps["GET /user/<...>"].requests) == 3
    # the endpoint's function totals are the sum over its requests
    user_view = eps["GET /user/<...>"].view
    assert eps["GET /user/<...>"].functions[user_view].ncalls == 3


def test_single_route_behind_a_callback_library(tmp_path, shop):
    # Only one route uses the auth library: the callback and the view are seen under the same
    # routes; the view is the one the library's wrapper calls directly.
    reqs = [("GET", "/user/%s" % n, None) for n in ("ann", "bo", "cy")]
    capture_flask(tmp_path / "cap", shop, reqs)
    (ep,) = _endpoints(tmp_path / "cap").values()
    assert ep.view[2] == "user" and ep.name == "GET /user/<...>"


def test_path_grouping_keeps_raw_paths(tmp_path, shop):
    capture_flask(tmp_path / "cap", shop, ALL)
    eps = group(load_capture([tmp_path / "cap"], grouping="path", workers=1))
    assert sorted(e.name for e in eps) == sorted(
        "GET " + p for p in {p for _, p, _ in ALL})
    assert all(e.view is None for e in eps)


PLAIN_WSGI = {
    "plainapp.py": """
        from werkzeug.wrappers import Request, Response

        def handle(path):
            return ("page %s" % path) * 10

        @Request.application
        def app(request):
            return Response(handle(request.path))
    """,
}


def test_plain_wsgi_falls_back_to_path_templates(tmp_path):
    write_modules(tmp_path / "src", PLAIN_WSGI)
    wsgi = import_fresh(tmp_path / "src", "plainapp").app
    paths = ["/items/%d" % i for i in range(1, 8)] + ["/items/3/edit", "/about", "/about",
             "/docs/%s" % "9f8e7d6c5b4a39281706f5e4d3c2b1a0"]

    class Shim:  # capture_flask only needs .wsgi_app and .test_client()
        def __init__(self):
            self.wsgi_app = wsgi

        def test_client(self):
            from werkzeug.test import Client
            return Client(lambda env, start: self.wsgi_app(env, start))

    capture_flask(tmp_path / "cap", Shim(), [("GET", p, None) for p in paths])
    eps = _endpoints(tmp_path / "cap")
    assert {n: len(e.requests) for n, e in eps.items()} == {
        "GET /items/<...>": 7, "GET /items/<...>/edit": 1, "GET /about": 2,
        "GET /docs/<...>": 1}


# A site like many real ones: a login library whose decorator calls back into the app, a
# serializer library whose wrapper calls an app hook after the view returned, views that
# call model methods and render template files (compiled on their first use), a view under
# two URL rules, a static file and a 404.
SITE_LIBRARIES = {
    "site-packages/fakelogin/__init__.py": """
        import functools
        from flask import request
        _loader = None

        def user_loader(func):
            global _loader
            _loader = func
            return func

        def _current_user():
            token = request.headers.get("Authorization")
            return _loader(token) if token else None

        def login_required(view):
            @functools.wraps(view)
            def decorated_view(*args, **kwargs):
                if _current_user() is None:
                    return "login first", 401
                return view(*args, **kwargs)
            return decorated_view
    """,
    "site-packages/fakeschema/__init__.py": """
        import functools
        _hooks = {}

        def post_dump(name):
            def register(func):
                _hooks[name] = func
                return func
            return register

        def _dump_one(name, obj):
            return _hooks[name](dict(obj))

        def _dump(name, result):
            return [_dump_one(name, o) for o in result]

        def marshal_with(name):
            def decorator(view):
                @functools.wraps(view)
                def wrapper(*args, **kwargs):
                    return {"items": _dump(name, view(*args, **kwargs))}
                return wrapper
            return decorator
    """,
}

SITE = {
    "blog/templates/index.html": "<ul>{% for p in posts %}<li>{{ p.body | upper }}</li>"
                                 "{% endfor %}</ul>",
    "blog/templates/auth/login.html": "<form>{{ title }}</form>",
    "blog/static/app.css": "body { color: black }",
    "blog/models.py": """
        class User:
            def __init__(self, name):
                self.name = name

            def following_posts(self):
                return [{"body": "%s %d" % (self.name, i)} for i in range(20)]
    """,
    "blog/__init__.py": """
        from flask import Flask, render_template, request
        from fakelogin import login_required, user_loader
        from fakeschema import marshal_with, post_dump
        from .models import User

        app = Flask(__name__)

        @user_loader
        def load_user(token):
            return User(token)

        @post_dump("comment")
        def dump_comment(data):
            data["shown"] = True
            return data

        @app.route("/", methods=["GET", "POST"])
        @app.route("/index", methods=["GET", "POST"])
        @login_required
        def index():
            if request.method == "POST":
                return "posted", 302
            user = User("me")
            return render_template("index.html", posts=user.following_posts())

        @app.get("/auth/login")
        def login():
            return render_template("auth/login.html", title="Sign in")

        @app.get("/articles/<slug>/comments")
        @marshal_with("comment")
        def get_comments(slug):
            return [{"id": i, "slug": slug} for i in range(5)]

        @app.get("/user/<name>")
        @login_required
        def user(name):
            return User(name).name
    """,
}

TOKEN = {"Authorization": "alice"}
SITE_TRAFFIC = (
    [("GET", "/index", TOKEN)] * 3 + [("GET", "/", TOKEN)] * 2 + [("POST", "/index", TOKEN)] * 2
    + [("GET", "/index", None)] * 2                      # 401: the view never ran
    + [("GET", "/auth/login", None)] * 3
    + [("GET", "/articles/%s/comments" % s, None) for s in ("a", "b", "c", "d")]
    + [("GET", "/user/%s" % n, TOKEN) for n in ("ann", "bo")] + [("GET", "/user/cy", None)]
    + [("GET", "/static/app.css", None), ("GET", "/no/such/page", None)])


@pytest.fixture
def site(tmp_path):
    write_modules(tmp_path / "lib", SITE_LIBRARIES)
    write_modules(tmp_path / "src", SITE)
    import sys
    lib = str(tmp_path / "lib" / "site-packages")
    sys.path.insert(0, lib)
    try:
        for name in ("fakelogin", "fakeschema"):
            import_fresh(tmp_path / "lib" / "site-packages", name)
        yield import_fresh(tmp_path / "src", "blog").app
    finally:
        sys.path.remove(lib)


def test_views_of_a_real_looking_site(tmp_path, site):
    statuses = capture_flask(tmp_path / "cap", site, SITE_TRAFFIC)
    assert statuses.count(401) == 3 and statuses[-2:] == [200, 404]
    eps = _endpoints(tmp_path / "cap")
    sizes = {name: len(e.requests) for name, e in eps.items()}
    assert sizes == {
        "GET /index": 5,                   # the cold first request and the two 401s too
        "GET /": 2,                        # the same view under another URL rule
        "POST /index": 2,
        "GET /auth/login": 3,
        "GET /articles/<...>/comments": 4,
        "GET /user/<...>": 3,              # /user/cy answered 401, tied by its path
        "GET /static/<path>": 1,
        "GET (no URL rule matched: 404 or 405)": 1,
    }
    views = {name: e.view[2] for name, e in eps.items() if e.view and e.keyed_by == "view"}
    assert views["GET /index"] == views["GET /"] == views["POST /index"] == "index"
    assert views["GET /auth/login"] == "login"                   # not the template's root()
    assert views["GET /articles/<...>/comments"] == "get_comments"   # not dump_comment
    assert views["GET /user/<...>"] == "user"
    assert "load_user" in eps["GET /user/<...>"].why              # a callback, named as such
    first = min(eps["GET /index"].requests, key=lambda r: r.time)
    assert first.elapsed_ms == max(r.elapsed_ms for r in eps["GET /index"].requests)


def test_an_edited_view_file_still_compares(tmp_path, site):
    from profview.app.comparison import compare

    capture_flask(tmp_path / "before", site, SITE_TRAFFIC)
    source = tmp_path / "src" / "blog" / "__init__.py"
    source.write_text("# a fix moved every line down\n\n\n" + source.read_text())
    import sys
    sys.path.insert(0, str(tmp_path / "lib" / "site-packages"))
    try:
        fixed = import_fresh(tmp_path / "src", "blog").app
    finally:
        sys.path.remove(str(tmp_path / "lib" / "site-packages"))
    capture_flask(tmp_path / "after", fixed, SITE_TRAFFIC)
    result = compare(load_capture([tmp_path / "before"], workers=1),
                     load_capture([tmp_path / "after"], workers=1))
    assert all(r["before"] and r["after"] for r in result["endpoints"]), [
        (r["name"], r["verdict"]) for r in result["endpoints"]]
    assert len(result["endpoints"]) == 8


def test_a_capture_is_grouped_once_and_forgotten_with_it(before):
    """Endpoints are computed once per Capture (it never changes) and shared; the cache does
    not keep a capture alive."""
    import gc

    from profview.analysis import endpoints as eps
    from profview.loading.scan import load_capture
    capture = load_capture([before], workers=1)
    first, again = eps.group(capture), eps.group(capture)
    assert first == again and all(a is b for a, b in zip(first, again)) and first is not again
    key = id(capture)
    assert key in eps._GROUPED
    del capture, first, again
    gc.collect()
    assert key not in eps._GROUPED
