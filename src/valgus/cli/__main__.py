from valgus.cli import main

raise SystemExit(main())
