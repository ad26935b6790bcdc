package signals

import "math"

// burstLevel compares a trailing count with a baseline: it returns how many
// times over the threshold max(minCount, factor × baseline) the count is
// (0 when not over). Without history the threshold is coldStart, so a
// brand-new customer's normal traffic is not a "burst".
func burstLevel(count int, baseline float64, haveBaseline bool, minCount int, factor float64, coldStart int) float64 {
	threshold := float64(coldStart)
	if haveBaseline {
		threshold = math.Max(float64(minCount), factor*baseline)
	}
	if float64(count) <= threshold || threshold <= 0 {
		return 0
	}
	return float64(count) / threshold
}
