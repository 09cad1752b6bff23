package models

// Scale (issue 8): schema changes the scale proof showed were needed.
func init() {
	// submitted_answers_question indexed the answer text itself: on
	// PostgreSQL a submitted open answer over ~2.7 kB failed ("index row
	// size exceeds btree maximum"), and on SQLite the index was larger
	// than the table. No query looks answers up by their text (search has
	// its own full-text index; synthesis reads tallies), so the index
	// keeps only the question and matrix row.
	Register(Migration{Version: 600, Name: "scale: submitted_answers_question without the answer text", SQL: `
DROP INDEX submitted_answers_question;
CREATE INDEX submitted_answers_question ON submitted_answers (question_id, row_key);
`})
}
