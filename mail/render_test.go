package mail

import (
	"strings"
	"testing"
	"time"

	"focalpoint/i18n"
	"focalpoint/models"
)

// The per-(kind, language) cache of ForConsultation gives exactly what a
// direct render gives, names escaped for HTML and kept as is in text.
func TestForConsultationMatchesDirectRender(t *testing.T) {
	b, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRenderer(b, "https://consult.example.org/")
	if err != nil {
		t.Fatal(err)
	}
	dl := time.Date(2026, 4, 1, 17, 0, 0, 0, time.UTC)
	info := &models.MailInfo{Consultation: models.Consultation{ID: 1, Title: `Policies <&> "families"`}, Deadline: &dl}
	render := r.ForConsultation(info, "Sec", "sec@example.org")
	for _, name := range []string{`<b>Ana & "Bo"</b>`, "Zoë O'Neil"} {
		for _, kind := range []string{models.MailKindInvitation, models.MailKindReminder, models.MailKindLink} {
			p := &models.Participant{Name: name, Email: "X@Example.org", Language: "en"}
			m, err := render(kind, &models.Invitation{}, p, "tok123")
			if err != nil {
				t.Fatal(err)
			}
			want, err := r.Render(kind, "en", Data{Name: name, Title: info.Consultation.Title, Link: r.Link("tok123"),
				Deadline: FormatDeadline(&dl), ContactName: "Sec", ContactEmail: "sec@example.org"})
			if err != nil {
				t.Fatal(err)
			}
			if m.TextBody != want.Text || m.HTMLBody != want.HTML || m.Subject != want.Subject || m.ToAddress != "x@example.org" {
				t.Fatalf("%s for %q differs from a direct render:\n%s\n---\n%s", kind, name, m.HTMLBody, want.HTML)
			}
			if !strings.Contains(m.TextBody, "https://consult.example.org/r/tok123") || !strings.Contains(m.TextBody, name) ||
				!strings.Contains(m.TextBody, "Wednesday 1 April 2026, 17:00 UTC") {
				t.Fatalf("text:\n%s", m.TextBody)
			}
			if strings.Contains(m.HTMLBody, "<b>Ana") {
				t.Fatal("name not escaped in HTML")
			}
		}
	}
}

// One template serves every kind: each kind must get its own translated
// intro and subject (never a raw message id), and an unknown kind fails.
func TestRenderIntroFollowsKind(t *testing.T) {
	b, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRenderer(b, "https://consult.example.org")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for _, kind := range []string{models.MailKindInvitation, models.MailKindReminder, models.MailKindLink} {
		m, err := r.Render(kind, "en", Data{Name: "Ana", Title: "Policies", Link: r.Link("t")})
		if err != nil {
			t.Fatal(err)
		}
		for _, part := range []string{m.Subject, m.Text, m.HTML} {
			if strings.Contains(part, "invite.mail.") {
				t.Fatalf("%s: an untranslated message id in %q", kind, part)
			}
		}
		intro := strings.SplitN(m.Text, "\n\n", 3)[1]
		if other, dup := seen[intro]; dup {
			t.Fatalf("%s and %s have the same intro %q", kind, other, intro)
		}
		seen[intro] = kind
	}
	if _, err := r.Render("bogus", "en", Data{}); err == nil {
		t.Fatal("an unknown kind rendered")
	}
}
