package models

// The core schema shared by several areas (roster, consultations,
// invitations, responses, outbox). Each area adds its own tables and
// columns with migrations in its own version block (see migrate.go).
//
// Answers are kept twice on purpose: `answers` holds the respondent's
// working copy (a draft, one JSON value per question), and
// `submitted_answers` the last submitted version exploded into one row per
// value (a multi-choice option, a matrix row), which is what synthesis,
// search and export read with plain GROUP BY and streaming scans.
func init() {
	Register(Migration{Version: 10, Name: "core schema: roster, consultations, invitations, responses, outbox", SQL: `
CREATE TABLE organizations (
	id {{ID}},
	name TEXT NOT NULL,
	kind TEXT NOT NULL CHECK (kind IN ('member_state','ngo','intergovernmental','academic','other')),
	country TEXT NOT NULL DEFAULT '',
	archived_at {{TIME}},
	created_at {{TIME}} NOT NULL,
	updated_at {{TIME}} NOT NULL
);
CREATE TABLE participants (
	id {{ID}},
	name TEXT NOT NULL,
	email TEXT NOT NULL UNIQUE,
	kind TEXT NOT NULL CHECK (kind IN ('expert','ngo','researcher','observer')),
	country TEXT NOT NULL DEFAULT '',
	organization_id {{BIGINT}} REFERENCES organizations(id),
	language TEXT NOT NULL DEFAULT 'en',
	nominated_by TEXT NOT NULL DEFAULT '',
	archived_at {{TIME}},
	created_at {{TIME}} NOT NULL,
	updated_at {{TIME}} NOT NULL
);
CREATE INDEX participants_country ON participants (country);
CREATE INDEX participants_kind ON participants (kind);
CREATE TABLE consultations (
	id {{ID}},
	title TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	unit TEXT NOT NULL CHECK (unit IN ('person','state')),
	languages TEXT NOT NULL DEFAULT '["en"]',
	min_cell_size INTEGER NOT NULL DEFAULT 5,
	created_at {{TIME}} NOT NULL,
	updated_at {{TIME}} NOT NULL
);
CREATE TABLE rounds (
	id {{ID}},
	consultation_id {{BIGINT}} NOT NULL REFERENCES consultations(id),
	position INTEGER NOT NULL DEFAULT 0,
	title TEXT NOT NULL,
	opens_at {{TIME}},
	closes_at {{TIME}},
	state TEXT NOT NULL DEFAULT 'draft' CHECK (state IN ('draft','open','closed')),
	show_results_of {{BIGINT}} REFERENCES rounds(id),
	created_at {{TIME}} NOT NULL,
	updated_at {{TIME}} NOT NULL
);
CREATE INDEX rounds_consultation ON rounds (consultation_id);
CREATE TABLE questions (
	id {{ID}},
	round_id {{BIGINT}} NOT NULL REFERENCES rounds(id),
	position INTEGER NOT NULL DEFAULT 0,
	kind TEXT NOT NULL,
	prompt TEXT NOT NULL,
	help TEXT NOT NULL DEFAULT '',
	required BOOLEAN NOT NULL DEFAULT FALSE,
	options TEXT NOT NULL DEFAULT '[]',
	rows_json TEXT NOT NULL DEFAULT '[]',
	min_value REAL,
	max_value REAL,
	created_at {{TIME}} NOT NULL,
	updated_at {{TIME}} NOT NULL
);
CREATE INDEX questions_round ON questions (round_id, position);
CREATE TABLE invitations (
	id {{ID}},
	consultation_id {{BIGINT}} NOT NULL REFERENCES consultations(id),
	participant_id {{BIGINT}} NOT NULL REFERENCES participants(id),
	token_hash TEXT NOT NULL UNIQUE,
	status TEXT NOT NULL DEFAULT 'queued',
	state_country TEXT,
	created_at {{TIME}} NOT NULL,
	sent_at {{TIME}},
	opened_at {{TIME}},
	started_at {{TIME}},
	submitted_at {{TIME}},
	revoked_at {{TIME}},
	expires_at {{TIME}}
);
CREATE INDEX invitations_consultation ON invitations (consultation_id, status);
CREATE INDEX invitations_participant ON invitations (participant_id);
CREATE TABLE respondents (
	id {{ID}},
	consultation_id {{BIGINT}} NOT NULL REFERENCES consultations(id),
	participant_id {{BIGINT}} REFERENCES participants(id),
	code TEXT NOT NULL UNIQUE,
	state_country TEXT,
	gender TEXT NOT NULL DEFAULT '',
	institution_type TEXT NOT NULL DEFAULT '',
	country TEXT NOT NULL DEFAULT '',
	consent_at {{TIME}},
	created_at {{TIME}} NOT NULL,
	updated_at {{TIME}} NOT NULL,
	UNIQUE (consultation_id, participant_id),
	UNIQUE (consultation_id, state_country)
);
CREATE INDEX respondents_consultation_code ON respondents (consultation_id, code);
CREATE TABLE responses (
	id {{ID}},
	respondent_id {{BIGINT}} NOT NULL REFERENCES respondents(id),
	round_id {{BIGINT}} NOT NULL REFERENCES rounds(id),
	status TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft','submitted')),
	version INTEGER NOT NULL DEFAULT 0,
	unsubmitted_changes BOOLEAN NOT NULL DEFAULT FALSE,
	submitted_at {{TIME}},
	created_at {{TIME}} NOT NULL,
	updated_at {{TIME}} NOT NULL,
	UNIQUE (respondent_id, round_id)
);
CREATE INDEX responses_round_status ON responses (round_id, status);
CREATE TABLE answers (
	response_id {{BIGINT}} NOT NULL REFERENCES responses(id),
	question_id {{BIGINT}} NOT NULL REFERENCES questions(id),
	value TEXT NOT NULL,
	updated_at {{TIME}} NOT NULL,
	PRIMARY KEY (response_id, question_id)
);
CREATE TABLE submitted_answers (
	id {{ID}},
	response_id {{BIGINT}} NOT NULL REFERENCES responses(id),
	respondent_id {{BIGINT}} NOT NULL REFERENCES respondents(id),
	round_id {{BIGINT}} NOT NULL REFERENCES rounds(id),
	question_id {{BIGINT}} NOT NULL REFERENCES questions(id),
	row_key TEXT NOT NULL DEFAULT '',
	value TEXT NOT NULL,
	num REAL
);
CREATE INDEX submitted_answers_response ON submitted_answers (response_id);
CREATE INDEX submitted_answers_question ON submitted_answers (question_id, row_key, value);
CREATE INDEX submitted_answers_respondent ON submitted_answers (respondent_id, round_id, question_id);
CREATE TABLE outbox (
	id {{ID}},
	kind TEXT NOT NULL DEFAULT '',
	consultation_id {{BIGINT}},
	invitation_id {{BIGINT}},
	to_address TEXT NOT NULL,
	subject TEXT NOT NULL,
	text_body TEXT NOT NULL,
	html_body TEXT NOT NULL DEFAULT '',
	status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued','sending','sent','failed','held')),
	attempts INTEGER NOT NULL DEFAULT 0,
	next_attempt_at {{TIME}} NOT NULL,
	claimed_by TEXT NOT NULL DEFAULT '',
	claimed_until {{TIME}},
	error TEXT NOT NULL DEFAULT '',
	created_at {{TIME}} NOT NULL,
	sent_at {{TIME}}
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_to ON outbox (to_address);
`})
}
