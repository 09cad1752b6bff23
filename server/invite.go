package main

import (
	"context"

	"focalpoint/mail"
)

// The invitation area's background work (issue 4): the outbox worker
// (FOCAL_SMTP_URL, FOCAL_MAIL_FROM; without SMTP, mail is held in the
// outbox) and the runner of invitation and reminder jobs. Both are safe to
// run in every instance sharing one PostgreSQL.
func init() {
	appHooks = append(appHooks, func(ctx context.Context, a *App) error {
		w, err := mail.NewWorker(a.Store, mail.Config{SMTPURL: a.Config.SMTPURL, From: a.Config.MailFrom}, a.Log)
		if err != nil {
			return err
		}
		r, err := mail.NewRenderer(a.Handler.I18n, a.Config.BaseURL)
		if err != nil {
			return err
		}
		name, addr := mail.ParseFrom(a.Config.MailFrom)
		a.Handler.SetMailContact(name, addr)
		runner := &mail.Runner{Store: a.Store, Renderer: r, Log: a.Log, From: a.Config.MailFrom}
		a.background = append(a.background, w.Run, runner.Run)
		return nil
	})
}
