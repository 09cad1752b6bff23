package models

import "time"

// The GORM types of the core schema (schema.go). Each area grows its own
// file with the store methods, validation and state rules of its aggregate.

// Organization kinds.
const (
	OrgMemberState       = "member_state"
	OrgNGO               = "ngo"
	OrgIntergovernmental = "intergovernmental"
	OrgAcademic          = "academic"
	OrgOther             = "other"
)

// Organization is a Member State, NGO, intergovernmental body, academic
// institution or other organisation on the roster.
type Organization struct {
	ID         int64      `gorm:"primaryKey" json:"id"`
	Name       string     `json:"name"`
	Kind       string     `json:"kind"`
	Country    string     `json:"country"`
	ArchivedAt *time.Time `json:"archived_at,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
}

// Participant kinds.
const (
	KindExpert     = "expert"
	KindNGO        = "ngo"
	KindResearcher = "researcher"
	KindObserver   = "observer"
)

// Participant is a person on the roster who can be invited.
type Participant struct {
	ID             int64      `gorm:"primaryKey" json:"id"`
	Name           string     `json:"name"`
	Email          string     `json:"email"`
	Kind           string     `json:"kind"`
	Country        string     `json:"country"`
	OrganizationID *int64     `json:"organization_id"`
	Language       string     `json:"language"`
	NominatedBy    string     `json:"nominated_by"` // ISO code of the nominating State
	ArchivedAt     *time.Time `json:"archived_at,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
}

// Consultation units.
const (
	UnitPerson = "person"
	UnitState  = "state"
)

// Consultation is one consultation process, of persons or of States.
type Consultation struct {
	ID          int64     `gorm:"primaryKey" json:"id"`
	Title       string    `json:"title"`
	Description string    `json:"description"`
	Unit        string    `json:"unit"`
	Languages   string    `json:"-"` // JSON array of language codes
	MinCellSize int       `json:"min_cell_size"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Round states.
const (
	RoundDraft  = "draft"
	RoundOpen   = "open"
	RoundClosed = "closed"
)

// Round is one round of questions of a consultation.
type Round struct {
	ID             int64      `gorm:"primaryKey" json:"id"`
	ConsultationID int64      `json:"consultation_id"`
	Position       int        `json:"position"`
	Title          string     `json:"title"`
	OpensAt        *time.Time `json:"opens_at"`
	ClosesAt       *time.Time `json:"closes_at"`
	State          string     `json:"state"`
	ShowResultsOf  *int64     `json:"show_results_of"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
}

// Question kinds.
const (
	QLongText     = "long_text"
	QShortText    = "short_text"
	QSingleChoice = "single_choice"
	QMultiChoice  = "multi_choice"
	QYesNo        = "yes_no"
	QMatrixYesNo  = "matrix_yes_no"
	QScale        = "scale"
	QNumber       = "number"
	QCountry      = "country"
)

// QuestionKinds lists every question kind.
var QuestionKinds = []string{QLongText, QShortText, QSingleChoice, QMultiChoice, QYesNo, QMatrixYesNo, QScale, QNumber, QCountry}

// Choice is an option or a matrix row: a stable value and its label.
type Choice struct {
	Value string `json:"value"`
	Label string `json:"label"`
}

// Question is one question of a round. Options and RowsJSON hold JSON
// arrays of Choice.
type Question struct {
	ID        int64     `gorm:"primaryKey" json:"id"`
	RoundID   int64     `json:"round_id"`
	Position  int       `json:"position"`
	Kind      string    `json:"kind"`
	Prompt    string    `json:"prompt"`
	Help      string    `json:"help"`
	Required  bool      `json:"required"`
	Options   string    `json:"-"`
	RowsJSON  string    `gorm:"column:rows_json" json:"-"`
	MinValue  *float64  `json:"min"`
	MaxValue  *float64  `json:"max"`
	CreatedAt time.Time `json:"-"`
	UpdatedAt time.Time `json:"-"`
	// choices and rows are Options and RowsJSON decoded once, for the
	// questions the journey cache shares (read-only); nil elsewhere.
	choices, rows []Choice
}

// Invitation statuses.
const (
	InvQueued    = "queued"
	InvSent      = "sent"
	InvFailed    = "failed"
	InvOpened    = "opened"
	InvStarted   = "started"
	InvSubmitted = "submitted"
	InvRevoked   = "revoked"
)

