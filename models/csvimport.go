package models

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"strings"
	"unicode/utf8"

	"gorm.io/gorm"
)

// CSV import of participants (e.g. an NGO committee's member list).
//
// The file: UTF-8 with or without a byte-order mark, LF or CRLF line ends,
// RFC 4180 quoting, and either "," or ";" as the separator (whichever the
// header line uses more of). The header names the columns, in any order and
// any case: name, email, kind (required) and country, organization
// (optional; "organisation" is accepted too). Other columns are ignored.
//
// Rows are numbered by their line in the file (the header is line 1), as a
// spreadsheet shows them. Every bad row is reported with each bad field and
// the reason; a row whose email appeared on an earlier row is bad too.
// Fully blank rows are ignored.
//
// People are matched by email (without regard to case): a known person is
// updated (name and kind; country and organisation when the cell is not
// empty — an empty cell keeps what the roster has), an unknown one created.
// A row that would change nothing counts as skipped. An organisation is
// found by name without regard to case among live organisations; a missing
// one is created (kind "ngo" when the row's kind is ngo, "other" otherwise,
// with the row's country), and counted in organizations_created.
//
// A dry run writes nothing and reports what the real run would do. The real
// run writes everything in one transaction, or — when any row is bad —
// nothing at all, and reports the errors.

// MaxImportRows bounds the rows of one import file.
const MaxImportRows = 1_000_000

// ImportRow is one parsed data row.
type ImportRow struct {
	Row          int
	Name         string
	Email        string
	Kind         string
	Country      string
	Organization string
}

