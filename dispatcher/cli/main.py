"""The ``ebc`` command. Each area adds its own Typer sub-app or commands here."""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="ebc",
    help="EBC emergency broadcast control platform (应急广播调度控制平台).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.command()
def version() -> None:
    """Print the EBC version."""
    from importlib.metadata import version as dist_version

    typer.echo(dist_version("ebc"))


# (module, attribute, sub-command name or None to merge its commands at the top level)
_AREAS: list[tuple[str, str, str | None]] = [
    ("dispatcher.cli.keys", "register", None),
    ("dispatcher.cli.cap", "app", "cap"),
    ("dispatcher.cli.ebd", "app", "ebd"),
    ("dispatcher.cli.region", "app", "region"),
    ("dispatcher.cli.platform", "register", None),
    ("dispatcher.cli.demo", "register", None),
    ("dispatcher.cli.links", "register", None),
    ("dispatcher.cli.adapters", "register", None),
    ("dispatcher.cli.terminal", "register", None),
    ("dispatcher.cli.receiver", "register", None),
    ("dispatcher.cli.users", "app", "user"),
    ("dispatcher.cli.drill", "app", "drill"),
]

for module_name, attribute, sub_name in _AREAS:
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        continue  # an area not built yet
    target = getattr(module, attribute)
    if sub_name is None:
        target(app)
    else:
        app.add_typer(target, name=sub_name)


if __name__ == "__main__":
    app()
