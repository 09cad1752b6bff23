package models

import (
	"context"
	"fmt"
	"math"
	"sort"

	"gorm.io/gorm"
)

// Invitation tallies: the invited and submitted counts that the synthesis
// response rate and the dashboard's response-rate tables read, kept per
// consultation, participant kind and nominating State by database
// triggers on invitations and participants, so that reading them costs
// O(groups) whatever the number of invitations (issue 8) and no write
// path (issuing, revoking, submitting, roster edits, nominations, imports,
// bulk loads, future code) can forget them.
//
//	live       invitations with revoked_at IS NULL (Synthesis.Invited)
//	invited    live invitations whose status is not 'revoked'
//	submitted  invited ones with submitted_at set or status 'submitted'
//
// A live invitation is unique per participant and consultation (partial
// unique index invitations_live_participant), so these counts equal the
// COUNT(DISTINCT participant_id) definitions they replace; RecountInvitationTallies
// rebuilds them with those definitions and the tests compare the two.
//
// On PostgreSQL each group is spread over invitationTallyShards rows so
// that concurrent transactions do not all wait on one row's lock; readers
// sum the shards. A transaction's changes go to the shard of its backend
// (pg_backend_pid() modulo the shard count, migration 412), so a batch of
// invitations locks one row per group, not every shard; the first version
// (migration 410) sharded by invitation id. A shard may go negative (a
// revocation lands on another backend's shard than the issue): only sums
// mean anything. SQLite has a single writer and keeps shard 0.
const invitationTallyShards = 16

// shardMode says how the triggers choose a row's shard.
type shardMode int

const (
	shardZero    shardMode = iota // SQLite
	shardByID                     // PostgreSQL, migration 410
	shardBackend                  // PostgreSQL, migration 412
)

func modeOf(d Dialect) shardMode {
	if d == Postgres {
		return shardBackend
	}
	return shardZero
}

// shardGroupSQL is the shard's GROUP BY term (none when the shard is a
// constant for the statement; on SQLite a constant would name a result
// column).
func shardGroupSQL(m shardMode, id string) string {
	if m == shardByID {
		return ", " + invitationShardSQL(m, id)
	}
	return ""
}

func invitationShardSQL(m shardMode, id string) string {
	switch m {
	case shardByID:
		return fmt.Sprintf("(%s %% %d)", id, invitationTallyShards)
	case shardBackend:
		return fmt.Sprintf("(pg_backend_pid() %% %d)", invitationTallyShards)
	}
	return "0"
}

// invitationContribSQL returns the live, invited and submitted
// contributions (0 or 1) of an invitation row (prefix NEW. or OLD. or i.).
func invitationContribSQL(p string) (live, invited, submitted string) {
	live = "CASE WHEN " + p + "revoked_at IS NULL THEN 1 ELSE 0 END"
	invited = "CASE WHEN " + p + "revoked_at IS NULL AND " + p + "status <> 'revoked' THEN 1 ELSE 0 END"
	submitted = "CASE WHEN " + p + "revoked_at IS NULL AND " + p + "status <> 'revoked' AND (" + p + "submitted_at IS NOT NULL OR " + p + "status = 'submitted') THEN 1 ELSE 0 END"
	return
}

const invitationTallyUpsert = ` ON CONFLICT (consultation_id, kind, nominated_by, shard) DO UPDATE SET
live = invitation_tallies.live + excluded.live, invited = invitation_tallies.invited + excluded.invited,
submitted = invitation_tallies.submitted + excluded.submitted`

// invitationRowSQL adds (sign "+") or removes (sign "-") one invitation
// row's contribution; p is NEW. or OLD.
func invitationRowSQL(d shardMode, p, sign string) string {
	live, invited, submitted := invitationContribSQL(p)
	return `INSERT INTO invitation_tallies (consultation_id, kind, nominated_by, shard, live, invited, submitted)
SELECT ` + p + `consultation_id, pa.kind, pa.nominated_by, ` + invitationShardSQL(d, p+"id") + `, ` + sign + `(` + live + `), ` + sign + `(` + invited + `), ` + sign + `(` + submitted + `)
FROM participants pa WHERE pa.id = ` + p + `participant_id AND ` + p + `revoked_at IS NULL` + invitationTallyUpsert
}

// participantMoveSQL moves a participant's live invitations from the
// group of OLD (sign "-", p "OLD.") or to the group of NEW ("+", "NEW.").
func participantMoveSQL(d shardMode, p, sign string) string {
	live, invited, submitted := invitationContribSQL("i.")
	shard := invitationShardSQL(d, "i.id")
	return `INSERT INTO invitation_tallies (consultation_id, kind, nominated_by, shard, live, invited, submitted)
SELECT i.consultation_id, ` + p + `kind, ` + p + `nominated_by, ` + shard + `, ` + sign + `SUM(` + live + `), ` + sign + `SUM(` + invited + `), ` + sign + `SUM(` + submitted + `)
FROM invitations i WHERE i.participant_id = ` + p + `id AND i.revoked_at IS NULL GROUP BY i.consultation_id` + shardGroupSQL(d, "i.id") + invitationTallyUpsert
}

