"""Clinician records: people (pseudonymous codes), test sessions, clips, analyses, reviews and
clearance records in a SQL database (SQLite by default), with the files in a data directory.

The app and the CLI use ``valgus.store.service.Records``; see its docstring.
"""
