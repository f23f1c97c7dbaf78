"""The live judge service: contestants submit over HTTP, workers judge in the background.

The database is the only truth (DOMjudge's judgehosts and CMS's sweeper are the models):
a submission is stored with its bytes before anything else happens; a worker claims a
run with a compare-and-set update, renews a lease while it judges and writes its result
only while its lease token is current; a reaper requeues runs whose lease expired.

    config    ServiceSettings: the one place the service's settings are read
    db        the engine (SQLite in WAL mode by default, PostgreSQL to scale out)
    models    the tables
    migrate   Alembic migrations (judge/service/migrations)
    accounts  users, password hashes and API tokens
    queue     enqueue, claim, renew, finish, retry and reap runs
    worker    a worker process: claim, judge with the Judge object, write fenced
    dispatch  waking workers: nothing to publish (polling), or run ids to Celery
    tasks     Celery on Redis: the app, its one task, a Celery worker process
    metrics   GET /metrics in Prometheus's text format, read from the database
    logs      JSON log lines with the run id
    app       the FastAPI application (REST API under /api/v1)
    server    `judge serve`: migrate, then the web app, a reaper and N workers
"""
