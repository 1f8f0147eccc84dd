"""Typer command groups: parse options, call one library function, print.

Only this package and ``cli/main.py`` import typer or rich.
"""
