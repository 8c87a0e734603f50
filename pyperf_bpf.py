"""The `pyperf` command's entry point, kept outside the `pyperf` package: PyPI's
unrelated "pyperf" (a benchmark toolkit) installs a package of the same name,
and when that one is imported instead of ours this says so in one line rather
than failing with a traceback somewhere inside it."""

import sys


def main() -> int:
    try:
        import pyperf
    except ImportError as e:
        print(f"pyperf: cannot import the pyperf package ({e}): reinstall pyperf-bpf", file=sys.stderr)
        return 1
    if getattr(pyperf, "DISTRIBUTION", None) != "pyperf-bpf":
        where = getattr(pyperf, "__file__", None) or "?"
        print(f"pyperf: the 'pyperf' package imported from {where} is not pyperf-bpf (PyPI's 'pyperf' is an "
              "unrelated benchmark toolkit): pip uninstall pyperf && pip install --force-reinstall pyperf-bpf",
              file=sys.stderr)
        return 1
    from pyperf.cli import main as cli_main
    return cli_main()


if __name__ == "__main__":
    sys.exit(main())
