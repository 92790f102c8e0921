"""Students and classes: the many-to-many Flask-SQLAlchemy app of the classic
"How to increase Flask performance" article, on SQLite, slow in the ways real apps are slow.

``create_app(fixed=False)`` is the app as first written; ``create_app(fixed=True)`` has the
fixes a profile points to.  ``make_samples.py`` sends both the same scripted traffic.

| endpoint                       | what it shows (before)          | the fix (after)            |
| ------------------------------ | ------------------------------- | -------------------------- |
| ``GET /roster?class_id=``      | N+1: each student's classes are | ``selectinload``: 3 queries|
|                                | lazy-loaded, one query each     |                            |
| ``GET /attendance/<id>``       | full scan of 60,000 rows        | an index on ``student_id`` |
| ``GET /my_class?student_id=``  | the article's template view     | (unchanged)                |
| ``GET /stats``                 | CPU-heavy pure-Python statistics| (unchanged)                |
| ``GET /student/<id>``          | one small lookup                | (unchanged)                |
| ``POST /enroll``               | a write and a commit            | (unchanged)                |
| ``GET /health``                | nearly nothing                  | (unchanged)                |
| ``GET /report/<class_id>``     | a leak: each report kept in a   | only the last 3 kept       |
|                                | module-level list               |                            |
"""
from __future__ import annotations

import random
import statistics

from flask import Flask, abort, jsonify, render_template_string, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import func
from sqlalchemy.orm import selectinload

db = SQLAlchemy()
N_STUDENTS, N_CLASSES, CLASSES_PER_STUDENT, N_ATTENDANCE = 2000, 80, 4, 60_000

student_identifier = db.Table(
    "student_identifier",
    db.Column("class_id", db.Integer, db.ForeignKey("classes.class_id")),
    db.Column("student_id", db.Integer, db.ForeignKey("students.student_id")))


class Student(db.Model):
    __tablename__ = "students"
    student_id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(80), nullable=False)
    classes = db.relationship("Class", secondary=student_identifier,
                              back_populates="students")


class Class(db.Model):
    __tablename__ = "classes"
    class_id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(80), nullable=False)
    students = db.relationship("Student", secondary=student_identifier,
                               back_populates="classes")


class Attendance(db.Model):
    __tablename__ = "attendance"
    id = db.Column(db.Integer, primary_key=True)
    student_id = db.Column(db.Integer, nullable=False)   # no index: the slow lookup
    day = db.Column(db.Integer, nullable=False)
    minutes = db.Column(db.Integer, nullable=False)


_REPORTS: list = []        # /report's "history": what the leak keeps


def create_app(fixed: bool = False, database_uri: str = "sqlite://") -> Flask:
    """The demo app, seeded; *fixed* applies the eager loading and the index."""
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = database_uri
    db.init_app(app)

    @app.get("/roster")
    def roster():
        class_id = request.args.get("class_id", type=int)
        query = db.select(Class).filter_by(class_id=class_id)
        if fixed:
            query = query.options(selectinload(Class.students).selectinload(Student.classes))
        class_orm = db.session.execute(query).scalar_one_or_none() or abort(404)
        return jsonify([{"name": s.name, "classes": len(s.classes)}
                        for s in class_orm.students])

    @app.get("/my_class")
    def my_class():
        student_id = request.args.get("student_id", type=int)
        student_orm = db.get_or_404(Student, student_id)
        return render_template_string("<html><body>data: {{ data }}</body></html>",
                                      data=[c.name for c in student_orm.classes])

    @app.get("/attendance/<int:student_id>")
    def attendance(student_id):
        days, minutes = db.session.execute(
            db.select(func.count(), func.sum(Attendance.minutes))
            .filter_by(student_id=student_id)).one()
        return jsonify({"student": student_id, "days": days, "minutes": minutes or 0})

    @app.get("/stats")
    def stats():
        minutes = db.session.execute(db.select(Attendance.minutes).limit(20_000)).scalars()
        return jsonify(_class_statistics(list(minutes)))

    @app.get("/student/<int:student_id>")
    def student(student_id):
        s = db.get_or_404(Student, student_id)
        return jsonify({"id": s.student_id, "name": s.name})

    @app.post("/enroll")
    def enroll():
        s = db.get_or_404(Student, request.form.get("student_id", type=int))
        c = db.get_or_404(Class, request.form.get("class_id", type=int))
        if c not in s.classes:
            s.classes.append(c)
            db.session.commit()
        return jsonify({"student": s.student_id, "class": c.class_id}), 201

    @app.get("/health")
    def health():
        return "ok"

    @app.get("/report/<int:class_id>")
    def report(class_id):
        # The leak: every report is kept in a module-level list "for later" and never let go
        # (the fixed app keeps the last few only).
        rows = [{"student": s.student_id, "name": s.name, "class": class_id, "n": i}
                for i, s in enumerate(db.session.execute(
                    db.select(Student).limit(500)).scalars())]
        _REPORTS.append(rows)
        if fixed:
            del _REPORTS[:-3]
        return jsonify(count=len(rows))

    with app.app_context():
        db.create_all()
        _seed()
        if fixed:
            db.session.execute(db.text(
                "CREATE INDEX ix_attendance_student_id ON attendance (student_id)"))
            db.session.commit()
    return app


def _class_statistics(values: list) -> dict:
    """Deliberately pure Python: the CPU-bound endpoint."""
    buckets: dict = {}
    for i, v in enumerate(values):
        buckets.setdefault(i % 40, []).append(v)
    out = {}
    for key, vals in sorted(buckets.items()):
        ordered = sorted(vals)
        out[key] = {"median": statistics.median(ordered), "stdev": statistics.pstdev(vals),
                    "p90": ordered[int(0.9 * (len(ordered) - 1))]}
    return out


def _seed() -> None:
    rng = random.Random(7)
    classes = [Class(class_id=i + 1, name="Class %d" % (i + 1)) for i in range(N_CLASSES)]
    students = [Student(student_id=i + 1, name="Student %d" % (i + 1))
                for i in range(N_STUDENTS)]
    for s in students:
        s.classes = rng.sample(classes, CLASSES_PER_STUDENT)
    db.session.add_all(classes + students)
    db.session.commit()
    db.session.execute(db.insert(Attendance), [
        {"student_id": rng.randint(1, N_STUDENTS), "day": rng.randint(1, 180),
         "minutes": rng.randint(10, 90)} for _ in range(N_ATTENDANCE)])
    db.session.commit()


if __name__ == "__main__":
    create_app().run()
