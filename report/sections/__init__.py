"""The report's sections, one module each; report.py assembles them in order."""
