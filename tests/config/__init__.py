import os


def environ_outside_tests(*drop: str) -> dict[str, str]:
    """This process's environment without the test run's own settings (pytest's variables and
    ``drop``): what a fresh process of the app started by an operator would see."""
    return {
        key: value
        for key, value in os.environ.items()
        if key not in drop and not key.startswith("PYTEST")
    }
