"""Forward-only schema migrations. Each entry: (version, description, SQL). Never edit a
released migration: add the next one. ``schema_version`` records what was applied."""

from __future__ import annotations

MIGRATIONS: list[tuple[int, str, str]] = [
    (1, "initial schema: raw responses, runs, quotes, token prices, quarantine, fixings, values", """
CREATE TABLE raw_responses (
    sha256 VARCHAR PRIMARY KEY,
    source VARCHAR NOT NULL,
    method VARCHAR,
    url VARCHAR,
    status INTEGER,
    headers JSON,
    body BLOB,
    captured_at TIMESTAMPTZ,
    dataset VARCHAR
);
CREATE TABLE runs (
    run_id VARCHAR PRIMARY KEY,
    kind VARCHAR NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    dataset VARCHAR,
    detail JSON
);
CREATE TABLE scrape_runs (
    run_id VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    observed_at TIMESTAMPTZ NOT NULL,
    started_at TIMESTAMPTZ,
    finished_at TIMESTAMPTZ,
    status VARCHAR NOT NULL,
    rows_loaded INTEGER,
    rows_new INTEGER,
    rows_quarantined INTEGER,
    error VARCHAR,
    dataset VARCHAR,
    PRIMARY KEY (run_id, source, observed_at)
);
CREATE TABLE gpu_quotes (
    observed_at TIMESTAMPTZ NOT NULL,
    source VARCHAR NOT NULL,
    venue VARCHAR NOT NULL,
    venue_class VARCHAR,
    offer_id VARCHAR NOT NULL,
    gpu_model VARCHAR NOT NULL,
    gpu_count INTEGER NOT NULL,
    price_usd_per_hour DOUBLE NOT NULL,
    price_usd_per_gpu_hour DOUBLE NOT NULL,
    pricing_class VARCHAR NOT NULL,
    region VARCHAR,
    available_units INTEGER,
    tier VARCHAR,
    price_basis VARCHAR,
    currency VARCHAR,
    dataset VARCHAR,
    raw_sha256 VARCHAR,
    PRIMARY KEY (source, offer_id, observed_at)
);
CREATE TABLE token_prices (
    observed_at TIMESTAMPTZ NOT NULL,
    source VARCHAR NOT NULL,
    provider VARCHAR NOT NULL,
    model VARCHAR NOT NULL,
    model_family VARCHAR,
    source_model_id VARCHAR NOT NULL,
    usd_per_mtok_input DOUBLE,
    usd_per_mtok_output DOUBLE,
    usd_per_mtok_cached_input DOUBLE,
    context_window BIGINT,
    quantization VARCHAR,
    currency VARCHAR,
    dataset VARCHAR,
    raw_sha256 VARCHAR,
    PRIMARY KEY (source, provider, source_model_id, observed_at)
);
CREATE TABLE quarantine (
    qkey VARCHAR PRIMARY KEY,
    run_id VARCHAR,
    ordinal INTEGER,
    observed_at TIMESTAMPTZ,
    source VARCHAR,
    kind VARCHAR,
    record_key VARCHAR,
    field VARCHAR,
    value VARCHAR,
    reason VARCHAR,
    raw_sha256 VARCHAR,
    dataset VARCHAR
);
CREATE TABLE fixings (
    index_id VARCHAR NOT NULL,
    fixing_time TIMESTAMPTZ NOT NULL,
    revision INTEGER NOT NULL,
    value DOUBLE,
    p25 DOUBLE,
    p75 DOUBLE,
    conf DOUBLE,
    trimmed_mean DOUBLE,
    min DOUBLE,
    max DOUBLE,
    n_venues INTEGER,
    n_quotes INTEGER,
    largest_venue_share DOUBLE,
    excluded JSON,
    status VARCHAR,
    methodology_version VARCHAR,
    inputs_hash VARCHAR,
    computed_at TIMESTAMPTZ,
    run_id VARCHAR,
    reason VARCHAR,
    PRIMARY KEY (index_id, fixing_time, revision)
);
CREATE TABLE fixing_venues (
    index_id VARCHAR NOT NULL,
    fixing_time TIMESTAMPTZ NOT NULL,
    revision INTEGER NOT NULL,
    venue VARCHAR NOT NULL,
    venue_median DOUBLE,
    n_quotes INTEGER,
    included BOOLEAN,
    exclusion_reason VARCHAR,
    PRIMARY KEY (index_id, fixing_time, revision, venue)
);
CREATE TABLE index_values (
    index_id VARCHAR NOT NULL,
    date DATE NOT NULL,
    revision INTEGER NOT NULL,
    value DOUBLE,
    unit VARCHAR,
    p25 DOUBLE,
    p75 DOUBLE,
    conf DOUBLE,
    n_fixings INTEGER,
    n_venues INTEGER,
    n_quotes INTEGER,
    status VARCHAR,
    methodology_version VARCHAR,
    inputs_hash VARCHAR,
    computed_at TIMESTAMPTZ,
    run_id VARCHAR,
    reason VARCHAR,
    PRIMARY KEY (index_id, date, revision)
);
CREATE TABLE publications (
    date DATE NOT NULL,
    seq INTEGER NOT NULL,
    published_at TIMESTAMPTZ NOT NULL,
    out_dir VARCHAR,
    report_sha256 VARCHAR,
    n_values INTEGER,
    values_published JSON,
    PRIMARY KEY (date, seq)
);
CREATE TABLE settlements (
    contract_id VARCHAR PRIMARY KEY,
    series VARCHAR NOT NULL,
    month VARCHAR NOT NULL,
    value DOUBLE,
    n_days INTEGER,
    status VARCHAR,
    methodology_version VARCHAR,
    inputs_hash VARCHAR,
    settled_at TIMESTAMPTZ,
    detail JSON
);
CREATE VIEW latest_fixings AS
    SELECT * FROM fixings QUALIFY row_number() OVER (PARTITION BY index_id, fixing_time ORDER BY revision DESC) = 1;
CREATE VIEW latest_index_values AS
    SELECT * FROM index_values QUALIFY row_number() OVER (PARTITION BY index_id, date ORDER BY revision DESC) = 1;
CREATE VIEW daily_index AS
    SELECT index_id, date, value, unit, status, n_venues, n_quotes, n_fixings, p25, p75, conf, revision,
           methodology_version, inputs_hash, computed_at
    FROM latest_index_values;
CREATE VIEW venue_medians AS
    SELECT v.* FROM fixing_venues v
    JOIN latest_fixings f USING (index_id, fixing_time, revision);
CREATE VIEW source_health AS
    SELECT source, max(observed_at) AS last_observed_at,
           arg_max(status, observed_at) AS last_status,
           arg_max(error, observed_at) AS last_error,
           arg_max(rows_loaded, observed_at) AS last_rows_loaded,
           arg_max(rows_quarantined, observed_at) AS last_rows_quarantined,
           count(*) FILTER (WHERE status = 'failed') AS failed_runs,
           count(*) AS runs
    FROM scrape_runs GROUP BY source;
"""),
    (2, "methodology v1: diagnostics and carry columns, errors log, report rounds", """
ALTER TABLE fixings ADD COLUMN carried_from TIMESTAMPTZ;
ALTER TABLE fixings ADD COLUMN estimator VARCHAR;
ALTER TABLE fixings ADD COLUMN gross_reference DOUBLE;
ALTER TABLE fixings ADD COLUMN center DOUBLE;
ALTER TABLE fixings ADD COLUMN scale DOUBLE;
ALTER TABLE fixing_venues ADD COLUMN n_dropped INTEGER;
ALTER TABLE fixing_venues ADD COLUMN distance DOUBLE;
ALTER TABLE index_values ADD COLUMN trimmed_mean DOUBLE;
ALTER TABLE index_values ADD COLUMN min DOUBLE;
ALTER TABLE index_values ADD COLUMN max DOUBLE;
ALTER TABLE index_values ADD COLUMN largest_venue_share DOUBLE;
ALTER TABLE index_values ADD COLUMN n_normal INTEGER;
ALTER TABLE index_values ADD COLUMN n_valid INTEGER;
ALTER TABLE index_values ADD COLUMN excluded JSON;
ALTER TABLE index_values ADD COLUMN carried_from DATE;
ALTER TABLE index_values ADD COLUMN estimator VARCHAR;
ALTER TABLE index_values ADD COLUMN value_window VARCHAR;
-- A published value that a recomputation would change but may no longer be revised (after
-- T+1 09:00 UTC, or by less than the revision threshold) is disclosed here, never rewritten.
CREATE TABLE errors_log (
    index_id VARCHAR NOT NULL,
    date DATE NOT NULL,
    kind VARCHAR NOT NULL,
    recomputed_inputs_hash VARCHAR NOT NULL,
    logged_at TIMESTAMPTZ NOT NULL,
    run_id VARCHAR,
    published_revision INTEGER,
    published_value DOUBLE,
    published_status VARCHAR,
    recomputed_value DOUBLE,
    recomputed_status VARCHAR,
    detail VARCHAR,
    PRIMARY KEY (index_id, date, kind, recomputed_inputs_hash)
);
-- One row per series per signed report: the oracle round (monotonic per series).
CREATE TABLE report_rounds (
    index_id VARCHAR NOT NULL,
    round_id BIGINT NOT NULL,
    date DATE NOT NULL,
    revision INTEGER,
    publish_time TIMESTAMPTZ NOT NULL,
    report_sha256 VARCHAR,
    PRIMARY KEY (index_id, round_id)
);
INSERT INTO report_rounds
    SELECT j.value->>'index_id',
           row_number() OVER (PARTITION BY j.value->>'index_id' ORDER BY p.published_at, p.date, p.seq),
           p.date, CAST(j.value->>'revision' AS INTEGER), p.published_at, p.report_sha256
    FROM publications p, json_each(p.values_published) j;
CREATE OR REPLACE VIEW daily_index AS
    SELECT index_id, date, value, unit, status, carried_from, n_venues, n_quotes, n_fixings, n_normal, n_valid,
           p25, p75, conf, trimmed_mean, min, max, largest_venue_share, excluded, revision, estimator,
           value_window, methodology_version, inputs_hash, computed_at
    FROM latest_index_values;
"""),
    (3, "historical imports, backfill progress and recomputed values kept apart from published ones", """
CREATE TABLE imports (
    import_id VARCHAR PRIMARY KEY,
    dataset VARCHAR NOT NULL,
    format VARCHAR NOT NULL,
    path VARCHAR,
    file_sha256 VARCHAR,
    file_bytes BIGINT,
    source VARCHAR,
    started_at TIMESTAMPTZ,
    finished_at TIMESTAMPTZ,
    rows_read BIGINT,
    rows_loaded BIGINT,
    rows_new BIGINT,
    rows_quarantined BIGINT,
    detail JSON
);
CREATE TABLE backfill_jobs (
    job_id VARCHAR PRIMARY KEY,
    params JSON,
    status VARCHAR NOT NULL,
    attempt INTEGER NOT NULL,
    started_at TIMESTAMPTZ,
    finished_at TIMESTAMPTZ,
    detail JSON
);
CREATE TABLE backfill_progress (
    job_id VARCHAR NOT NULL,
    date DATE NOT NULL,
    n_series INTEGER,
    fixings_new INTEGER,
    values_new INTEGER,
    values_kept INTEGER,
    done_at TIMESTAMPTZ,
    PRIMARY KEY (job_id, date)
);
CREATE TABLE recomputed_values (
    index_id VARCHAR NOT NULL,
    date DATE NOT NULL,
    methodology_version VARCHAR NOT NULL,
    revision INTEGER NOT NULL,
    value DOUBLE,
    unit VARCHAR,
    p25 DOUBLE,
    p75 DOUBLE,
    conf DOUBLE,
    n_fixings INTEGER,
    n_venues INTEGER,
    n_quotes INTEGER,
    status VARCHAR,
    inputs_hash VARCHAR,
    computed_at TIMESTAMPTZ,
    run_id VARCHAR,
    reason VARCHAR,
    PRIMARY KEY (index_id, date, methodology_version, revision)
);
"""),
    (4, "job_runs: one row per scheduled job execution (daemon), for 'spotindex status' and catch-up", """
CREATE TABLE job_runs (
    run_id VARCHAR PRIMARY KEY,
    job VARCHAR NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    status VARCHAR NOT NULL,
    data_time TIMESTAMPTZ,
    pid INTEGER,
    detail JSON,
    error VARCHAR
);
CREATE VIEW job_status AS
    SELECT job, max(started_at) AS last_started_at,
           arg_max(status, started_at) AS last_status,
           arg_max(finished_at, started_at) AS last_finished_at,
           arg_max(error, started_at) AS last_error,
           max(finished_at) FILTER (WHERE status = 'ok') AS last_ok_at,
           count(*) FILTER (WHERE status = 'failed') AS failed_runs,
           count(*) FILTER (WHERE status = 'interrupted') AS interrupted_runs,
           count(*) AS runs
    FROM job_runs GROUP BY job;
"""),
    (5, "token_prices.context_tier: the prompt size above which a long-context price applies", """
ALTER TABLE token_prices ADD COLUMN context_tier BIGINT;
"""),
]

LATEST_VERSION = MIGRATIONS[-1][0]
