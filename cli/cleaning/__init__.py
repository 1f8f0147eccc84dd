"""Cleaning passes (SPEC §3 ``crmseg clean``) and duplicate handling (SPEC §4)."""

from cli.cleaning.runner import PASS_NAMES, CleaningResult, run_cleaning

__all__ = ["PASS_NAMES", "CleaningResult", "run_cleaning"]
