"""Start the MOSS desktop app."""

from moss_app.main import main

if __name__ == "__main__":  # not in a worker process, which imports this file too (multiprocessing's "spawn")
    import multiprocessing

    multiprocessing.freeze_support()  # in the frozen app, such a worker starts here and runs its job
    raise SystemExit(main())
