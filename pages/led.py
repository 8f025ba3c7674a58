"""一屏通览: the lobby LED screen (see docs/led.md for the URL, options and kiosk set-up)."""

from ui.led.screen import run
from ui.state import ensure_entry

ensure_entry()  # a /led bookmark opened first after a server restart must still go through dashboard.py
run()
