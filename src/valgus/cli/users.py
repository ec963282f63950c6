"""``valgus user add|passwd|disable|enable|list``: the accounts of the records.

Passwords are asked for on the terminal (twice, not echoed), or read from one line of stdin
with ``--password-stdin`` (scripts). From the first account on, every command that records a
name (``--by``, ``--reviewer``) must name an active account whose role allows it; the app asks
for a login. Whoever can run these commands can read the data folder anyway: the CLI trusts the
local user and acts as the account it names.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from valgus.cli.records import add_data_options
from valgus.store.errors import RecordError

COMMAND = "user"


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``valgus user ...`` to the CLI's subparsers."""
    us = sub.add_parser("user", help="accounts: add, change password, disable, list")
    actions = us.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="add an account")
    add.add_argument("username", metavar="NAME")
    add.add_argument("--role", required=True, choices=("clinician", "assistant"),
                     help="clinician: review and sign; assistant: record and save")
    pw = actions.add_parser("passwd", help="set an account's password")
    pw.add_argument("username", metavar="NAME")
    for p in (add, pw):
        p.add_argument("--password-stdin", action="store_true",
                       help="read the password from one line of stdin instead of asking")
    for name, text in (("disable", "disable an account"), ("enable", "enable it again")):
        d = actions.add_parser(name, help=text)
        d.add_argument("username", metavar="NAME")
    ls = actions.add_parser("list", help="list the accounts")
    for p in (add, pw, ls, *(actions.choices[n] for n in ("disable", "enable"))):
        add_data_options(p)


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise RecordError("the two passwords differ")
    return first


def run(args: argparse.Namespace) -> int:
    from valgus.store.service import Records

    with Records.open(args.data_dir, readonly=args.action == "list") as records:
        if args.action == "add":
            user = records.add_user(args.username, args.role, _password(args))
            print(f"added {user.role} {user.username}")
        elif args.action == "passwd":
            records.set_password(args.username, _password(args))
            print(f"password of {args.username} set")
        elif args.action in ("disable", "enable"):
            user = records.set_disabled(args.username, args.action == "disable")
            print(f"{user.username} {'disabled' if user.disabled else 'enabled'}")
        else:
            for u in records.list_users():
                last = f"{u.last_login_at:%Y-%m-%d %H:%M} UTC" if u.last_login_at else "never"
                print(f"{u.username:24} {u.role:10} {'DISABLED' if u.disabled else 'active':8} "
                      f"last login {last}")
    return 0
