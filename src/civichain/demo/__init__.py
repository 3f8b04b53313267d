"""The demo data set: realistic, reproducible public records for a newcomer's network."""
