"""Patch generation: plan which globals move, edit the sources, write a series."""
