package provider

import (
	"context"
	"fmt"
	"strings"

	"github.com/breakwater-fasp/breakwater/models"
	"github.com/breakwater-fasp/breakwater/provider/fault"
	"github.com/breakwater-fasp/breakwater/provider/screening"
)

// CheckQuery is the admin's search of their check log.
type CheckQuery struct {
	Decision string
	Gate     string
	// Verdict is "spam", "ham", "none" or "".
	Verdict string
	// Text matches a check id prefix or a reason code.
	Text string
	// Before is the cursor of the next page (a check id).
	Before string
}

// CheckPage is one page of a server's check log, newest first; Next is the
// cursor of the following page, empty on the last.
type CheckPage struct {
	Checks []CheckRecord
	Next   string
}

// checkPageSize is how many checks a page of the log shows.
const checkPageSize = 25

// SearchChecks pages through one server's checks.
func (s *Service) SearchChecks(ctx context.Context, serverID string, q CheckQuery) (*CheckPage, error) {
	var errs FieldErrors
	if !oneOf(q.Decision, "", screening.Allow, screening.Review, screening.Reject) {
		errs = append(errs, fault.Invalid("decision", "must be allow, review or reject"))
	}
	if !oneOf(q.Gate, "", screening.GateSignup, screening.GateContent) {
		errs = append(errs, fault.Invalid("gate", "must be signup or content"))
	}
	if !oneOf(q.Verdict, "", "spam", "ham", "none") {
		errs = append(errs, fault.Invalid("verdict", "must be spam, ham or none"))
	}
	q.Text = strings.TrimSpace(q.Text)
	if len(q.Text) > 64 {
		errs = append(errs, fault.Invalid("q", "must be at most 64 characters"))
	}
	if len(q.Before) > 32 {
		errs = append(errs, fault.Invalid("before", "is not a page cursor"))
	}
	if err := errs.orNil(); err != nil {
		return nil, err
	}
	rows, err := s.db.SearchChecks(ctx, serverID, models.CheckSearch{Decision: q.Decision, Gate: q.Gate, Verdict: q.Verdict,
		Query: q.Text, Before: q.Before, Limit: checkPageSize})
	if err != nil {
		return nil, fmt.Errorf("search checks of %s: %w", serverID, err)
	}
	page := &CheckPage{Checks: make([]CheckRecord, 0, len(rows))}
	if len(rows) > checkPageSize {
		rows = rows[:checkPageSize]
		page.Next = rows[len(rows)-1].ID
	}
	for i := range rows {
		page.Checks = append(page.Checks, *checkRecord(&rows[i]))
	}
	return page, nil
}

func oneOf(v string, allowed ...string) bool {
	for _, a := range allowed {
		if v == a {
			return true
		}
	}
	return false
}
