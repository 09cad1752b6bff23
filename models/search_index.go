package models

import (
	"context"
	"sync"

	"gorm.io/gorm"
)

// The SQLite search indexer. A submit used to tokenize its open answers
// into the FTS4 table through insert triggers, inside the single writer's
// transaction, and FTS4 wrote a new index segment at every commit: about
// a third of the writer's time under load (docs/BENCHMARKS.md). Now
// submitted_answers rows are indexed afterwards, in id order, many at a
// time: search_index_state.through is the highest id the index has seen.
// Rows above it are not indexed yet; a row at or below it that is
// deleted, or whose text is rewritten (a resubmission changes an answer in
// place), queues its id in search_index_drops (triggers), and the indexer
// removes it from the index and indexes again those still there, with
// their new text. Ids are never reused (AUTOINCREMENT) and the single
// writer commits them in order, so "through" is exact.
//
// A search is always complete: ListAnswers brings the index up to date
// before it matches (catchUpSearch), and a match is joined to
// submitted_answers, so an answer deleted but not yet dropped from the
// index is never returned. The server also runs IndexSearch every second
// (server/scale.go), so that a search rarely has to wait.
func init() {
	Register(Migration{Version: 404, Name: "search index kept by the indexer, not by insert triggers", Up: func(tx *gorm.DB, d Dialect) error {
		if d == Postgres {
			return nil // the GIN expression index is kept by PostgreSQL
		}
		isText := func(row string) string {
			return `(SELECT kind FROM questions WHERE id = ` + row + `.question_id) IN ('long_text','short_text')`
		}
		indexed := func(row string) string {
			return row + `.id <= (SELECT through FROM search_index_state WHERE id = 1)`
		}
		for _, st := range []string{
			`DROP TRIGGER IF EXISTS submitted_answers_fts_ins`,
			`DROP TRIGGER IF EXISTS submitted_answers_fts_del`,
			`DROP TRIGGER IF EXISTS submitted_answers_fts_upd`,
			`CREATE TABLE search_index_state (id INTEGER PRIMARY KEY CHECK (id = 1), through INTEGER NOT NULL)`,
			// The triggers kept every row so far in the index.
			`INSERT INTO search_index_state (id, through) SELECT 1, COALESCE(MAX(id), 0) FROM submitted_answers`,
			`CREATE TABLE search_index_drops (docid INTEGER PRIMARY KEY)`,
			`CREATE TRIGGER submitted_answers_fts_del AFTER DELETE ON submitted_answers WHEN ` + indexed("OLD") + ` AND ` + isText("OLD") + `
BEGIN INSERT OR IGNORE INTO search_index_drops (docid) VALUES (OLD.id); END`,
			// Rewording an indexed answer (rare) reindexes it at once.
			`CREATE TRIGGER submitted_answers_fts_upd AFTER UPDATE OF value ON submitted_answers WHEN ` + indexed("NEW") + ` AND ` + isText("NEW") + `
BEGIN DELETE FROM answer_fts WHERE docid = OLD.id; INSERT INTO answer_fts(docid, body) VALUES (NEW.id, NEW.value); END`,
		} {
			if err := tx.Exec(st).Error; err != nil {
				return err
			}
		}
		return nil
	}})
}

func init() {
	// Until 413 an update of indexed text re-indexed it inside the write;
	// now it queues the row like a delete does, and the indexer re-adds it.
	Register(Migration{Version: 413, Name: "search index: rewritten answers queued for the indexer", Up: func(tx *gorm.DB, d Dialect) error {
		if d == Postgres {
			return nil
		}
		for _, st := range []string{
			`DROP TRIGGER IF EXISTS submitted_answers_fts_upd`,
			`CREATE TRIGGER submitted_answers_fts_upd AFTER UPDATE OF value ON submitted_answers
WHEN NEW.id <= (SELECT through FROM search_index_state WHERE id = 1) AND (SELECT kind FROM questions WHERE id = NEW.question_id) IN ('long_text','short_text')
BEGIN INSERT OR IGNORE INTO search_index_drops (docid) VALUES (NEW.id); END`,
		} {
			if err := tx.Exec(st).Error; err != nil {
				return err
			}
		}
		return nil
	}})
}

// searchReindexSQL indexes again the queued rows still there, up to the
// parameter (the lower of the indexer's through and the chunk's last
// queued id).
const searchReindexSQL = `INSERT INTO answer_fts(docid, body) SELECT sa.id, sa.value FROM search_index_drops d
CROSS JOIN submitted_answers sa ON sa.id = d.docid JOIN questions q ON q.id = sa.question_id
WHERE d.docid <= ? AND q.kind IN ('long_text','short_text') ORDER BY d.docid`

// SearchIndexChunk bounds how many submitted_answers rows one indexer
// transaction adds, and how many queued (deleted or rewritten) ones it
// drops or re-adds, while respondents' writes wait for the single writer:
// each of them waits behind it. At this size it holds the writer for a few
// milliseconds; a second's worth of answers under load held it for 50 to
// 100 (measured on 27 Nov). Alone in its batch with no write queued (a
// backlog after a bulk load, a quiet server), a transaction takes
// SearchIndexIdleChunk.
var SearchIndexChunk, SearchIndexIdleChunk = 128, 100_000

