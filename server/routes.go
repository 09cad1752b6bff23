package main

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"focalpoint/models"
	"focalpoint/static"
)

// Body limits: most requests are small; answers may be long texts (up to
// 100,000 characters each); imports are whole files.
const (
	bodyLimit       = "8M"
	importBodyLimit = "64M"
)

// routes is the route table: every route with its middleware and role, in
// one readable place.
func (a *App) routes() *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Renderer = a.Renderer
	e.HTTPErrorHandler = a.Handler.ErrorHandler
	e.IPExtractor = echo.ExtractIPDirect()
	h := a.Handler

	e.Pre(middleware.RemoveTrailingSlashWithConfig(middleware.TrailingSlashConfig{RedirectCode: http.StatusMovedPermanently}))
	e.Use(middleware.RequestID())
	e.Use(requestLogger(a.Log))
	if a.Metrics != nil {
		e.Use(a.Metrics.middleware)
	}
	// Inside the logger and metrics, so a panic is counted as the 500 it
	// becomes; the stack goes to the log only, never to the visitor.
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{DisableStackAll: true, DisablePrintStack: true, LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
		a.Log.Error("panic", "err", err, "request_id", c.Response().Header().Get(echo.HeaderXRequestID), "stack", string(stack))
		return err
	}}))
	e.Use(securityHeaders)
	e.Use(middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{Limit: bodyLimit, Skipper: func(c echo.Context) bool {
		return c.Path() == "/api/v1/participants/import" || c.Path() == "/staff/participants/import"
	}}))
	e.Use(h.Authenticate)
	e.Use(h.CSRF)

	admin := h.RequireRole(models.RoleAdmin)
	organizer := h.RequireRole(models.RoleOrganizer)
	analyst := h.RequireRole(models.RoleAnalyst)
	importLimit := middleware.BodyLimit(importBodyLimit)

	// Health and static files.
	e.GET("/healthz", h.Healthz)
	e.GET("/readyz", h.Readyz)
	fileServer := http.FileServer(http.FS(static.FS))
	e.GET("/static/:sum/*", func(c echo.Context) error {
		r := c.Request().Clone(c.Request().Context())
		r.URL.Path = "/" + stripStaticSum(c.Request().URL.Path)
		fileServer.ServeHTTP(c.Response(), r)
		return nil
	}, staticCache)

	// Public pages: home, login, setup, language.
	e.GET("/", func(c echo.Context) error { return c.Redirect(http.StatusSeeOther, "/staff") })
	e.GET("/login", h.LoginForm)
	e.POST("/login", h.Login)
	e.POST("/logout", h.Logout)
	e.GET("/setup/:secret", h.SetupForm)
	e.POST("/setup/:secret", h.Setup)
	e.POST("/language", h.SetLanguage)

	// Staff pages.
	e.GET("/staff", h.StaffHome, analyst)
	e.GET("/staff/accounts", h.StaffList, admin)
	e.POST("/staff/accounts", h.StaffCreate, admin)
	e.POST("/staff/accounts/:id/role", h.StaffSetRole, admin)
	e.POST("/staff/accounts/:id/disable", h.StaffDisable, admin)

	// JSON API: auth and staff accounts.
	api := e.Group("/api/v1")
	api.POST("/auth/token", h.CreateToken)
	api.POST("/auth/logout", h.Logout, analyst)
	api.GET("/me", h.Me, analyst)
	api.GET("/staff", h.ListStaffAPI, admin)
	api.POST("/staff", h.CreateStaffAPI, admin)
	api.POST("/staff/:id/disable", h.DisableStaffAPI, admin)

	// Consultations, rounds, questions (issue 3).
	api.POST("/consultations", h.CreateConsultationAPI, organizer)
	api.GET("/consultations", h.ListConsultationsAPI, analyst)
	api.GET("/consultations/:id", h.GetConsultationAPI, analyst)
	api.POST("/consultations/:id/rounds", h.CreateRoundAPI, organizer)
	api.GET("/rounds/:id", h.GetRoundAPI, analyst)
	api.POST("/rounds/:id/open", h.OpenRoundAPI, organizer)
	api.POST("/rounds/:id/close", h.CloseRoundAPI, organizer)
	api.GET("/rounds/:id/questions", h.ListQuestionsAPI, analyst)
	api.POST("/rounds/:id/questions", h.CreateQuestionAPI, organizer)
	api.PUT("/questions/:id", h.UpdateQuestionAPI, organizer)
	e.GET("/staff/consultations", h.ConsultationsPage, analyst)
	e.GET("/staff/consultations/new", h.NewConsultationPage, organizer)
	e.POST("/staff/consultations", h.CreateConsultationPage, organizer)
	e.GET("/staff/consultations/:id", h.ConsultationPage, analyst)
	e.POST("/staff/consultations/:id/rounds", h.CreateRoundPage, organizer)
	e.POST("/staff/rounds/:id/open", h.OpenRoundPage, organizer)
	e.POST("/staff/rounds/:id/close", h.CloseRoundPage, organizer)
	e.GET("/staff/rounds/:id/questions/new", h.NewQuestionPage, organizer)
	e.POST("/staff/rounds/:id/questions", h.CreateQuestionPage, organizer)
	e.GET("/staff/questions/:id/edit", h.EditQuestionPage, organizer)
	e.POST("/staff/questions/:id", h.UpdateQuestionPage, organizer)

	e.GET("/staff/rounds/:id/preview", h.RoundPreview, analyst)

	// Respondent journey (issue 3). /r/{token} keeps the token in the
	// encrypted session and redirects to /respond (no secret in history).
	e.GET("/r/:token", h.OpenLink)
	e.GET("/respond", h.RespondHome)
	e.GET("/respond/welcome", h.RespondWelcome)
	e.POST("/respond/welcome", h.RespondConsent)
	e.GET("/respond/about", h.RespondAbout)
	e.POST("/respond/about", h.RespondSaveAbout)
	e.GET("/respond/questions", h.RespondQuestions)
	e.POST("/respond/questions", h.RespondSaveQuestions)
	e.PUT("/respond/answers", h.RespondAutosave)
	e.GET("/respond/review", h.RespondReview)
	e.POST("/respond/submit", h.RespondSubmit)
	e.GET("/respond/receipt", h.RespondReceipt)
	api.GET("/respond/:token", h.RespondGetAPI)
	api.PUT("/respond/:token/demographics", h.RespondDemographicsAPI)
	api.PUT("/respond/:token/answers", h.RespondAnswersAPI)
	api.POST("/respond/:token/submit", h.RespondSubmitAPI)

	// Invitations, reminders, jobs, outbox (issue 4).
	api.POST("/consultations/:id/invitations", h.InviteAPI, organizer)
	api.GET("/consultations/:id/invitations", h.ListInvitationsAPI, organizer)
	api.POST("/consultations/:id/reminders", h.RemindAPI, organizer)
	api.POST("/invitations/:id/revoke", h.RevokeInvitationAPI, organizer)
	api.POST("/invitations/:id/reissue", h.ReissueInvitationAPI, organizer)
	api.GET("/jobs/:id", h.JobAPI, organizer)
	api.GET("/outbox", h.OutboxAPI, organizer)
	api.POST("/outbox/:id/retry", h.RetryOutboxAPI, organizer)
	e.GET("/staff/consultations/:id/invitations", h.InvitationsPage, organizer)
	e.GET("/staff/consultations/:id/invitations/new", h.InviteNewPage, organizer)
	e.POST("/staff/consultations/:id/invitations/preview", h.InvitePreview, organizer)
	e.POST("/staff/consultations/:id/invitations", h.InviteSend, organizer)
	e.GET("/staff/consultations/:id/reminders", h.RemindPage, organizer)
	e.POST("/staff/consultations/:id/reminders", h.RemindSend, organizer)
	e.POST("/staff/invitations/:id/revoke", h.RevokeInvitationForm, organizer)
	e.POST("/staff/invitations/:id/reissue", h.ReissueInvitationForm, organizer)
	e.GET("/staff/jobs/:id", h.JobPage, organizer)
	e.GET("/staff/outbox", h.OutboxPage, organizer)
	e.POST("/staff/outbox/:id/retry", h.OutboxRetryForm, organizer)
	e.POST("/staff/outbox/release-held", h.OutboxReleaseHeldForm, organizer)
	e.GET("/link", h.LinkForm)
	e.POST("/link", h.LinkRequest)

	// Roster: countries, organisations, participants, nominations (issue 5).
	api.GET("/countries", h.ListCountriesAPI, analyst)
	api.GET("/organizations", h.ListOrganizationsAPI, analyst)
	api.POST("/organizations", h.CreateOrganizationAPI, organizer)
	api.GET("/organizations/:id", h.GetOrganizationAPI, analyst)
	api.PATCH("/organizations/:id", h.UpdateOrganizationAPI, organizer)
	api.POST("/organizations/:id/archive", h.ArchiveOrganizationAPI, organizer)
	api.GET("/participants", h.ListParticipantsAPI, analyst)
	api.POST("/participants", h.CreateParticipantAPI, organizer)
	api.GET("/participants/:id", h.GetParticipantAPI, analyst)
	api.PATCH("/participants/:id", h.UpdateParticipantAPI, organizer)
	api.DELETE("/participants/:id", h.DeleteParticipantAPI, organizer)
	api.POST("/participants/:id/archive", h.ArchiveParticipantAPI, organizer)
	api.POST("/participants/:id/restore", h.RestoreParticipantAPI, organizer)
	api.POST("/participants/import", h.ImportParticipantsAPI, organizer, importLimit)
	e.GET("/staff/participants", h.ParticipantsPage, analyst)
	e.GET("/staff/participants/new", h.NewParticipantPage, organizer)
	e.POST("/staff/participants", h.CreateParticipantPage, organizer)
	e.GET("/staff/participants/import", h.ImportPage, organizer)
	e.POST("/staff/participants/import", h.ImportUpload, organizer, importLimit)
	e.GET("/staff/participants/:id", h.EditParticipantPage, organizer)
	e.POST("/staff/participants/:id", h.UpdateParticipantPage, organizer)
	e.POST("/staff/participants/:id/archive", h.ArchiveParticipantPage, organizer)
	e.POST("/staff/participants/:id/restore", h.RestoreParticipantPage, organizer)
	e.GET("/staff/organizations", h.OrganizationsPage, analyst)
	e.POST("/staff/organizations", h.CreateOrganizationPage, organizer)
	e.POST("/staff/organizations/:id/archive", h.ArchiveOrganizationPage, organizer)
	api.POST("/consultations/:id/nomination-calls", h.CreateNominationCallAPI, organizer)
	api.GET("/consultations/:id/nomination-calls", h.ListNominationCallsAPI, analyst)
	api.GET("/nomination-calls/:id", h.GetNominationCallAPI, analyst)
	api.POST("/nomination-calls/:id/links/:country", h.ReissueNominationLinkAPI, organizer)
	api.POST("/nominations/:id/approve", h.ApproveNominationAPI, organizer)
	api.POST("/nominations/:id/decline", h.DeclineNominationAPI, organizer)
	api.GET("/nominate/:token", h.NominationLinkAPI)
	api.POST("/nominate/:token", h.NominateAPI)
	e.GET("/n/:token", h.NominationForm)
	e.POST("/n/:token", h.Nominate)
	e.GET("/staff/consultations/:id/nomination-calls", h.NominationCallsPage, analyst)
	e.POST("/staff/consultations/:id/nomination-calls", h.CreateNominationCallPage, organizer)
	e.GET("/staff/nomination-calls", h.AllNominationCallsPage, analyst)
	e.GET("/staff/nomination-calls/:id", h.NominationCallPage, analyst)
	e.POST("/staff/nomination-calls/:id/links.csv", h.NominationLinksCSV, organizer)
	e.POST("/staff/nomination-calls/:id/links", h.ReissueNominationLinkPage, organizer)
	e.POST("/staff/nominations/:id/approve", h.ApproveNominationPage, organizer)
	e.POST("/staff/nominations/:id/decline", h.DeclineNominationPage, organizer)

	// Synthesis, answers, codes (issue 6).
	api.GET("/consultations/:id/synthesis", h.SynthesisAPI, analyst)
	api.GET("/consultations/:id/answers", h.ListAnswersAPI, analyst)
	api.GET("/consultations/:id/codes", h.ListCodesAPI, analyst)
	api.POST("/consultations/:id/codes", h.CreateCodeAPI, analyst)
	api.POST("/answers/:id/codes", h.CodeAnswerAPI, analyst)
	api.DELETE("/answers/:id/codes/:code_id", h.UncodeAnswerAPI, analyst)
	e.GET("/staff/consultations/:id/synthesis", h.SynthesisPage, analyst)
	e.GET("/staff/consultations/:id/synthesis/report", h.SynthesisReport, analyst)
	e.GET("/staff/consultations/:id/synthesis/charts/:chart", h.SynthesisChart, analyst)
	e.GET("/staff/consultations/:id/answers", h.AnswersPage, analyst)
	e.POST("/staff/consultations/:id/codes", h.CreateCodePage, analyst)
	e.GET("/staff/consultations/:id/themes/:code_id", h.ThemePage, analyst)
	e.POST("/staff/answers/:id/codes", h.CodeAnswerPage, analyst)
	e.POST("/staff/answers/:id/codes/:code_id/delete", h.UncodeAnswerPage, analyst)

	// Export, codebook, audit (issue 7).
	api.GET("/consultations/:id/export", h.ExportAPI, analyst)
	api.GET("/consultations/:id/codebook", h.CodebookAPI, analyst)
	api.POST("/consultations/:id/export/identified", h.IdentifiedExportAPI, admin)
	api.GET("/audit", h.AuditAPI, admin)
	e.GET("/staff/consultations/:id/export", h.ExportPage, analyst)
	e.POST("/staff/consultations/:id/export/identified", h.IdentifiedExportForm, admin)
	e.GET("/staff/audit", h.AuditPage, admin)

	return e
}
