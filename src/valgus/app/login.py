"""The login in front of everything that reads or writes records (the Review page, "Save to a
person's record"). The upload and live self-test pages for one's own clip stay open.

An account (``valgus user add NAME --role clinician|assistant``) logs in with its password; the
records check it (argon2, back-off after wrong passwords: ``valgus.store.accounts``). The login
lasts while the browser session is used: after ``SESSION_TIMEOUT_S`` without a page run it ends,
as it does when the account is disabled. Whatever the page then records (reviews, values,
signatures) is recorded under this account's name, never a typed one.
"""

from __future__ import annotations

import time

import streamlit as st

from valgus.errors import ValgusError
from valgus.store.service import Records, UserInfo

SESSION_TIMEOUT_S = 15 * 60.0
_KEY = "valgus_login"


def current_user(rec: Records) -> UserInfo | None:
    """The logged-in account of this browser session, if its login holds (not timed out, the
    account still active); refreshes the timeout."""
    login = st.session_state.get(_KEY)
    if not login:
        return None
    if time.monotonic() - login["seen"] > SESSION_TIMEOUT_S:
        logout("Logged out after 15 minutes without activity.")
        return None
    try:
        user = rec.get_user(login["username"])
    except ValgusError:
        user = None
    if user is None or user.disabled:
        logout("Logged out: the account is no longer active.")
        return None
    login["seen"] = time.monotonic()
    return user


def logout(message: str | None = None) -> None:
    st.session_state.pop(_KEY, None)
    if message:
        st.session_state["login_flash"] = message


def _login_form(rec: Records) -> None:
    flash = st.session_state.pop("login_flash", None)
    if flash:
        st.info(flash)
    if not rec.has_accounts():
        st.info("There are no accounts yet. On this machine, create the first one with "
                "`valgus user add NAME --role clinician`, then log in here.")
        return
    with st.form("login", border=True):
        st.markdown("##### Log in to the clinician records")
        username = st.text_input("User name", key="login_user")
        password = st.text_input("Password", type="password", key="login_password")
        submitted = st.form_submit_button("Log in")
    if submitted:
        try:
            user = rec.authenticate(username, password)
        except ValgusError as err:
            st.error(f"Not logged in: {err}")
            return
        st.session_state[_KEY] = {"username": user.username, "seen": time.monotonic()}
        st.rerun()


def require_login(rec: Records) -> UserInfo | None:
    """The logged-in account, with its name and a log-out button in the sidebar; else the
    login form is shown and None returned (the caller shows nothing of the records)."""
    user = current_user(rec)
    if user is None:
        _login_form(rec)
        return None
    st.sidebar.text(f"Logged in: {user.username} ({user.role})")
    if st.sidebar.button("Log out", key="logout"):
        logout("Logged out.")
        st.rerun()
    return user