// invitationChangedSQL is true when an update can change a row's
// contribution or its group.
const invitationChangedSQL = `OLD.consultation_id <> NEW.consultation_id OR OLD.participant_id <> NEW.participant_id
OR (OLD.revoked_at IS NULL) <> (NEW.revoked_at IS NULL) OR (OLD.status = 'revoked') <> (NEW.status = 'revoked')
OR (OLD.status = 'submitted') <> (NEW.status = 'submitted') OR (OLD.submitted_at IS NULL) <> (NEW.submitted_at IS NULL)`

// invitationTallyTriggers returns the statements creating the triggers.
func invitationTallyTriggers(d Dialect, m shardMode) []string {
	if d == Postgres {
		return append(invitationTallyFunctions(m),
			`CREATE TRIGGER invitation_tallies_ins AFTER INSERT ON invitations FOR EACH ROW EXECUTE FUNCTION invitation_tallies_inv()`,
			`CREATE TRIGGER invitation_tallies_del AFTER DELETE ON invitations FOR EACH ROW EXECUTE FUNCTION invitation_tallies_inv()`,
			`CREATE TRIGGER invitation_tallies_upd AFTER UPDATE ON invitations FOR EACH ROW WHEN (`+invitationChangedSQL+`) EXECUTE FUNCTION invitation_tallies_inv()`,
			`CREATE TRIGGER invitation_tallies_participant AFTER UPDATE ON participants FOR EACH ROW
WHEN (OLD.kind <> NEW.kind OR OLD.nominated_by <> NEW.nominated_by) EXECUTE FUNCTION invitation_tallies_participant()`)
	}
	return []string{
		`CREATE TRIGGER invitation_tallies_ins AFTER INSERT ON invitations WHEN NEW.revoked_at IS NULL
BEGIN ` + invitationRowSQL(m, "NEW.", "+") + `; END`,
		`CREATE TRIGGER invitation_tallies_del AFTER DELETE ON invitations WHEN OLD.revoked_at IS NULL
BEGIN ` + invitationRowSQL(m, "OLD.", "-") + `; END`,
		`CREATE TRIGGER invitation_tallies_upd AFTER UPDATE ON invitations WHEN ` + invitationChangedSQL + `
BEGIN ` + invitationRowSQL(m, "OLD.", "-") + `; ` + invitationRowSQL(m, "NEW.", "+") + `; END`,
		`CREATE TRIGGER invitation_tallies_participant AFTER UPDATE OF kind, nominated_by ON participants
WHEN OLD.kind <> NEW.kind OR OLD.nominated_by <> NEW.nominated_by
BEGIN ` + participantMoveSQL(m, "OLD.", "-") + `; ` + participantMoveSQL(m, "NEW.", "+") + `; END`,
	}
}

// invitationTallyFunctions are PostgreSQL's trigger functions.
func invitationTallyFunctions(d shardMode) []string {
	return []string{
		`CREATE OR REPLACE FUNCTION invitation_tallies_inv() RETURNS trigger AS $$
BEGIN
	IF TG_OP = 'UPDATE' OR TG_OP = 'DELETE' THEN
		` + invitationRowSQL(d, "OLD.", "-") + `;
	END IF;
	IF TG_OP = 'UPDATE' OR TG_OP = 'INSERT' THEN
		` + invitationRowSQL(d, "NEW.", "+") + `;
	END IF;
	RETURN NULL;
END $$ LANGUAGE plpgsql`,
		`CREATE OR REPLACE FUNCTION invitation_tallies_participant() RETURNS trigger AS $$
BEGIN
	` + participantMoveSQL(d, "OLD.", "-") + `;
	` + participantMoveSQL(d, "NEW.", "+") + `;
	RETURN NULL;
END $$ LANGUAGE plpgsql`,
	}
}

func init() {
	Register(Migration{Version: 410, Name: "invitation tallies kept by triggers", Up: func(tx *gorm.DB, d Dialect) error {
		stmts := []string{`CREATE TABLE invitation_tallies (
	consultation_id BIGINT NOT NULL,
	kind TEXT NOT NULL,
	nominated_by TEXT NOT NULL,
	shard INTEGER NOT NULL,
	live BIGINT NOT NULL DEFAULT 0,
	invited BIGINT NOT NULL DEFAULT 0,
	submitted BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (consultation_id, kind, nominated_by, shard)
)`}
		m := shardZero
		if d == Postgres {
			m = shardByID
		}
		stmts = append(stmts, invitationTallyTriggers(d, m)...)
		for _, st := range stmts {
			if err := tx.Exec(st).Error; err != nil {
				return fmt.Errorf("%w: %s", err, st)
			}
		}
		return recountInvitationTallies(tx, d, 0)
	}})
}

