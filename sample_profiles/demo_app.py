"""A small Flask + SQLAlchemy blog, slow in the ways real Flask apps are slow.

It is the app behind ``sample_profiles/``: ``make_samples.py`` sends it requests under
Werkzeug's ProfilerMiddleware.  Each route shows something profview should make obvious:

- ``/``                  an N+1: each post's author is lazy-loaded by its own query
- ``/user/<username>``   behind an app-level ``login_required`` decorator (shared by routes)
- ``/settings``          behind the same decorator
- ``/api/posts/<id>``    a small JSON endpoint
- ``/search?q=``         pure-Python scoring in the request (CPU bound)
- ``/report``            waits on a slow "upstream" (blocking I/O in the request)
- ``POST /login``        password hashing, slow by design
"""
from __future__ import annotations

import functools
import time

from flask import Flask, abort, g, jsonify, request
from flask_sqlalchemy import SQLAlchemy
from werkzeug.security import check_password_hash, generate_password_hash

db = SQLAlchemy()
USERS = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"]
PASSWORD_METHOD = "pbkdf2:sha256:60000"


class User(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    username = db.Column(db.String(40), unique=True, nullable=False)
    password_hash = db.Column(db.String(200), nullable=False)
    posts = db.relationship("Post", back_populates="author", lazy="select")


class Post(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    title = db.Column(db.String(200), nullable=False)
    body = db.Column(db.Text, nullable=False)
    author_id = db.Column(db.Integer, db.ForeignKey("user.id"), nullable=False)
    author = db.relationship("User", back_populates="posts", lazy="select")


def current_user():
    """The user named by the X-User header: the callback the decorator calls back into."""
    name = request.headers.get("X-User")
    if name is None:
        return None
    return db.session.execute(db.select(User).filter_by(username=name)).scalar_one_or_none()


def login_required(view):
    """An app-level auth decorator: every route it wraps shares its wrapper function."""
    @functools.wraps(view)
    def decorated_function(*args, **kwargs):
        g.user = current_user()
        if g.user is None:
            abort(401)
        return view(*args, **kwargs)
    return decorated_function


def _summary(post: Post) -> dict:
    return {"id": post.id, "title": post.title, "author": post.author.username}


def create_app(database_uri: str = "sqlite://") -> Flask:
    """The demo app with a seeded database (in memory unless told otherwise)."""
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = database_uri
    db.init_app(app)

    @app.get("/")
    def index():
        posts = db.session.execute(db.select(Post).order_by(Post.id.desc()).limit(12)).scalars()
        return jsonify([_summary(p) for p in posts])  # p.author: one query per post (N+1)

    @app.get("/user/<username>")
    @login_required
    def user_profile(username):
        user = db.session.execute(db.select(User).filter_by(username=username)).scalar_one()
        return jsonify({"user": user.username, "posts": [p.title for p in user.posts]})

    @app.get("/settings")
    @login_required
    def settings():
        return jsonify({"user": g.user.username, "theme": "dark"})

    @app.get("/api/posts/<int:post_id>")
    def api_post(post_id):
        post = db.get_or_404(Post, post_id)
        return jsonify(_summary(post) | {"body": post.body})

    @app.get("/search")
    def search():
        words = request.args.get("q", "").lower().split()
        posts = db.session.execute(db.select(Post)).scalars().all()
        scored = sorted(((_score(p.body, words), p.id) for p in posts), reverse=True)
        return jsonify([pid for score, pid in scored[:5] if score])

    @app.get("/report")
    def report():
        time.sleep(0.03)  # stands for a call to a slow upstream service
        return jsonify({"rows": Post.query.count()})

    @app.post("/login")
    def login():
        user = db.session.execute(
            db.select(User).filter_by(username=request.form["username"])).scalar_one()
        ok = check_password_hash(user.password_hash, request.form["password"])
        return jsonify({"ok": ok}), (200 if ok else 403)

    with app.app_context():
        db.create_all()
        _seed()
    return app


def _score(text: str, words: list) -> int:
    tokens = text.lower().split()
    return sum(tokens.count(w) for w in words for _ in range(20))


def _seed() -> None:
    users = [User(username=n, password_hash=generate_password_hash(n + "-pw", PASSWORD_METHOD))
             for n in USERS]
    db.session.add_all(users)
    for i in range(60):
        body = " ".join(["flask profile query cache request slow"] * (5 + i % 7))
        db.session.add(Post(title="Post %d" % i, body=body, author=users[i % len(users)]))
    db.session.commit()


if __name__ == "__main__":
    create_app().run(debug=False)
