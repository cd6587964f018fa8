-- sql/001_init.sql
--   The warehouse: survey responses and their answers, and the ETL's own
--   bookkeeping (runs, loaded windows, watermarks, rejected records).
--
--   Names are unqualified on purpose: wvetl runs every migration with
--   search_path set to the configured schema (database.schema, default
--   wolkvox). A migration runs inside one transaction opened by wvetl, so a
--   file must not contain BEGIN/COMMIT of its own.

-- survey_response ----------------------------------------------------------

CREATE TABLE survey_response
(
	response_id              bigint      PRIMARY KEY,
	operation                text        NOT NULL,
	conn_id                  text,
	agent_id                 text,
	agent_name               text,
	agent_dni                text,
	skill_id                 text,
	skill_name               text,
	answered_at              timestamptz NOT NULL,
	ani                      text,
	customer_id              text,
	voice_message_duration_s integer,
	type_interaction         text,
	result                   text,
	duration_s               integer,
	voice_message            text,
	feeling                  text,
	extras                   jsonb,
	first_loaded_at          timestamptz NOT NULL DEFAULT now(),
	last_loaded_at           timestamptz NOT NULL DEFAULT now(),
	run_id                   bigint      NOT NULL
);

CREATE INDEX survey_response_operation_answered_at_idx
	ON survey_response (operation, answered_at);

COMMENT ON TABLE survey_response IS
	'One row per Wolkvox Intelligent Survey record (report diagram_4). A record''s identity is (operation, conn_id, answered_at, agent_id, skill_id); loading it again updates this row.';
COMMENT ON COLUMN survey_response.response_id IS
	'Identity key, sorting by time: answered_at''s epoch second << 31 | 31 bits of md5 over the length-prefixed identity columns; survey_response_id() computes it.';
COMMENT ON COLUMN survey_response.operation IS
	'The operation (wvetl sync.operation, by default the Wolkvox server code) the record was loaded for.';
COMMENT ON COLUMN survey_response.conn_id IS 'Wolkvox interaction id (conn_id); NULL when the API sent a placeholder.';
COMMENT ON COLUMN survey_response.answered_at IS
	'The record''s date: the API''s wall-clock time in api.timezone, stored as an absolute time.';
COMMENT ON COLUMN survey_response.voice_message_duration_s IS 'voice_message_duration, in seconds.';
COMMENT ON COLUMN survey_response.duration_s IS 'The record''s time (duration), in seconds.';
COMMENT ON COLUMN survey_response.extras IS
	'Unknown keys with their JSON values, values that could not be typed (as sent), and load notes such as _nul_removed.';
COMMENT ON COLUMN survey_response.first_loaded_at IS 'When the row was first loaded; kept on updates.';
COMMENT ON COLUMN survey_response.last_loaded_at IS 'When the row was last inserted or changed (a reload that finds the record unchanged does not write it again).';
COMMENT ON COLUMN survey_response.run_id IS 'etl_run.run_id of the run that last inserted or changed the row.';

-- survey_answer ------------------------------------------------------------

-- survey_answer.response_id references survey_response.response_id. There
-- is deliberately no FOREIGN KEY constraint: its per-row check would cost
-- more than the COPY of the answers itself. The loader keeps the two tables
-- consistent: a response and its answers are written in one transaction,
-- and an updated response has its answers deleted and inserted again.
CREATE TABLE survey_answer
(
	response_id bigint  NOT NULL,
	question_no integer NOT NULL,
	answer_text text    NOT NULL,
	answer_num  numeric,
	PRIMARY KEY (response_id, question_no)
);

COMMENT ON TABLE survey_answer IS
	'One row per answered question (q<N> key) of a survey_response; unanswered questions have no row.';
COMMENT ON COLUMN survey_answer.response_id IS
	'References survey_response.response_id (kept consistent by the loader; no FK constraint, for load speed).';
COMMENT ON COLUMN survey_answer.question_no IS 'N of the q<N> key (q01 -> 1).';
COMMENT ON COLUMN survey_answer.answer_text IS 'The answer as the API sent it.';
COMMENT ON COLUMN survey_answer.answer_num IS 'The answer''s numeric value when it is a decimal number, else NULL.';

-- survey_response_id(): the identity key in SQL ------------------------------

-- Must agree bit for bit with load_response_id() in load/identity.c:
-- (epoch seconds of answered_at, clamped to [0, 2^32 - 1], i.e. up to the
-- year 2106) << 31, OR the first 31 bits (8 hex digits, shifted right
-- once) of md5 over, for each of operation, conn_id,
-- answered_at (decimal epoch seconds, unclamped), agent_id, skill_id,
-- "<byte length>:<bytes>" ("0:" for NULL). Ids sort by time: the surveys
-- and answers of a time range are one response_id range (see
-- survey_response_id_floor()).
CREATE FUNCTION survey_response_id(operation text, conn_id text, answered_at timestamptz,
								   agent_id text, skill_id text)
	RETURNS bigint
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
	SELECT (greatest(0, least(extract(epoch FROM $3)::bigint, 4294967295)) << 31)
		 | ((('x' || substr(md5(
				octet_length($1)::text || ':' || $1 ||
				coalesce(octet_length($2)::text || ':' || $2, '0:') ||
				octet_length(extract(epoch FROM $3)::bigint::text)::text || ':' ||
					extract(epoch FROM $3)::bigint::text ||
				coalesce(octet_length($4)::text || ':' || $4, '0:') ||
				coalesce(octet_length($5)::text || ':' || $5, '0:')
			), 1, 8))::bit(32)::bigint) >> 1)
$$;

COMMENT ON FUNCTION survey_response_id(text, text, timestamptz, text, text) IS
	'The response_id wvetl gives a record with this identity (operation, conn_id, answered_at, agent_id, skill_id): its epoch second << 31 | 31 bits of md5.';

