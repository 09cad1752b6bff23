package models

import (
	"sync"

	"gorm.io/gorm"
)

// The journey cache: every respondent request needs its consultation's
// rounds and the current round's questions, which change only when staff
// edit them. A per-process cache keeps them, keyed by consultation and
// checked against consultations.rev, a revision that database triggers
// bump on every insert, update or delete of a round or question. The
// consultation row is read on every request anyway, so the check costs
// nothing more, and it holds across app instances sharing one PostgreSQL
// and for any code that writes those tables, with or without the store.
func init() {
	Register(Migration{Version: 20, Name: "foundation: consultation revision bumped by round and question changes (journey cache)", Up: func(tx *gorm.DB, d Dialect) error {
		stmts := []string{`ALTER TABLE consultations ADD COLUMN rev BIGINT NOT NULL DEFAULT 0`}
		if d == Postgres {
			stmts = append(stmts,
				`CREATE FUNCTION consultation_rev_round() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
	IF TG_OP = 'DELETE' THEN UPDATE consultations SET rev = rev + 1 WHERE id = OLD.consultation_id;
	ELSE UPDATE consultations SET rev = rev + 1 WHERE id = NEW.consultation_id; END IF;
	IF TG_OP = 'UPDATE' AND OLD.consultation_id <> NEW.consultation_id THEN UPDATE consultations SET rev = rev + 1 WHERE id = OLD.consultation_id; END IF;
	RETURN NULL; END $$`,
				`CREATE TRIGGER rounds_rev AFTER INSERT OR UPDATE OR DELETE ON rounds FOR EACH ROW EXECUTE FUNCTION consultation_rev_round()`,
				`CREATE FUNCTION consultation_rev_question() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
	IF TG_OP <> 'INSERT' THEN UPDATE consultations SET rev = rev + 1 WHERE id = (SELECT consultation_id FROM rounds WHERE id = OLD.round_id); END IF;
	IF TG_OP <> 'DELETE' THEN UPDATE consultations SET rev = rev + 1 WHERE id = (SELECT consultation_id FROM rounds WHERE id = NEW.round_id); END IF;
	RETURN NULL; END $$`,
				`CREATE TRIGGER questions_rev AFTER INSERT OR UPDATE OR DELETE ON questions FOR EACH ROW EXECUTE FUNCTION consultation_rev_question()`)
		} else {
			stmts = append(stmts,
				`CREATE TRIGGER rounds_rev_ins AFTER INSERT ON rounds BEGIN UPDATE consultations SET rev = rev + 1 WHERE id = NEW.consultation_id; END`,
				`CREATE TRIGGER rounds_rev_upd AFTER UPDATE ON rounds BEGIN UPDATE consultations SET rev = rev + 1 WHERE id IN (OLD.consultation_id, NEW.consultation_id); END`,
				`CREATE TRIGGER rounds_rev_del AFTER DELETE ON rounds BEGIN UPDATE consultations SET rev = rev + 1 WHERE id = OLD.consultation_id; END`,
				`CREATE TRIGGER questions_rev_ins AFTER INSERT ON questions BEGIN UPDATE consultations SET rev = rev + 1 WHERE id = (SELECT consultation_id FROM rounds WHERE id = NEW.round_id); END`,
				`CREATE TRIGGER questions_rev_upd AFTER UPDATE ON questions BEGIN UPDATE consultations SET rev = rev + 1 WHERE id IN (SELECT consultation_id FROM rounds WHERE id IN (OLD.round_id, NEW.round_id)); END`,
				`CREATE TRIGGER questions_rev_del AFTER DELETE ON questions BEGIN UPDATE consultations SET rev = rev + 1 WHERE id = (SELECT consultation_id FROM rounds WHERE id = OLD.round_id); END`)
		}
		for _, st := range stmts {
			if err := tx.Exec(st).Error; err != nil {
				return err
			}
		}
		return nil
	}})
}

// journeyMeta is what the cache holds for one consultation at one
// revision. rounds and the question slices are shared by every request
// that reads them and must never be modified.
type journeyMeta struct {
	rev    int64
	rounds []Round
	mu     sync.Mutex
	qs     map[int64][]Question // by round, filled on first use
}

type journeyCache struct {
	mu sync.RWMutex
	m  map[int64]*journeyMeta
}

// meta returns the cached rounds (and question store) of consultation c
// at revision rev, reading the rounds when the cache holds another one.
func (s *Store) journeyMeta(db *gorm.DB, id, rev int64) (*journeyMeta, error) {
	jc := &s.journeys
	jc.mu.RLock()
	m := jc.m[id]
	jc.mu.RUnlock()
	if m != nil && m.rev == rev {
		return m, nil
	}
	m = &journeyMeta{rev: rev, qs: map[int64][]Question{}}
	if err := db.Where("consultation_id = ?", id).Order("position, id").Find(&m.rounds).Error; err != nil {
		return nil, err
	}
	jc.mu.Lock()
	if jc.m == nil {
		jc.m = map[int64]*journeyMeta{}
	}
	// A concurrent reader may have seen a newer revision; keep the newest.
	if old := jc.m[id]; old == nil || old.rev <= rev {
		jc.m[id] = m
	}
	jc.mu.Unlock()
	return m, nil
}

// questions returns the questions of a round of the cached consultation.
func (m *journeyMeta) questions(db *gorm.DB, round int64) ([]Question, error) {
	m.mu.Lock()
	qs, ok := m.qs[round]
	m.mu.Unlock()
	if ok {
		return qs, nil
	}
	if err := db.Where("round_id = ?", round).Order("position, id").Find(&qs).Error; err != nil {
		return nil, err
	}
	for i := range qs {
		qs[i].choices, qs[i].rows = decodeChoices(qs[i].Options), decodeChoices(qs[i].RowsJSON)
	}
	m.mu.Lock()
	m.qs[round] = qs
	m.mu.Unlock()
	return qs, nil
}
