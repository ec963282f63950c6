"""Clinician records: people (pseudonymous codes), test sessions, clips, analyses, reviews and
clearance records in a SQL database (SQLite by default), with the files in a data directory.

The app, the reports and the CLI use ``valgus.store.service.Records``, a thin facade over the
rooms: ``people``, ``sessions`` (sessions, clips, analyses), ``signing`` (reviews, clearance
values, sign-off, amendments), ``snapshot`` and ``verify`` (sealed, hash-chained signed
snapshots and their check), ``summary`` (session summary, history), ``settings`` (the clinic's
clearance policy), ``accounts`` (users, roles, logins), ``audit`` (the append-only log),
``erase`` (erasing a person) and ``check`` (files against rows, quarantine); ``info`` holds the
frozen dataclasses they return, ``db`` the database, the data directory and crash-safe files,
``migrate`` the schema version and the Alembic migrations.
"""
