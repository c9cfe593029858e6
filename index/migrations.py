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
    (2, "job_runs: one row per scheduled job execution (daemon), for 'spotindex status' and catch-up", """
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
]

LATEST_VERSION = MIGRATIONS[-1][0]