// ImportError is one problem: the file's line, the column, and a message ID.
type ImportError struct {
	Row     int    `json:"row"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ImportResult is the report of an import (real or dry run).
type ImportResult struct {
	DryRun               bool          `json:"dry_run"`
	Created              int           `json:"created"`
	Updated              int           `json:"updated"`
	Skipped              int           `json:"skipped"`
	OrganizationsCreated int           `json:"organizations_created"`
	Errors               []ImportError `json:"errors"`
}

var importColumns = map[string]string{
	"name": "name", "email": "email", "kind": "kind", "country": "country",
	"organization": "organization", "organisation": "organization",
}

// detectDelimiter picks ';' when the header line has more semicolons than
// commas outside quotes, else ','.
func detectDelimiter(data []byte) rune {
	commas, semis, inQuote := 0, 0, false
	for _, b := range data {
		switch b {
		case '"':
			inQuote = !inQuote
		case ',':
			if !inQuote {
				commas++
			}
		case ';':
			if !inQuote {
				semis++
			}
		case '\n':
			if !inQuote {
				if semis > commas {
					return ';'
				}
				return ','
			}
		}
	}
	if semis > commas {
		return ';'
	}
	return ','
}

// ParseParticipantCSV reads an import file. It returns the valid rows and
// every problem found; a structural problem with the header returns no rows.
// It never fails on bad input: only a read error of r is an error.
func ParseParticipantCSV(r io.Reader) ([]ImportRow, []ImportError, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, nil, err
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, []ImportError{{Row: 1, Field: "header", Message: "import.error.empty"}}, nil
	}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comma = detectDelimiter(data)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return nil, []ImportError{{Row: 1, Field: "header", Message: "import.error.malformed"}}, nil
	}
	col := map[string]int{}
	var errs []ImportError
	for i, h := range header {
		name, ok := importColumns[strings.ToLower(strings.TrimSpace(h))]
		if !ok {
			continue
		}
		if _, dup := col[name]; dup {
			errs = append(errs, ImportError{Row: 1, Field: name, Message: "import.error.duplicate_column"})
			continue
		}
		col[name] = i
	}
	for _, req := range []string{"name", "email", "kind"} {
		if _, ok := col[req]; !ok {
			errs = append(errs, ImportError{Row: 1, Field: req, Message: "import.error.missing_column"})
		}
	}
	if len(errs) > 0 {
		return nil, errs, nil
	}
	cell := func(rec []string, name string) string {
		i, ok := col[name]
		if !ok || i >= len(rec) {
			return ""
		}
		return strings.TrimSpace(rec[i])
	}
	var rows []ImportRow
	seen := map[string]int{}
	for n := 0; ; n++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			line := 1
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.StartLine
			}
			errs = append(errs, ImportError{Row: line, Field: "row", Message: "import.error.malformed"})
			continue
		}
		line, _ := cr.FieldPos(0)
		if n >= MaxImportRows {
			errs = append(errs, ImportError{Row: line, Field: "row", Message: "import.error.too_many_rows"})
			break
		}
		blank := true
		for _, f := range rec {
			if strings.TrimSpace(f) != "" {
				blank = false
				break
			}
		}
		if blank {
			continue
		}
		if len(rec) != len(header) {
			errs = append(errs, ImportError{Row: line, Field: "row", Message: "import.error.field_count"})
			continue
		}
		row := ImportRow{Row: line, Name: cell(rec, "name"), Email: NormalizeEmail(cell(rec, "email")),
			Kind: strings.ToLower(cell(rec, "kind")), Country: cell(rec, "country"), Organization: cell(rec, "organization")}
		before := len(errs)
		bad := func(field, msg string) { errs = append(errs, ImportError{Row: line, Field: field, Message: msg}) }
		switch {
		case row.Name == "":
			bad("name", "error.required")
		case len(row.Name) > maxNameLen || !ValidText(row.Name) || strings.ContainsAny(row.Name, "\r\n"):
			bad("name", "error.text_invalid")
		}
		switch {
		case row.Email == "":
			bad("email", "error.required")
		case !utf8.ValidString(row.Email) || !ValidEmail(row.Email):
			bad("email", "error.email_invalid")
		default:
			if first, dup := seen[row.Email]; dup {
				_ = first
				bad("email", "import.error.duplicate_in_file")
			} else {
				seen[row.Email] = line
			}
		}
		if !oneOf(row.Kind, ParticipantKinds) {
			bad("kind", "roster.error.participant_kind")
		}
		if c, ok := NormalizeCountry(row.Country); ok {
			row.Country = c
		} else {
			bad("country", "roster.error.country")
		}
		if len(row.Organization) > maxNameLen || !ValidText(row.Organization) || strings.ContainsAny(row.Organization, "\r\n") {
			bad("organization", "error.text_invalid")
		}
		if len(errs) == before {
			rows = append(rows, row)
		}
	}
	return rows, errs, nil
}

// ImportParticipants parses and applies an import file (see the comment at
// the top of this file). With errors, the real run writes nothing and the
// result lists them (the caller answers 422).
func (s *Store) ImportParticipants(ctx context.Context, r io.Reader, dryRun bool, actor *Staff) (*ImportResult, error) {
	rows, perrs, err := ParseParticipantCSV(r)
	if err != nil {
		return nil, err
	}
	res := &ImportResult{DryRun: dryRun, Errors: perrs}
	if res.Errors == nil {
		res.Errors = []ImportError{}
	}
	if len(perrs) > 0 {
		// Still count what the valid rows would do, so a dry run is useful.
		if dryRun {
			err := s.applyImport(s.R.WithContext(ctx), rows, res, false)
			return res, err
		}
		return res, nil
	}
	if dryRun {
		return res, s.applyImport(s.R.WithContext(ctx), rows, res, false)
	}
	err = s.Write(ctx, func(tx *gorm.DB) error {
		res.Created, res.Updated, res.Skipped, res.OrganizationsCreated = 0, 0, 0, 0
		if err := s.applyImport(tx, rows, res, true); err != nil {
			return err
		}
		return s.audit(tx, actor, "participant.import", "participants", map[string]any{
			"created": res.Created, "updated": res.Updated, "skipped": res.Skipped, "organizations_created": res.OrganizationsCreated})
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// importExisting is what the import needs to know of a known person.
type importExisting struct {
	ID             int64
	Name           string
	Email          string
	Kind           string
	Country        string
	OrganizationID *int64
}

// applyImport plans (and with write, performs) the import of valid rows.
func (s *Store) applyImport(db *gorm.DB, rows []ImportRow, res *ImportResult, write bool) error {
	now := s.Now()
	// Known people, by email, fetched in chunks (bound variables are limited).
	existing := make(map[string]importExisting, len(rows))
	const chunk = 900
	emails := make([]string, 0, chunk)
	flush := func() error {
		if len(emails) == 0 {
			return nil
		}
		var found []importExisting
		if err := db.Table("participants").Select("id, name, email, kind, country, organization_id").
			Where("email IN ?", emails).Scan(&found).Error; err != nil {
			return err
		}
		for _, p := range found {
			existing[p.Email] = p
		}
		emails = emails[:0]
		return nil
	}
	for _, r := range rows {
		emails = append(emails, r.Email)
		if len(emails) == chunk {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	// Live organisations by lower-case name (the first one wins).
	var orgs []Organization
	if err := db.Select("id, name").Where("archived_at IS NULL").Order("id").Find(&orgs).Error; err != nil {
		return err
	}
	orgID := make(map[string]int64, len(orgs))
	for _, o := range orgs {
		k := strings.ToLower(o.Name)
		if _, ok := orgID[k]; !ok {
			orgID[k] = o.ID
		}
	}
	var fresh []Participant
	for _, r := range rows {
		var oid *int64
		if r.Organization != "" {
			k := strings.ToLower(r.Organization)
			id, ok := orgID[k]
			if !ok {
				res.OrganizationsCreated++
				id = -int64(res.OrganizationsCreated) // placeholder in a dry run
				if write {
					kind := OrgOther
					if r.Kind == KindNGO {
						kind = OrgNGO
					}
					o := Organization{Name: r.Organization, Kind: kind, Country: r.Country, CreatedAt: now, UpdatedAt: now}
					if err := db.Create(&o).Error; err != nil {
						return err
					}
					id = o.ID
				}
				orgID[k] = id
			}
			oid = &id
		}
		old, known := existing[r.Email]
		if !known {
			res.Created++
			if write {
				fresh = append(fresh, Participant{Name: r.Name, Email: r.Email, Kind: r.Kind, Country: r.Country,
					OrganizationID: oid, Language: "en", CreatedAt: now, UpdatedAt: now})
			}
			continue
		}
		upd := old
		upd.Name, upd.Kind = r.Name, r.Kind
		if r.Country != "" {
			upd.Country = r.Country
		}
		if oid != nil {
			upd.OrganizationID = oid
		}
		if upd.Name == old.Name && upd.Kind == old.Kind && upd.Country == old.Country && sameID(upd.OrganizationID, old.OrganizationID) {
			res.Skipped++
			continue
		}
		res.Updated++
		if write {
			if err := db.Table("participants").Where("id = ?", old.ID).Updates(map[string]any{
				"name": upd.Name, "kind": upd.Kind, "country": upd.Country, "organization_id": upd.OrganizationID, "updated_at": now,
			}).Error; err != nil {
				return err
			}
		}
	}
	if write {
		return insertParticipants(db, fresh)
	}
	return nil
}

// insertParticipants inserts new people with multi-row INSERTs (no
// RETURNING: the import does not need their ids), 500 rows a statement.
func insertParticipants(db *gorm.DB, ps []Participant) error {
	const per = 500
	const cols = "INSERT INTO participants (name, email, kind, country, organization_id, language, nominated_by, created_at, updated_at) VALUES "
	var sql strings.Builder
	args := make([]any, 0, per*9)
	for start := 0; start < len(ps); start += per {
		end := min(start+per, len(ps))
		sql.Reset()
		sql.WriteString(cols)
		args = args[:0]
		for i, p := range ps[start:end] {
			if i > 0 {
				sql.WriteByte(',')
			}
			sql.WriteString("(?,?,?,?,?,?,?,?,?)")
			args = append(args, p.Name, p.Email, p.Kind, p.Country, p.OrganizationID, p.Language, p.NominatedBy, p.CreatedAt, p.UpdatedAt)
		}
		if err := db.Exec(sql.String(), args...).Error; err != nil {
			return translate(err)
		}
	}
	return nil
}

func sameID(a, b *int64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}
