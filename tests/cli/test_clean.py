

def test_clean_help_names_every_pass_in_order():
    from cli.cleaning.runner import PASS_NAMES
    from cli.commands.clean import PASSES_HELP

    assert PASSES_HELP == ", ".join(PASS_NAMES)
