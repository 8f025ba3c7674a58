"""一屏通览: the lobby LED screen (see docs/led.md for the URL, options and kiosk set-up)."""

from ui.led.screen import run

run()
