"""``python -m app.n8n``: the same command group Flask registers as ``flask n8n``."""

from app.n8n.cli import n8n

if __name__ == "__main__":
    n8n(prog_name="python -m app.n8n")
