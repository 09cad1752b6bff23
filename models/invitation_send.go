package models

import (
	"context"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"
)

// MailRender renders the message of one kind (MailKindInvitation,
// MailKindReminder, MailKindLink) for an invitee and the link token it
// carries. The models stay free of templates: the mail package supplies it.
type MailRender func(kind string, inv *Invitation, p *Participant, token string) (*OutboxMessage, error)

// MaxInvitePerRequest bounds the participant ids of one invitation call.
const MaxInvitePerRequest = 100000

// chunk splits ids into slices of at most n (SQL parameter limits).
func chunk(ids []int64, n int) [][]int64 {
	var out [][]int64
	for len(ids) > n {
		out = append(out, ids[:n])
		ids = ids[n:]
	}
	if len(ids) > 0 {
		out = append(out, ids)
	}
	return out
}

func dedupe(ids []int64) []int64 {
	seen := make(map[int64]bool, len(ids))
	out := make([]int64, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// liveInvited returns, among participant ids, those holding a live
// invitation to the consultation, and the States already invited.
func liveInvited(tx *gorm.DB, consultationID int64, ids []int64) (map[int64]bool, map[string]bool, error) {
	have := map[int64]bool{}
	states := map[string]bool{}
	for _, part := range chunk(ids, 1000) {
		var got []int64
		if err := tx.Model(&Invitation{}).Where("consultation_id = ? AND revoked_at IS NULL AND participant_id IN ?", consultationID, part).
			Pluck("participant_id", &got).Error; err != nil {
			return nil, nil, err
		}
		for _, id := range got {
			have[id] = true
		}
	}
	var st []string
	if err := tx.Model(&Invitation{}).Where("consultation_id = ? AND revoked_at IS NULL AND state_country IS NOT NULL", consultationID).
		Pluck("state_country", &st).Error; err != nil {
		return nil, nil, err
	}
	for _, s := range st {
		states[s] = true
	}
	return have, states, nil
}

func loadParticipants(tx *gorm.DB, ids []int64) (map[int64]*Participant, error) {
	out := make(map[int64]*Participant, len(ids))
	for _, part := range chunk(ids, 1000) {
		var ps []Participant
		if err := tx.Where("id IN ? AND archived_at IS NULL", part).Find(&ps).Error; err != nil {
			return nil, err
		}
		for i := range ps {
			out[ps[i].ID] = &ps[i]
		}
	}
	return out, nil
}

// InviteRequest is what starts an invitation job.
type InviteRequest struct {
	ConsultationID int64
	ParticipantIDs []int64
	ContactName    string
	ContactEmail   string
}

// StartInvitations checks an invitation request and, in one transaction,
// records a job that will invite (and mail) every participant not yet
// holding a live invitation, with an audit entry. It returns the job and
// how many invitations it will queue. Unknown participants are a 422; in a
// State consultation, a second participant for one State is a 409.
func (s *Store) StartInvitations(ctx context.Context, actor *Staff, req InviteRequest) (*Job, int, error) {
	ids := dedupe(req.ParticipantIDs)
	if len(ids) == 0 {
		return nil, 0, FieldErrors{"participant_ids": "error.required"}
	}
	if len(ids) > MaxInvitePerRequest {
		return nil, 0, E(ErrTooLarge, "too_many_participants", "invite.error_too_many")
	}
	now := s.Now()
	var job *Job
	var queued int
	err := s.Write(ctx, func(tx *gorm.DB) error {
		var c Consultation
		if err := tx.Select("id", "unit").Take(&c, req.ConsultationID).Error; err != nil {
			return translate(err)
		}
		ps, err := loadParticipants(tx, ids)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if ps[id] == nil {
				return FieldErrors{"participant_ids": "invite.error_unknown_participant"}
			}
		}
		have, states, err := liveInvited(tx, c.ID, ids)
		if err != nil {
			return err
		}
		exp, err := refreshExpiry(tx, c.ID)
		if err != nil {
			return err
		}
		// The invitations exist from now on, so a second call (or a second
		// State) sees them at once; their links are minted when the job
		// renders the messages (the token of token_hash is never known).
		invs := make([]Invitation, 0, len(ids))
		for _, id := range ids {
			if have[id] {
				continue
			}
			inv := Invitation{ConsultationID: c.ID, ParticipantID: id, TokenHash: HashToken(NewToken(32)), Status: InvQueued, CreatedAt: now, ExpiresAt: exp}
			if c.Unit == UnitState {
				st := StateOf(ps[id])
				if st == "" {
					return FieldErrors{"participant_ids": "invite.error_no_state"}
				}
				if states[st] {
					return errStateInvited()
				}
				states[st] = true
				inv.StateCountry = &st
			}
			invs = append(invs, inv)
		}
		if len(invs) > 0 {
			if err := tx.CreateInBatches(&invs, 500).Error; err != nil {
				if errors.Is(translate(err), ErrConflict) && c.Unit == UnitState {
					return errStateInvited()
				}
				return translate(err)
			}
		}
		fresh := make([]int64, len(invs))
		for i := range invs {
			fresh[i] = invs[i].ID
		}
		job, err = createJob(tx, now, JobInvite, c.ID, len(fresh),
			JobParams{InvitationIDs: fresh, ContactName: req.ContactName, ContactEmail: req.ContactEmail}, actor)
		if err != nil {
			return err
		}
		queued = len(fresh)
		return AppendAudit(tx, now, actor, "invitation.send", "consultation:"+itoa(c.ID),
			map[string]any{"job_id": job.ID, "requested": len(ids), "queued": queued})
	})
	if err != nil {
		return nil, 0, err
	}
	return job, queued, nil
}

func prepareMail(m *OutboxMessage, now time.Time, consultationID, invitationID int64, kind string, jobID int64) *OutboxMessage {
	cid, iid := consultationID, invitationID
	m.Kind, m.ConsultationID, m.InvitationID = kind, &cid, &iid
	m.Status, m.CreatedAt, m.NextAttemptAt = MailQueued, now, now
	_ = jobID
	return m
}

// mailBatch mints a new link for each live invitation among ids and
// queues its message of kind (an invitation, or a reminder to those who
// have not submitted), inside tx.
func mailBatch(tx *gorm.DB, now time.Time, c *Consultation, ids []int64, kind string, render MailRender) error {
	q := tx.Where("id IN ? AND consultation_id = ? AND revoked_at IS NULL", ids, c.ID)
	if kind == MailKindReminder {
		q = q.Where("status NOT IN ?", []string{InvSubmitted, InvRevoked})
	}
	var invs []Invitation
	if err := q.Order("id").Find(&invs).Error; err != nil {
		return err
	}
	if len(invs) == 0 {
		return nil
	}
	pidList := make([]int64, len(invs))
	for i := range invs {
		pidList[i] = invs[i].ParticipantID
	}
	ps, err := loadParticipants(tx, pidList)
	if err != nil {
		return err
	}
	links := make([]InvitationLink, 0, len(invs))
	msgs := make([]OutboxMessage, 0, len(invs))
	done := make([]int64, 0, len(invs))
	for i := range invs {
		p := ps[invs[i].ParticipantID]
		if p == nil || (invs[i].ExpiresAt != nil && now.After(*invs[i].ExpiresAt)) {
			continue
		}
		tok := NewToken(32)
		links = append(links, InvitationLink{InvitationID: invs[i].ID, TokenHash: HashToken(tok), Reason: kind, CreatedAt: now})
		m, err := render(kind, &invs[i], p, tok)
		if err != nil {
			return err
		}
		msgs = append(msgs, *prepareMail(m, now, c.ID, invs[i].ID, kind, 0))
		done = append(done, invs[i].ID)
	}
	if len(links) == 0 {
		return nil
	}
	if err := tx.CreateInBatches(&links, 500).Error; err != nil {
		return err
	}
	if err := tx.CreateInBatches(&msgs, 500).Error; err != nil {
		return err
	}
	if kind != MailKindReminder {
		return nil
	}
	return tx.Model(&Invitation{}).Where("id IN ?", done).
		Updates(map[string]any{"reminded_at": now, "reminders": gorm.Expr("reminders + 1")}).Error
}

// RunJobBatch does the next batch (up to size items) of a claimed job in
// one transaction with its progress; render is built for the job's
// consultation. It reports whether the job is finished. ErrConflict means
// the runner lost the job (its lease ran out and another took it).
func (s *Store) RunJobBatch(ctx context.Context, j *Job, runner string, size int, lease time.Duration, render MailRender) (bool, error) {
	p, err := j.DecodeParams()
	if err != nil {
		return false, err
	}
	items := p.InvitationIDs
	if j.ConsultationID == nil {
		return false, E(ErrConflict, "job_invalid", "job has no consultation")
	}
	from := min(j.Done, len(items))
	to := min(from+size, len(items))
	now := s.Now()
	err = s.Write(ctx, func(tx *gorm.DB) error {
		var c Consultation
		if err := tx.Take(&c, *j.ConsultationID).Error; err != nil {
			return translate(err)
		}
		if to > from {
			var err error
			switch j.Kind {
			case JobInvite:
				err = mailBatch(tx, now, &c, items[from:to], MailKindInvitation, render)
			case JobRemind:
				err = mailBatch(tx, now, &c, items[from:to], MailKindReminder, render)
			default:
				err = E(ErrConflict, "job_invalid", "unknown job kind "+j.Kind)
			}
			if err != nil {
				return err
			}
		}
		return advanceJob(tx, now, j, runner, to, lease)
	})
	if err != nil {
		return false, err
	}
	j.Done = to
	return to >= j.Total || to >= len(items), nil
}

// StartReminders records a job that reminds every invitee of the
// consultation who has not submitted (and whose link is live), with an
// audit entry; it returns the job and how many reminders it will queue.
func (s *Store) StartReminders(ctx context.Context, actor *Staff, consultationID int64, contactName, contactEmail string) (*Job, int, error) {
	now := s.Now()
	var job *Job
	var n int
	err := s.Write(ctx, func(tx *gorm.DB) error {
		var c Consultation
		if err := tx.Select("id").Take(&c, consultationID).Error; err != nil {
			return translate(err)
		}
		if _, err := refreshExpiry(tx, c.ID); err != nil {
			return err
		}
		var ids []int64
		if err := tx.Model(&Invitation{}).
			Where("consultation_id = ? AND revoked_at IS NULL AND status NOT IN ? AND (expires_at IS NULL OR expires_at > ?)",
				c.ID, []string{InvSubmitted, InvRevoked}, now).
			Order("id").Pluck("id", &ids).Error; err != nil {
			return err
		}
		var err error
		job, err = createJob(tx, now, JobRemind, c.ID, len(ids), JobParams{InvitationIDs: ids, ContactName: contactName, ContactEmail: contactEmail}, actor)
		if err != nil {
			return err
		}
		n = len(ids)
		return AppendAudit(tx, now, actor, "invitation.remind", "consultation:"+itoa(c.ID), map[string]any{"job_id": job.ID, "queued": n})
	})
	if err != nil {
		return nil, 0, err
	}
	return job, n, nil
}

// RevokeInvitation kills an invitation's links at once and cancels its
// messages not yet sent. Revoking a revoked invitation changes nothing.
func (s *Store) RevokeInvitation(ctx context.Context, actor *Staff, id int64) (*Invitation, error) {
	now := s.Now()
	var inv Invitation
	err := s.Write(ctx, func(tx *gorm.DB) error {
		if err := tx.Take(&inv, id).Error; err != nil {
			return translate(err)
		}
		if inv.RevokedAt != nil {
			return nil
		}
		return revokeTx(tx, now, actor, &inv, "invitation.revoke")
	})
	if err != nil {
		return nil, err
	}
	return &inv, nil
}

func revokeTx(tx *gorm.DB, now time.Time, actor *Staff, inv *Invitation, action string) error {
	if err := tx.Model(&Invitation{}).Where("id = ?", inv.ID).Updates(map[string]any{"revoked_at": now, "status": InvRevoked}).Error; err != nil {
		return err
	}
	if err := tx.Model(&OutboxMessage{}).Where("invitation_id = ? AND status IN ?", inv.ID, []string{MailQueued, MailHeld}).
		Updates(map[string]any{"status": MailFailed, "error": "invitation revoked before sending"}).Error; err != nil {
		return err
	}
	inv.RevokedAt, inv.Status = &now, InvRevoked
	return AppendAudit(tx, now, actor, action, "invitation:"+itoa(inv.ID),
		map[string]any{"consultation_id": inv.ConsultationID, "participant_id": inv.ParticipantID})
}

// ReissueInvitation revokes an invitation and issues the participant a new
// one with a new link, queueing its message, in one transaction. What the
// invitee already did (opened, started, submitted) carries over.
func (s *Store) ReissueInvitation(ctx context.Context, actor *Staff, id int64, render MailRender) (*Invitation, error) {
	now := s.Now()
	var fresh *Invitation
	err := s.Write(ctx, func(tx *gorm.DB) error {
		var old Invitation
		if err := tx.Take(&old, id).Error; err != nil {
			return translate(err)
		}
		var live int64
		if err := tx.Model(&Invitation{}).Where("consultation_id = ? AND participant_id = ? AND revoked_at IS NULL AND id <> ?",
			old.ConsultationID, old.ParticipantID, old.ID).Count(&live).Error; err != nil {
			return err
		}
		if live > 0 {
			return E(ErrConflict, "invitation_superseded", "invite.error_superseded")
		}
		if _, err := refreshExpiry(tx, old.ConsultationID); err != nil {
			return err
		}
		if old.RevokedAt == nil {
			if err := revokeTx(tx, now, actor, &old, "invitation.reissue"); err != nil {
				return err
			}
		} else if err := AppendAudit(tx, now, actor, "invitation.reissue", "invitation:"+itoa(old.ID),
			map[string]any{"consultation_id": old.ConsultationID, "participant_id": old.ParticipantID}); err != nil {
			return err
		}
		tok, inv, err := IssueInvitation(tx, now, old.ConsultationID, old.ParticipantID)
		if err != nil {
			return err
		}
		upd := map[string]any{"opened_at": old.OpenedAt, "started_at": old.StartedAt, "submitted_at": old.SubmittedAt}
		for _, st := range []string{InvSubmitted, InvStarted, InvOpened} {
			if (st == InvSubmitted && old.SubmittedAt != nil) || (st == InvStarted && old.StartedAt != nil) || (st == InvOpened && old.OpenedAt != nil) {
				upd["status"] = st
				inv.Status = st
				break
			}
		}
		if err := tx.Model(&Invitation{}).Where("id = ?", inv.ID).Updates(upd).Error; err != nil {
			return err
		}
		inv.OpenedAt, inv.StartedAt, inv.SubmittedAt = old.OpenedAt, old.StartedAt, old.SubmittedAt
		var p Participant
		if err := tx.Take(&p, old.ParticipantID).Error; err != nil {
			return translate(err)
		}
		m, err := render(MailKindInvitation, inv, &p, tok)
		if err != nil {
			return err
		}
		fresh = inv
		return tx.Create(prepareMail(m, now, inv.ConsultationID, inv.ID, MailKindInvitation, 0)).Error
	})
	return fresh, err
}

// ResendLinks is "email me my link again": for every live invitation of
// the participant with this address, a new link is added and mailed to
// that address. The earlier links keep working (only hashes are stored, so
// they cannot be sent again; and revoking them would let anyone who knows
// an address kill that person's link). It reports how many were sent and
// says nothing different for an unknown address.
func (s *Store) ResendLinks(ctx context.Context, email string, render func(c *Consultation) MailRender) (int, error) {
	email = NormalizeEmail(email)
	if !ValidEmail(email) {
		return 0, nil
	}
	now := s.Now()
	n := 0
	err := s.Write(ctx, func(tx *gorm.DB) error {
		var ps []Participant
		if err := tx.Where("LOWER(email) = ? AND archived_at IS NULL", email).Limit(1).Find(&ps).Error; err != nil || len(ps) == 0 {
			return err
		}
		p := &ps[0]
		var cids []int64
		if err := tx.Model(&Invitation{}).Where("participant_id = ? AND revoked_at IS NULL", p.ID).Distinct("consultation_id").
			Pluck("consultation_id", &cids).Error; err != nil {
			return err
		}
		for _, cid := range cids {
			if _, err := refreshExpiry(tx, cid); err != nil {
				return err
			}
		}
		var invs []Invitation
		if err := tx.Where("participant_id = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)", p.ID, now).
			Order("id").Limit(50).Find(&invs).Error; err != nil {
			return err
		}
		for i := range invs {
			var c Consultation
			if err := tx.Take(&c, invs[i].ConsultationID).Error; err != nil {
				return translate(err)
			}
			tok, err := AddInvitationLink(tx, now, invs[i].ID, MailKindLink)
			if err != nil {
				return err
			}
			m, err := render(&c)(MailKindLink, &invs[i], p, tok)
			if err != nil {
				return err
			}
			if err := tx.Create(prepareMail(m, now, c.ID, invs[i].ID, MailKindLink, 0)).Error; err != nil {
				return err
			}
			n++
		}
		if n > 0 {
			return AppendAudit(tx, now, nil, "invitation.link_resent", "participant:"+itoa(p.ID), map[string]any{"links": n})
		}
		return nil
	})
	return n, err
}

// InvitationRow is one line of the per-person status table.
type InvitationRow struct {
	ID             int64      `json:"id"`
	ConsultationID int64      `json:"consultation_id"`
	ParticipantID  int64      `json:"participant_id"`
	Name           string     `json:"name"`
	Email          string     `json:"email"`
	Kind           string     `json:"kind"`
	Country        string     `json:"country"`
	StateCountry   *string    `json:"state_country,omitempty"`
	Status         string     `json:"status"`
	CreatedAt      time.Time  `json:"created_at"`
	SentAt         *time.Time `json:"sent_at"`
	OpenedAt       *time.Time `json:"opened_at"`
	StartedAt      *time.Time `json:"started_at"`
	SubmittedAt    *time.Time `json:"submitted_at"`
	FailedAt       *time.Time `json:"failed_at"`
	RevokedAt      *time.Time `json:"revoked_at"`
	RemindedAt     *time.Time `json:"reminded_at"`
	Reminders      int        `json:"reminders"`
	ExpiresAt      *time.Time `json:"expires_at"`
}

// InvitationFilter selects invitations of a consultation; empty fields
// do not filter.
type InvitationFilter struct {
	ConsultationID int64
	Status         string
	Kind           string
	Country        string
	Q              string
	ParticipantID  int64
	Limit, Offset  int
}

// InvitationStatuses lists every invitation status, in the order of the journey.
var InvitationStatuses = []string{InvQueued, InvSent, InvFailed, InvOpened, InvStarted, InvSubmitted, InvRevoked}

// ListInvitations returns a page of a consultation's invitations with
// their participant, the total matching, and counts by status over the
// whole consultation.
func (s *Store) ListInvitations(ctx context.Context, f InvitationFilter) ([]InvitationRow, int64, map[string]int64, error) {
	db := s.R.WithContext(ctx)
	var c Consultation
	if err := db.Select("id").Take(&c, f.ConsultationID).Error; err != nil {
		return nil, 0, nil, translate(err)
	}
	q := db.Table("invitations i").Joins("JOIN participants p ON p.id = i.participant_id").Where("i.consultation_id = ?", f.ConsultationID)
	if f.Status != "" {
		q = q.Where("i.status = ?", f.Status)
	}
	if f.Kind != "" {
		q = q.Where("p.kind = ?", f.Kind)
	}
	if f.Country != "" {
		q = q.Where("p.country = ?", strings.ToUpper(f.Country))
	}
	if f.ParticipantID != 0 {
		q = q.Where("i.participant_id = ?", f.ParticipantID)
	}
	if f.Q != "" {
		like := "%" + strings.ToLower(escapeLike(f.Q)) + "%"
		q = q.Where("(LOWER(p.name) LIKE ? ESCAPE '\\' OR LOWER(p.email) LIKE ? ESCAPE '\\')", like, like)
	}
	var total int64
	if err := q.Session(&gorm.Session{}).Count(&total).Error; err != nil {
		return nil, 0, nil, err
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	rows := []InvitationRow{}
	err := q.Select(`i.id, i.consultation_id, i.participant_id, p.name, p.email, p.kind, p.country, i.state_country, i.status,
		i.created_at, i.sent_at, i.opened_at, i.started_at, i.submitted_at, i.failed_at, i.revoked_at, i.reminded_at, i.reminders, i.expires_at`).
		Order("i.id").Limit(limit).Offset(f.Offset).Scan(&rows).Error
	if err != nil {
		return nil, 0, nil, err
	}
	counts, err := s.InvitationCounts(ctx, f.ConsultationID)
	return rows, total, counts, err
}

// InvitationCounts counts a consultation's invitations by status.
func (s *Store) InvitationCounts(ctx context.Context, consultationID int64) (map[string]int64, error) {
	var cs []struct {
		Status string
		N      int64
	}
	if err := s.R.WithContext(ctx).Model(&Invitation{}).Select("status, COUNT(*) AS n").
		Where("consultation_id = ?", consultationID).Group("status").Scan(&cs).Error; err != nil {
		return nil, err
	}
	out := make(map[string]int64, len(InvitationStatuses))
	for _, st := range InvitationStatuses {
		out[st] = 0
	}
	for _, c := range cs {
		out[c.Status] = c.N
	}
	return out, nil
}

func escapeLike(s string) string {
	return strings.NewReplacer("\\", "\\\\", "%", "\\%", "_", "\\_").Replace(s)
}

// FindInvitation returns an invitation by id.
func (s *Store) FindInvitation(ctx context.Context, id int64) (*Invitation, error) {
	var inv Invitation
	if err := s.R.WithContext(ctx).Take(&inv, id).Error; err != nil {
		return nil, translate(err)
	}
	return &inv, nil
}

// MailInfo is what invitation messages say about their consultation.
type MailInfo struct {
	Consultation Consultation
	// Deadline is when the current round closes: the earliest closing
	// time still ahead among rounds not closed, else the last one; nil
	// when no round has a closing time.
	Deadline *time.Time
}

// InvitationMailInfo loads the consultation and its deadline.
func (s *Store) InvitationMailInfo(ctx context.Context, consultationID int64) (*MailInfo, error) {
	db := s.R.WithContext(ctx)
	var info MailInfo
	if err := db.Take(&info.Consultation, consultationID).Error; err != nil {
		return nil, translate(err)
	}
	var rounds []Round
	if err := db.Where("consultation_id = ? AND closes_at IS NOT NULL", consultationID).Order("closes_at").Find(&rounds).Error; err != nil {
		return nil, err
	}
	now := s.Now()
	for _, r := range rounds {
		if r.State != RoundClosed && r.ClosesAt.After(now) {
			t := r.ClosesAt.UTC()
			info.Deadline = &t
			break
		}
	}
	if info.Deadline == nil && len(rounds) > 0 {
		t := rounds[len(rounds)-1].ClosesAt.UTC()
		info.Deadline = &t
	}
	return &info, nil
}

// InviteCandidate is a participant offered on the "pick recipients" page.
type InviteCandidate struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	Email       string `json:"email"`
	Kind        string `json:"kind"`
	Country     string `json:"country"`
	NominatedBy string `json:"nominated_by"`
	Language    string `json:"language"`
	Invited     bool   `json:"invited"`
}

// CandidateFilter selects participants to invite. Nominees means "all
// approved nominees": participants of kind expert nominated by a State.
type CandidateFilter struct {
	ConsultationID int64
	Kind           string
	Country        string
	Nominees       bool
	Q              string
	Limit, Offset  int
}

// InviteCandidates lists the participants matching the filter (not
// archived), marking those already holding a live invitation, with the
// total matching.
func (s *Store) InviteCandidates(ctx context.Context, f CandidateFilter) ([]InviteCandidate, int64, error) {
	q := s.R.WithContext(ctx).Table("participants p").Where("p.archived_at IS NULL")
	if f.Kind != "" {
		q = q.Where("p.kind = ?", f.Kind)
	}
	if f.Country != "" {
		q = q.Where("p.country = ?", strings.ToUpper(f.Country))
	}
	if f.Nominees {
		q = q.Where("p.kind = ? AND p.nominated_by <> ''", KindExpert)
	}
	if f.Q != "" {
		like := "%" + strings.ToLower(escapeLike(f.Q)) + "%"
		q = q.Where("(LOWER(p.name) LIKE ? ESCAPE '\\' OR LOWER(p.email) LIKE ? ESCAPE '\\')", like, like)
	}
	var total int64
	if err := q.Session(&gorm.Session{}).Count(&total).Error; err != nil {
		return nil, 0, err
	}
	out := []InviteCandidate{}
	q = q.Select(`p.id, p.name, p.email, p.kind, p.country, p.nominated_by, p.language,
		EXISTS (SELECT 1 FROM invitations i WHERE i.participant_id = p.id AND i.consultation_id = ? AND i.revoked_at IS NULL) AS invited`, f.ConsultationID).
		Order("p.name, p.id")
	if f.Limit > 0 {
		q = q.Limit(f.Limit).Offset(f.Offset)
	}
	return out, total, q.Scan(&out).Error
}

// CandidateIDs returns the ids of every participant matching the filter
// (for "invite everyone matching").
func (s *Store) CandidateIDs(ctx context.Context, f CandidateFilter) ([]int64, error) {
	f.Limit, f.Offset = 0, 0
	list, _, err := s.InviteCandidates(ctx, f)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, 0, len(list))
	for _, c := range list {
		ids = append(ids, c.ID)
	}
	return ids, nil
}
