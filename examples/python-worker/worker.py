#!/usr/bin/env python3
"""Runs the Python worker with the handlers of handlers.py (configuration: tasker_worker.py)."""
import handlers
from tasker_worker import Worker, configure_logging

if __name__ == "__main__":
    configure_logging()
    Worker(handlers.HANDLERS).run()
