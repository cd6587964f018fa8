-- sql/005_id_probe.sql: response_ids of identities that collided.
--
-- Two identities share a computed response_id only when answered in the
-- same second with the same 31 hash bits (survey_response_id()). The one
-- that comes later is then stored under the next free id of that second
-- (load/collision.c), and this table remembers it, so that loading the
-- same identity again finds it: a collision never refuses a window, and
-- reloads stay idempotent.

CREATE TABLE etl_id_probe
(
	operation   text        NOT NULL,
	response_id bigint      NOT NULL,
	base_id     bigint      NOT NULL,
	created_at  timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (operation, response_id)
);

CREATE INDEX etl_id_probe_base_idx ON etl_id_probe (operation, base_id);

COMMENT ON TABLE etl_id_probe IS
	'Identities stored under another response_id than the one they compute (survey_response_id()), because an identity answered in the same second with the same 31 hash bits held it: the next free id of that second. Written by the loader in the window''s transaction.';
COMMENT ON COLUMN etl_id_probe.response_id IS 'The id the identity is stored under (survey_response.response_id).';
COMMENT ON COLUMN etl_id_probe.base_id IS 'The id the identity computes, held by another identity.';