func init() {
	Register(Migration{Version: 412, Name: "invitation tallies: a transaction's changes on its backend's shard", Up: func(tx *gorm.DB, d Dialect) error {
		if d != Postgres {
			return nil
		}
		for _, st := range invitationTallyFunctions(shardBackend) {
			if err := tx.Exec(st).Error; err != nil {
				return err
			}
		}
		return nil
	}})
}

// recountInvitationTallies rebuilds the invitation tallies of one
// consultation (0: of every consultation) from the invitations, with the
// definitions the triggers maintain.
func recountInvitationTallies(tx *gorm.DB, d Dialect, consultationID int64) error {
	del, where := "DELETE FROM invitation_tallies", ""
	var args []any
	if consultationID != 0 {
		del += " WHERE consultation_id = ?"
		where = " AND i.consultation_id = ?"
		args = []any{consultationID}
	}
	if err := tx.Exec(del, args...).Error; err != nil {
		return err
	}
	live, invited, submitted := invitationContribSQL("i.")
	return tx.Exec(`INSERT INTO invitation_tallies (consultation_id, kind, nominated_by, shard, live, invited, submitted)
SELECT i.consultation_id, p.kind, p.nominated_by, 0, SUM(`+live+`), SUM(`+invited+`), SUM(`+submitted+`)
FROM invitations i JOIN participants p ON p.id = i.participant_id
WHERE i.revoked_at IS NULL`+where+`
GROUP BY i.consultation_id, p.kind, p.nominated_by`, args...).Error
}

// RecountInvitationTallies rebuilds a consultation's invitation tallies
// from its invitations (bulk tools that loaded without the triggers).
func (s *Store) RecountInvitationTallies(ctx context.Context, consultationID int64) error {
	return s.Write(ctx, func(tx *gorm.DB) error { return recountInvitationTallies(tx, s.Dialect, consultationID) })
}

// InvitationCounts are a consultation's invitation tallies for one group.
type InvitationCounts struct {
	Kind, NominatedBy        string
	Live, Invited, Submitted int64
}

// InvitationTallies returns a consultation's invitation tallies summed
// over shards, one entry per participant kind and nominating State with
// a non-zero count, sorted by kind then State.
func (s *Store) InvitationTallies(ctx context.Context, consultationID int64) ([]InvitationCounts, error) {
	return invitationTallies(s.ReadDB(ctx), consultationID)
}

func invitationTallies(db *gorm.DB, consultationID int64) ([]InvitationCounts, error) {
	var out []InvitationCounts
	err := db.Raw(`SELECT kind, nominated_by, SUM(live) AS live, SUM(invited) AS invited, SUM(submitted) AS submitted
FROM invitation_tallies WHERE consultation_id = ? GROUP BY kind, nominated_by
HAVING SUM(live) <> 0 OR SUM(invited) <> 0 OR SUM(submitted) <> 0 ORDER BY kind, nominated_by`, consultationID).Scan(&out).Error
	return out, err
}

// InvitationTallySnapshot is a consultation's invitation tallies as sorted
// text lines (tests compare the running counts with a recount).
func (s *Store) InvitationTallySnapshot(ctx context.Context, consultationID int64) ([]string, error) {
	rows, err := s.InvitationTallies(ctx, consultationID)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(rows))
	for _, r := range rows {
		out = append(out, fmt.Sprintf("%s/%s live=%d invited=%d submitted=%d", r.Kind, r.NominatedBy, r.Live, r.Invited, r.Submitted))
	}
	return out, nil
}

// rateRows sums the invitation tallies by one column ("kind" or
// "nominated_by"), groups with invitations only, in the column's order.
func rateRows(tallies []InvitationCounts, byState bool) []RateRow {
	idx := map[string]int{}
	var out []RateRow
	for _, t := range tallies {
		v := t.Kind
		if byState {
			v = t.NominatedBy
		}
		i, ok := idx[v]
		if !ok {
			i = len(out)
			idx[v] = i
			out = append(out, RateRow{Value: v})
		}
		out[i].Invited += t.Invited
		out[i].Submitted += t.Submitted
	}
	kept := out[:0]
	for _, r := range out {
		if r.Invited > 0 {
			r.Rate = math.Round(float64(r.Submitted)*1000/float64(r.Invited)) / 10
			kept = append(kept, r)
		}
	}
	sort.SliceStable(kept, func(i, j int) bool { return kept[i].Value < kept[j].Value })
	return kept
}