// Invitation is a personal link of one participant to one consultation;
// only the SHA-256 of its token is stored.
type Invitation struct {
	ID             int64      `gorm:"primaryKey" json:"id"`
	ConsultationID int64      `json:"consultation_id"`
	ParticipantID  int64      `json:"participant_id"`
	TokenHash      string     `json:"-"`
	Status         string     `json:"status"`
	StateCountry   *string    `json:"state_country,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
	SentAt         *time.Time `json:"sent_at"`
	OpenedAt       *time.Time `json:"opened_at"`
	StartedAt      *time.Time `json:"started_at"`
	SubmittedAt    *time.Time `json:"submitted_at"`
	RevokedAt      *time.Time `json:"revoked_at,omitempty"`
	ExpiresAt      *time.Time `json:"expires_at,omitempty"`
}

// Demographic values (API.md).
var (
	Genders          = []string{"female", "male", "other", "prefer_not_to_say"}
	InstitutionTypes = []string{"government", "ngo", "academia", "international_organization", "health_or_social_service", "private_sector", "other", "prefer_not_to_say"}
)

// PreferNotToSay is the answer every demographic question offers.
const PreferNotToSay = "prefer_not_to_say"

// Respondent is one person (or, in a State consultation, one State) taking
// part in a consultation. Code is random and is what exports show.
type Respondent struct {
	ID              int64 `gorm:"primaryKey"`
	ConsultationID  int64
	ParticipantID   *int64
	Code            string
	StateCountry    *string
	Gender          string
	InstitutionType string
	Country         string
	ConsentAt       *time.Time
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// Response statuses.
const (
	ResponseDraft     = "draft"
	ResponseSubmitted = "submitted"
)

// Response is a respondent's answers to one round.
type Response struct {
	ID                 int64 `gorm:"primaryKey"`
	RespondentID       int64
	RoundID            int64
	Status             string
	Version            int
	UnsubmittedChanges bool
	SubmittedAt        *time.Time
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

// Answer is the working copy of one answer: its value as JSON.
type Answer struct {
	ResponseID int64 `gorm:"primaryKey;autoIncrement:false"`
	QuestionID int64 `gorm:"primaryKey;autoIncrement:false"`
	Value      string
	UpdatedAt  time.Time
}

// SubmittedAnswer is one value of the last submitted version: a text, a
// choice, one chosen option of a multi-choice, one row of a matrix
// (RowKey), or a number (Num, with Value its decimal text).
type SubmittedAnswer struct {
	ID           int64 `gorm:"primaryKey"`
	ResponseID   int64
	RespondentID int64
	RoundID      int64
	QuestionID   int64
	RowKey       string
	Value        string
	Num          *float64
}

// Outbox statuses. "held" means no SMTP server is configured: the message
// stays visible to staff, marked as not sent.
const (
	MailQueued  = "queued"
	MailSending = "sending"
	MailSent    = "sent"
	MailFailed  = "failed"
	MailHeld    = "held"
)

// OutboxMessage is an email the system produced. It is written in the
// same transaction as what caused it and sent after commit by the mail
// worker.
type OutboxMessage struct {
	ID             int64  `gorm:"primaryKey" json:"id"`
	Kind           string `json:"kind"`
	ConsultationID *int64 `json:"consultation_id,omitempty"`
	InvitationID   *int64 `json:"invitation_id,omitempty"`
	ToAddress      string `json:"to"`
	Subject        string `json:"subject"`
	TextBody       string `json:"text"`
	HTMLBody       string `json:"html"`
	// Payload, for a composed kind, is what the message says; its bodies
	// are rendered when it is read (Compose).
	Payload       string     `json:"-"`
	Status        string     `json:"status"`
	Attempts      int        `json:"attempts"`
	NextAttemptAt time.Time  `json:"-"`
	ClaimedBy     string     `json:"-"`
	ClaimedUntil  *time.Time `json:"-"`
	Error         string     `json:"error"`
	CreatedAt     time.Time  `json:"created_at"`
	SentAt        *time.Time `json:"sent_at"`
}

func (OutboxMessage) TableName() string { return "outbox" }
