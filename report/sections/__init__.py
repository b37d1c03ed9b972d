"""The report's sections, one module each; build.py assembles them in order."""
