"""The HTML page's style sheet and script, as package data (inlined into each page)."""
