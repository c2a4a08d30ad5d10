"""Control-plane client and pytest plugin for vendor-api-emulator."""
from .client import ControlClient, ControlError, EmulatorSession

__all__ = ["ControlClient", "ControlError", "EmulatorSession"]
