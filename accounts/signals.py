"""Signals the accounts app sends; receivers live in the apps that depend on accounts."""

from django.dispatch import Signal

# Sent when repeated wrong passwords lock a username or a client address (accounts.throttle).
# Arguments: username, address, scope ("username" or "address"), failures, seconds, request.
login_locked_out = Signal()
