"""Live pages: which page a websocket follows, what it missed, and what to swap in."""
