"""The office's work on the application database (DESIGN.md "Two stores", "Rooms").

store (the one door to the database), models, accounts (sign-in, sessions, lockout), roles
(who may see and do what), audit (the append-only log). No Streamlit here: ui/ and the CLI call in.
"""
