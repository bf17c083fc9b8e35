"""`python -m stacks register <local|gpu|cloud|path.yaml> [--activate]` and `python -m stacks list`."""

from __future__ import annotations

import argparse
import sys

from llm_twin.zenml_env import configure_zenml_env, ensure_repository


def main(argv: list[str] | None = None) -> int:
    configure_zenml_env()
    from stacks.register import available_specs, load_spec, register

    parser = argparse.ArgumentParser(prog="python -m stacks")
    sub = parser.add_subparsers(dest="command", required=True)
    reg = sub.add_parser("register", help="register a stack from its spec")
    reg.add_argument("spec", help=f"one of {', '.join(available_specs())} or a path to a spec YAML")
    reg.add_argument("--activate", action="store_true")
    sub.add_parser("list", help="list the registered ZenML stacks")
    args = parser.parse_args(argv)
    ensure_repository()
    from zenml.client import Client

    if args.command == "list":
        for stack in Client().list_stacks(size=100).items:
            print(stack.name)
        return 0
    try:
        name = register(load_spec(args.spec), activate=args.activate)
    except Exception as exc:  # noqa: BLE001 - one clear line for the user
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"stack {name!r} is registered" + (" and active" if args.activate else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