// IndexSearch brings the SQLite full-text index up to date: it drops the
// deleted answers queued for it, indexes the rewritten ones again and adds
// the open answers submitted since it last ran, a chunk per write, and
// returns how many it added. A no-op on PostgreSQL.
func (s *Store) IndexSearch(ctx context.Context) (int64, error) {
	if s.Dialect != SQLite {
		return 0, nil
	}
	// Read first: an idle server does not write (and fsync) every second.
	if ok, err := s.searchPending(ctx); err != nil || !ok {
		return 0, err
	}
	var total int64
	for {
		var added int64
		var more bool
		// Rerunnable (it sets added and more afresh): a batch of such
		// writes runs without savepoints, whose journal would hold a copy
		// of every index page this write changes.
		err := s.writeRerunnable(ctx, func(tx *gorm.DB) error {
			added, more = 0, false
			chunk := SearchIndexChunk
			if s.shared.Load() <= 1 && len(s.writes) == 0 {
				chunk = SearchIndexIdleChunk // alone in its batch, none queued
			}
			var through, top, dropsTo, upto int64
			if err := tx.Raw(`SELECT through FROM search_index_state WHERE id = 1`).Row().Scan(&through); err != nil {
				return err
			}
			if err := tx.Raw(`SELECT COALESCE(MAX(id), 0) FROM submitted_answers`).Row().Scan(&top); err != nil {
				return err
			}
			// The chunk's queued rows: the first chunk of them.
			if err := tx.Raw(`SELECT COALESCE((SELECT docid FROM search_index_drops ORDER BY docid LIMIT 1 OFFSET ?),
	(SELECT MAX(docid) FROM search_index_drops), 0), EXISTS (SELECT 1 FROM search_index_drops WHERE docid > (SELECT docid FROM search_index_drops ORDER BY docid LIMIT 1 OFFSET ?))`,
				chunk-1, chunk-1).Row().Scan(&dropsTo, &more); err != nil {
				return err
			}
			if dropsTo > 0 {
				if err := tx.Exec(`DELETE FROM answer_fts WHERE docid IN (SELECT docid FROM search_index_drops WHERE docid <= ?)`, dropsTo).Error; err != nil {
					return err
				}
				// The queued rows still there were rewritten: index their
				// text again (those above through come with the rest
				// below). CROSS JOIN keeps the few queued rows the outer
				// loop: the planner would otherwise walk
				// submitted_answers up to through.
				if err := tx.Exec(searchReindexSQL, min(through, dropsTo)).Error; err != nil {
					return err
				}
				if err := tx.Exec(`DELETE FROM search_index_drops WHERE docid <= ?`, dropsTo).Error; err != nil {
					return err
				}
			}
			// The chunk's new rows: up to just before the row chunk
			// places after through.
			if err := tx.Raw(`SELECT COALESCE((SELECT id - 1 FROM submitted_answers WHERE id > ? ORDER BY id LIMIT 1 OFFSET ?), ?)`,
				through, chunk, top).Row().Scan(&upto); err != nil {
				return err
			}
			if upto <= through {
				return nil
			}
			res := tx.Exec(`INSERT INTO answer_fts(docid, body) SELECT sa.id, sa.value FROM submitted_answers sa
JOIN questions q ON q.id = sa.question_id WHERE sa.id > ? AND sa.id <= ? AND q.kind IN ('long_text','short_text') ORDER BY sa.id`, through, upto)
			if res.Error != nil {
				return res.Error
			}
			added, more = res.RowsAffected, more || upto < top
			return tx.Exec(`UPDATE search_index_state SET through = ? WHERE id = 1`, upto).Error
		})
		if err != nil {
			return total, err
		}
		total += added
		if !more {
			return total, nil
		}
	}
}

// catchUpSearch indexes what a search would otherwise miss.
func (s *Store) catchUpSearch(ctx context.Context) error {
	if s.Dialect != SQLite {
		return nil
	}
	return catchUp(&s.searchMu, func() (bool, error) { return s.searchPending(ctx) }, func() error {
		_, err := s.IndexSearch(ctx)
		return err
	})
}

// searchPending reads whether the indexer has anything to do: answers
// submitted since it last ran, or deleted ones to drop.
func (s *Store) searchPending(ctx context.Context) (pending bool, err error) {
	err = s.R.WithContext(ctx).Raw(`SELECT (SELECT through FROM search_index_state WHERE id = 1) < (SELECT COALESCE(MAX(id), 0) FROM submitted_answers)
	OR EXISTS (SELECT 1 FROM search_index_drops)`).Row().Scan(&pending)
	return pending, err
}

// catchUp runs work before a read that needs it done (a tally fold, the
// search indexer): only when pending, read first, says there is some, and
// one at a time under mu, so that concurrent readers wait for one run
// instead of queueing one each.
func catchUp(mu *sync.Mutex, pending func() (bool, error), work func() error) error {
	if ok, err := pending(); err != nil || !ok {
		return err
	}
	mu.Lock()
	defer mu.Unlock()
	if ok, err := pending(); err != nil || !ok {
		return err
	}
	return work()
}