-- survey_response_id_floor(t): the lowest response_id of the first whole
-- second at or after t (answered_at holds whole seconds). For any t,
-- answered_at >= t  <=>  response_id >= survey_response_id_floor(t), and
-- answered_at <  t  <=>  response_id <  survey_response_id_floor(t), so a
-- time range is a response_id range of survey_response and survey_answer.
CREATE FUNCTION survey_response_id_floor(t timestamptz)
	RETURNS bigint
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
	SELECT greatest(0, least(ceil(extract(epoch FROM $1))::bigint, 4294967295)) << 31
$$;

COMMENT ON FUNCTION survey_response_id_floor(timestamptz) IS
	'The lowest response_id of a survey answered at or after t: response_id >= survey_response_id_floor(a) AND response_id < survey_response_id_floor(b) is answered_at in [a, b).';

-- etl_run ------------------------------------------------------------------

CREATE TABLE etl_run
(
	run_id     bigserial   PRIMARY KEY,
	operation  text        NOT NULL,
	command    text        NOT NULL,
	range_from timestamptz,
	range_to   timestamptz,
	started_at timestamptz NOT NULL DEFAULT now(),
	ended_at   timestamptz,
	status     text        NOT NULL DEFAULT 'running',
	records    bigint      NOT NULL DEFAULT 0,
	inserted   bigint      NOT NULL DEFAULT 0,
	updated    bigint      NOT NULL DEFAULT 0,
	duplicates bigint      NOT NULL DEFAULT 0,
	rejects    bigint      NOT NULL DEFAULT 0,
	api_calls  bigint      NOT NULL DEFAULT 0,
	bytes      bigint      NOT NULL DEFAULT 0,
	error      text,
	pid        integer,
	host       text,
	version    text
);

CREATE INDEX etl_run_operation_idx ON etl_run (operation, run_id);

COMMENT ON TABLE etl_run IS
	'One row per wvetl run. Counters grow with every committed window, so a killed run still shows what it committed.';
COMMENT ON COLUMN etl_run.command IS 'sync, backfill, replay, ...';
COMMENT ON COLUMN etl_run.range_from IS 'Start of the range the run was asked to load (inclusive).';
COMMENT ON COLUMN etl_run.range_to IS 'End of the range the run was asked to load (exclusive).';
COMMENT ON COLUMN etl_run.status IS
	'running, ok, failed, interrupted, locked, try_later, or abandoned (the process went away while running).';
COMMENT ON COLUMN etl_run.records IS 'Records received in committed windows.';
COMMENT ON COLUMN etl_run.duplicates IS 'Records that repeated an identity within one API response (the later one won).';
COMMENT ON COLUMN etl_run.api_calls IS 'API requests made.';
COMMENT ON COLUMN etl_run.bytes IS 'Response body bytes received from the API.';

-- etl_window ---------------------------------------------------------------

CREATE TABLE etl_window
(
	operation   text        NOT NULL,
	window_from timestamptz NOT NULL,
	window_to   timestamptz NOT NULL,
	run_id      bigint      NOT NULL,
	records     bigint      NOT NULL DEFAULT 0,
	inserted    bigint      NOT NULL DEFAULT 0,
	updated     bigint      NOT NULL DEFAULT 0,
	duplicates  bigint      NOT NULL DEFAULT 0,
	rejects     bigint      NOT NULL DEFAULT 0,
	api_calls   bigint      NOT NULL DEFAULT 0,
	bytes       bigint      NOT NULL DEFAULT 0,
	mode        text        NOT NULL,
	loaded_at   timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (operation, window_from, window_to)
);

COMMENT ON TABLE etl_window IS
	'Windows [window_from, window_to) loaded per operation; loading the same window again updates its row. Gaps between rows are ranges never loaded.';
COMMENT ON COLUMN etl_window.mode IS
	'fast: COPY straight into the tables (no loaded row overlapped); merge: staged and merged on identity.';

-- etl_state ----------------------------------------------------------------

CREATE TABLE etl_state
(
	operation  text        PRIMARY KEY,
	watermark  timestamptz,
	timezone   text,
	report     text,
	updated_at timestamptz NOT NULL DEFAULT now(),
	run_id     bigint
);

COMMENT ON TABLE etl_state IS 'Per operation: where `wvetl sync` continues from.';
COMMENT ON COLUMN etl_state.watermark IS
	'Everything before this time has been loaded by sync; it only moves forward.';
COMMENT ON COLUMN etl_state.timezone IS 'The IANA zone the operation''s API dates are in (api.timezone).';

-- etl_reject ---------------------------------------------------------------

CREATE TABLE etl_reject
(
	reject_id   bigserial   PRIMARY KEY,
	operation   text        NOT NULL,
	window_from timestamptz NOT NULL,
	window_to   timestamptz NOT NULL,
	run_id      bigint      NOT NULL,
	reason      text        NOT NULL,
	raw_record  text        NOT NULL,
	raw_md5     text        NOT NULL,
	first_seen  timestamptz NOT NULL DEFAULT now(),
	last_seen   timestamptz NOT NULL DEFAULT now(),
	UNIQUE (operation, raw_md5)
);

COMMENT ON TABLE etl_reject IS
	'Records that could not be loaded (for example without a readable date), with their raw text. The same record seen again updates last_seen.';
COMMENT ON COLUMN etl_reject.reason IS 'Why the record was rejected.';
COMMENT ON COLUMN etl_reject.raw_record IS 'The record as compact JSON, keys and values as the API sent them.';
COMMENT ON COLUMN etl_reject.raw_md5 IS 'md5(raw_record): what makes a reject the same reject.';
