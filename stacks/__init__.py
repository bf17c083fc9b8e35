"""ZenML stack specs (YAML) and their registration: `python -m stacks register <local|gpu|cloud>`."""
