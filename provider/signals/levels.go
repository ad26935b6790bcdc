package signals

import "time"

// Score points at which one signal alone moves a check at the default
// thresholds (review at 65, reject at 85). Signals that the peers' evidence
// says are decisive on their own use these; weak signals use smaller
// points and only matter in combination.
const (
	LevelReview = 70
	LevelReject = 90
)

// ageBand names an account age coarsely, so messages say "less than a day
// old" without exposing exact thresholds of other signals.
func ageBand(age time.Duration) string {
	switch {
	case age < time.Hour:
		return "less than an hour old"
	case age < 24*time.Hour:
		return "less than a day old"
	case age < 7*24*time.Hour:
		return "less than a week old"
	default:
		return "less than a month old"
	}
}
