"""Evaluation against upstream's hand-kept lists. Never imported by analyzer/."""
