from pyperf.cli import main

raise SystemExit(main())
