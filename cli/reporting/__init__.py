"""Figures about the base: stats, segment profiles, the HTML report."""
