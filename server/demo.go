package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"focalpoint/models"
)

// `server demo` loads the demo data set (models.LoadDemo) into the
// configured database. It refuses to run twice, saying so.
func init() {
	extraCommands["demo"] = cmdDemo
	extraHelp["demo"] = "load a demo consultation (130 respondents from 53 countries, a State questionnaire)"
}

func cmdDemo(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger, getenv func(string) string) error {
	c, _, err := loadConfig("demo", args, getenv)
	if err != nil {
		return err
	}
	s, err := openStore(ctx, c, log)
	if err != nil {
		return err
	}
	defer s.Close()
	sum, err := s.LoadDemo(ctx)
	if errors.Is(err, models.ErrDemoLoaded) {
		fmt.Fprintln(stdout, err.Error())
		return nil
	}
	if err != nil {
		return fmt.Errorf("load the demo: %w", err)
	}
	base := strings.TrimRight(c.BaseURL, "/")
	fmt.Fprintf(stdout, "Demo loaded.\n")
	fmt.Fprintf(stdout, "  %d States nominated %d experts; %d people invited; %d respondents from %d countries.\n",
		sum.Nominators, sum.Experts, sum.Invited, sum.Respondents, sum.Countries)
	fmt.Fprintf(stdout, "  Synthesis: %s/staff/consultations/%d/synthesis\n", base, sum.ConsultationID)
	fmt.Fprintf(stdout, "  State questionnaire: %d of %d States replied: %s/staff/consultations/%d/synthesis\n",
		sum.States, sum.StatesInvited, base, sum.StateConsultationID)
	fmt.Fprintf(stdout, "  Try the respondent journey: %s/r/%s\n", base, sum.TryToken)
	return nil
}
