"""Start the MOSS desktop app."""
from moss_app.main import main

raise SystemExit(main())
